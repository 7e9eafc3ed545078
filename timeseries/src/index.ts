/**
 * @anlian/timeseries — InfluxDB for every county service: the durable line-protocol writer
 * (disk spool, batching, retries, dead letters), InfluxQL queries, the 1.x set-up (retention
 * policies, downsampling) and a local influxd for `anlian up` and the tests.
 */
export { DeadLetterFile, type RejectedLines } from './dead-letter-file.js';
export { InfluxError, type InfluxErrorCode, isInfluxError } from './errors.js';
export { freePort } from './free-port.js';
export { InfluxEnv, influxTargetFromEnv } from './influx-env.js';
export { authHeaders, type InfluxTarget, queryUrl, storageName, writeUrl } from './influx-target.js';
export { InfluxWriter, type InfluxWriterOptions, type InfluxWriterStats, type WriteOptions } from './influx-writer.js';
export { LineBuilder } from './line-builder.js';
export type { LineStore } from './line-store.js';
export { type Influxd, type InfluxdOptions, startInfluxd } from './local-influxd.js';
export {
  type InfluxSeries,
  type QueryOptions,
  querySeriesV1,
  queryV1,
  type StatementResult,
  seriesRows,
} from './query.js';
export {
  continuousQueryName,
  DOWNSAMPLED_MEASUREMENTS,
  ensureDatabaseV1,
  RETENTION_POLICIES,
  type RetentionPolicyName,
  renderSetupInfluxql,
  setupStatementsV1,
} from './setup-v1.js';
export { DEFAULT_SPOOL_MAX_BYTES } from './spool.js';
