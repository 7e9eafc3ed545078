/**
 * The supervision error catalogue (like fastify's `FST_ERR_…`): every error it throws on purpose
 * carries one of these codes and the HTTP status an API answers it with.
 */
export const SupervisionErrorCode = {
  /** No hazard, inspection, checklist, photo or draw with that id. */
  NOT_FOUND: 'ANL_SUP_NOT_FOUND',
  /** The hazard's status does not allow that step (e.g. reviewing a hazard nobody submitted). */
  TRANSITION_INVALID: 'ANL_SUP_TRANSITION_INVALID',
  /** A value does not fit: an owner who is not a contact of the institution, a deadline in the past. */
  INVALID: 'ANL_SUP_INVALID',
  /** A grading policy, source configuration or checklist does not match its schema. */
  CONFIG_INVALID: 'ANL_SUP_CONFIG_INVALID',
  /** A photo is too large or not an image. */
  PHOTO_INVALID: 'ANL_SUP_PHOTO_INVALID',
  /** The inspection was submitted already. */
  INSPECTION_SUBMITTED: 'ANL_SUP_INSPECTION_SUBMITTED',
} as const;
export type SupervisionErrorCode = (typeof SupervisionErrorCode)[keyof typeof SupervisionErrorCode];

const STATUS: Record<SupervisionErrorCode, number> = {
  ANL_SUP_NOT_FOUND: 404,
  ANL_SUP_TRANSITION_INVALID: 409,
  ANL_SUP_INVALID: 400,
  ANL_SUP_CONFIG_INVALID: 400,
  ANL_SUP_PHOTO_INVALID: 400,
  ANL_SUP_INSPECTION_SUBMITTED: 409,
};

export class SupervisionError extends Error {
  override readonly name = 'SupervisionError';
  readonly statusCode: number;

  constructor(
    readonly code: SupervisionErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    // The code leads the message, as the other packages' errors do, so that it shows in any log.
    super(`${code}: ${message}`, options);
    this.statusCode = STATUS[code];
  }
}

export function isSupervisionError(err: unknown): err is SupervisionError {
  return err instanceof SupervisionError;
}
