import { AlertingError } from '../errors.js';
import { httpStatusOf } from './alerting-api.js';

/**
 * An alerting error as the API throws it (in process or from `AlertingClient`): alerting's code (`ANL_ALERT_…`) with the HTTP status
 * alerting assigns it (`httpStatusOf`), which the dashboard's error handler answers as is.
 */
export class AlertLifecycleError extends Error {
  override readonly name = 'AlertLifecycleError';
  readonly statusCode: number;

  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions & { statusCode?: number; issues?: readonly { path: string; message: string }[] },
  ) {
    // The code leads the message, as alerting's own errors do.
    super(message.startsWith(`${code}: `) ? message : `${code}: ${message}`, options);
    this.statusCode = options?.statusCode ?? httpStatusOf(code);
    this.issues = options?.issues ?? [];
  }

  /** The request fields alerting refused (`scope.rule`, `endsAt`), for a form to show beside them. */
  readonly issues: readonly { path: string; message: string }[];

  /** The port's form of an `AlertingError`; anything else is returned unchanged. */
  static from(err: unknown): unknown {
    return err instanceof AlertingError
      ? new AlertLifecycleError(err.code, err.message, { cause: err, issues: err.issues })
      : err;
  }
}
