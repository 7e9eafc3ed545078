/**
 * The gateway error catalogue. Codes are stable and greppable, like fastify's `FST_ERR_…`;
 * `anlian` prints a coded error's message without a stack trace (it is the user's to fix).
 */
export const GatewayErrorCodes = {
  ANL_GW_CONFIG: 'invalid gateway configuration',
  ANL_GW_CONFIG_RELOAD: 'the new configuration cannot be applied without a restart',
  ANL_GW_QUEUE_LOCKED: 'another gateway process holds the queue directory',
  ANL_GW_QUEUE_IO: 'the outbound queue could not be written',
  ANL_GW_NOT_STARTED: 'the unit has not been started',
} as const;
export type GatewayErrorCode = keyof typeof GatewayErrorCodes;

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;
  constructor(code: GatewayErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.name = 'GatewayError';
    this.code = code;
  }
}
