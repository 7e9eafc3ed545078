/** The store's error catalogue: every error it throws on purpose carries one of these codes. */
export const StoreErrorCode = {
  /** A county file is not valid JSON or does not match the protocol's `CountyConfig`. */
  COUNTY_INVALID: 'ANL_ERR_COUNTY_INVALID',
  /** A county file could not be read. */
  COUNTY_UNREADABLE: 'ANL_ERR_COUNTY_UNREADABLE',
  /** Neither a PostgreSQL URL nor a SQLite path was given, or the URL is of an unknown kind. */
  DATABASE_CONFIG: 'ANL_ERR_DATABASE_CONFIG',
  /** A migration failed; the database is left at the last migration that succeeded. */
  MIGRATION_FAILED: 'ANL_ERR_MIGRATION_FAILED',
  /** An operation names a gateway that is not registered. */
  GATEWAY_UNKNOWN: 'ANL_ERR_GATEWAY_UNKNOWN',
  /** A gateway secret that does not meet the protocol's length rule. */
  SECRET_INVALID: 'ANL_ERR_SECRET_INVALID',
  /** Too many password verifications are waiting (`VerificationGate`): refused without hashing. */
  BUSY: 'ANL_ERR_VERIFY_BUSY',
} as const;
export type StoreErrorCode = (typeof StoreErrorCode)[keyof typeof StoreErrorCode];

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: ErrorOptions) {
    // The code leads the message, as IngestError does, so that it shows in any log or terminal.
    super(`${code}: ${message}`, options);
    this.name = 'StoreError';
    this.code = code;
  }
}
