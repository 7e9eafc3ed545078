export * from './county.js';
export * from './decode.js';
export * from './ids.js';
export type * from './ingest-event.js';
export * from './payloads.js';
export * from './source-positions.js';
export * from './topics.js';
