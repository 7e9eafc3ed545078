/**
 * The dashboard's error catalogue (like fastify's `FST_ERR_…`): every error it answers or throws
 * on purpose carries one of these codes and the HTTP status it maps to.
 */
export const DashboardErrorCode = {
  /** No valid session or kiosk token. */
  UNAUTHENTICATED: 'ANL_DASH_UNAUTHENTICATED',
  /** Wrong username or password (never says which). */
  LOGIN_FAILED: 'ANL_DASH_LOGIN_FAILED',
  /** The role or the institution scope does not allow the action. */
  FORBIDDEN: 'ANL_DASH_FORBIDDEN',
  NOT_FOUND: 'ANL_DASH_NOT_FOUND',
  /** A request body, query or parameter does not match its schema. */
  BAD_REQUEST: 'ANL_DASH_BAD_REQUEST',
  /** The alert lifecycle refused a transition, or a unique value is taken. */
  CONFLICT: 'ANL_DASH_CONFLICT',
  /** Too many login attempts. */
  RATE_LIMITED: 'ANL_DASH_RATE_LIMITED',
  /** InfluxDB did not answer a history query. */
  HISTORY_UNAVAILABLE: 'ANL_DASH_HISTORY_UNAVAILABLE',
  /** A spreadsheet to import is unreadable or does not describe a valid county. */
  IMPORT_INVALID: 'ANL_DASH_IMPORT_INVALID',
  /** The dashboard's configuration is invalid. */
  CONFIG: 'ANL_DASH_CONFIG',
  /** The built web app (web-dist) is missing. */
  WEB_MISSING: 'ANL_DASH_WEB_MISSING',
} as const;
export type DashboardErrorCode = (typeof DashboardErrorCode)[keyof typeof DashboardErrorCode];

const STATUS: Record<DashboardErrorCode, number> = {
  ANL_DASH_UNAUTHENTICATED: 401,
  ANL_DASH_LOGIN_FAILED: 401,
  ANL_DASH_FORBIDDEN: 403,
  ANL_DASH_NOT_FOUND: 404,
  ANL_DASH_BAD_REQUEST: 400,
  ANL_DASH_CONFLICT: 409,
  ANL_DASH_RATE_LIMITED: 429,
  ANL_DASH_HISTORY_UNAVAILABLE: 503,
  ANL_DASH_IMPORT_INVALID: 400,
  ANL_DASH_CONFIG: 500,
  ANL_DASH_WEB_MISSING: 500,
};

export class DashboardError extends Error {
  override readonly name = 'DashboardError';
  readonly statusCode: number;

  constructor(
    readonly code: DashboardErrorCode,
    message: string,
    options?: ErrorOptions & { details?: unknown },
  ) {
    // The code leads the message, as ingest's errors do, so that it shows in any log.
    super(`${code}: ${message}`, options);
    this.statusCode = STATUS[code];
    this.details = options?.details;
  }

  readonly details: unknown;
}
