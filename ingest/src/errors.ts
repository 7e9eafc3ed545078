/**
 * The ingest error catalogue. Codes are stable and greppable, like fastify's `FST_ERR_…`.
 */
export const IngestErrorCodes = {
  ANL_ERR_CONFIG: 'invalid configuration',
  ANL_ERR_COUNTY_INVALID: 'invalid county file',
  ANL_ERR_SPOOL_FULL: 'the InfluxDB spool is full',
  ANL_ERR_INFLUX_MISSING: 'influxd is not installed',
  ANL_ERR_NOT_STARTED: 'the unit has not been started',
} as const;
export type IngestErrorCode = keyof typeof IngestErrorCodes;

export class IngestError extends Error {
  readonly code: IngestErrorCode;
  constructor(code: IngestErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'IngestError';
    this.code = code;
  }
}
