import { ApiError } from './api-client';
import { type MessageKey, t } from './i18n';

/**
 * What a failed request means to the person who made it, in their language: never the server's
 * `ANL_…` code or its English message (those are in the server's log, by request id).
 */
const BY_CODE: Readonly<Record<string, MessageKey>> = {
  ANL_ALERT_TRANSITION_INVALID: 'errAlertChanged',
  ANL_ALERT_NOT_FOUND: 'errAlertGone',
  ANL_ALERT_REQUEST_INVALID: 'errBadRequest',
  ANL_DASH_BAD_REQUEST: 'errBadRequest',
  ANL_DASH_NOT_FOUND: 'errNotFound',
  ANL_DASH_FORBIDDEN: 'errForbidden',
  ANL_DASH_UNAUTHENTICATED: 'sessionExpired',
  ANL_DASH_LOGIN_FAILED: 'loginFailed',
  ANL_DASH_RATE_LIMITED: 'rateLimited',
};

export function errorText(err: unknown): string {
  if (!(err instanceof ApiError)) return t('errNetwork');
  const key = BY_CODE[err.code];
  if (key) return t(key);
  if (err.status === 429) return t('rateLimited');
  return t(err.status >= 500 ? 'errServer' : 'errOther');
}
