/**
 * Error codes of the InfluxDB storage path (`ANL_ERR_…`, in the manner of fastify's `FST_ERR_…`).
 * Callers branch on `code`, never on the message.
 */
export type InfluxErrorCode =
  | 'ANL_ERR_SPOOL_FULL'
  | 'ANL_ERR_SPOOL_CLOSED'
  | 'ANL_ERR_SPOOL_IO'
  | 'ANL_ERR_WRITER_NOT_STARTED'
  | 'ANL_ERR_WRITER_STOPPED'
  | 'ANL_ERR_INFLUX_TARGET'
  | 'ANL_ERR_INFLUX_QUERY'
  | 'ANL_ERR_INFLUX_SETUP'
  | 'ANL_ERR_INFLUX_MISSING';

export class InfluxError extends Error {
  constructor(
    readonly code: InfluxErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${code}: ${message}`, options);
    this.name = 'InfluxError';
  }
}

/** True when `err` is an {@link InfluxError} with the given code. */
export function isInfluxError(err: unknown, code?: InfluxErrorCode): err is InfluxError {
  return err instanceof InfluxError && (code === undefined || err.code === code);
}
