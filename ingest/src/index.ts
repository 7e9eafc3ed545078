/**
 * @anlian/ingest — the county ingest service and the operational store.
 *
 * - `startIngest(config, logger)`: store, InfluxDB writer, broker and health server, started.
 * - `buildIngestService(deps)`: the same wiring from parts, not started (tests, `anlian up`).
 * - `Registry`, `openDatabase`, `migrateToLatest`: the operational store (kysely).
 * - `InfluxWriter`, `queryV1`, `startInfluxd`: the storage path.
 */

export { EmbeddedBroker, type InProcessMqtt } from './broker/embedded-broker.js';
export type { InboundMessage, MessageHandler, MessageSource } from './broker/message-source.js';
export { describeIngestConfig, type IngestConfig, loadIngestConfig } from './config.js';
export { hasCode, IngestError } from './errors.js';
export type { GatewayDirectory, GatewayIdentity } from './gateway-directory.js';
export type { InfluxTarget } from './influx/influx-target.js';
export { InfluxWriter } from './influx/influx-writer.js';
export { type Influxd, type InfluxdOptions, startInfluxd } from './influx/local-influxd.js';
export { queryV1 } from './influx/query.js';
export { buildIngestService, type IngestService, type IngestServiceDeps } from './ingest-service.js';
export { stringifyInSlices } from './json-in-slices.js';
export { createLogger, type Logger, silentLogger } from './logger.js';
export { onShutdownSignal, openStore, type RunningIngest, startIngest } from './main.js';
export { createMetricsRegistry } from './metrics.js';
export type { IngestEvent, IngestEventListener } from './pipeline/ingest-event.js';
export type { LineStore } from './pipeline/ingest-pipeline.js';
export {
  type DeviceState,
  type GatewayStateEntry,
  LatestStateCache,
  type LatestStateSnapshot,
} from './pipeline/latest-state-cache.js';
export { LineBuilder } from './pipeline/line-protocol.js';
export * from './store/index.js';
