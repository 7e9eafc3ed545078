export * from './data-unit.js';
export * from './dialect.js';
export * from './frame.js';
export * from './frame-decoder.js';
export * from './gb18030-text.js';
export * from './status-bits.js';
export * from './tables.js';
export * from './time-label.js';
