/**
 * @anlian/ingest — the county ingest service (the operational store is `@anlian/store`).
 *
 * - `startIngest(config, logger)`: store, InfluxDB writer, broker and health server, started.
 * - `buildIngestService(deps)`: the same wiring from parts, not started (tests, `anlian up`).
 * - `InfluxWriter`, `queryV1`, `startInfluxd`: the storage path.
 */
export type { InboundMessage, MessageHandler, MessageSource } from './broker/message-source.js';
export { mosquittoConfigSnippet, writeMosquittoAuthFiles } from './broker/mosquitto-config.js';
export { describeIngestConfig, type IngestConfig, loadIngestConfig } from './config.js';
export { hasCode, IngestError } from './errors.js';
export type { InfluxTarget } from './influx/influx-target.js';
export { InfluxWriter } from './influx/influx-writer.js';
export { type Influxd, type InfluxdOptions, startInfluxd } from './influx/local-influxd.js';
export { queryV1 } from './influx/query.js';
export { buildIngestService, type IngestService, type IngestServiceDeps } from './ingest-service.js';
export { createLogger, type Logger, silentLogger } from './logger.js';
export { onShutdownSignal, openStore, type RunningIngest, startIngest } from './main.js';
export { createMetricsRegistry } from './metrics.js';
export {
  type PortReservation,
  type ReservePortOptions,
  reservablePortRange,
  reservePort,
} from './net/port-reservation.js';
export type { IngestEvent, IngestEventListener } from './pipeline/ingest-event.js';
export type { LineStore } from './pipeline/ingest-pipeline.js';
export {
  type DeviceState,
  type GatewayStateEntry,
  LatestStateCache,
  type LatestStateSnapshot,
} from './pipeline/latest-state-cache.js';
export { LineBuilder } from './pipeline/line-protocol.js';
