/**
 * @anlian/ingest — the county ingest service (the operational store is `@anlian/store`).
 *
 * - `startIngest(config, logger)`: store, InfluxDB writer, broker and health server, started.
 * - `buildIngestService(deps)`: the same wiring from parts, not started (tests, `anlian up`).
 * InfluxDB access is `@anlian/timeseries`; logs, metrics and health routes `@anlian/runtime`.
 */

export { EmbeddedBroker, type InProcessMqtt } from './broker/embedded-broker.js';
export type { InboundMessage, MessageHandler, MessageSource } from './broker/message-source.js';
export { mosquittoConfigSnippet, writeMosquittoAuthFiles } from './broker/mosquitto-config.js';
export { describeIngestConfig, type IngestConfig, loadIngestConfig } from './config.js';
export { IngestError } from './errors.js';
export { buildIngestService, type IngestService, type IngestServiceDeps } from './ingest-service.js';
export { type RunningIngest, startIngest } from './main.js';
export type { IngestEvent, IngestEventListener } from './pipeline/ingest-event.js';
