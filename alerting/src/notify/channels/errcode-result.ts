import { quote } from '../http-attempt.js';
import type { SendResult } from '../notification-channel.js';

/** `{ errcode, errmsg }` as WeCom and DingTalk answer: errcode 0 or bust. */
export function errcodeResult(json: unknown, text: string, retryable: ReadonlySet<number>): SendResult {
  const body = json as { errcode?: unknown; errmsg?: unknown } | undefined;
  if (typeof body?.errcode !== 'number') {
    return { status: 'failed', retryable: true, error: `unexpected answer: ${quote(text)}` };
  }
  if (body.errcode === 0) return { status: 'sent' };
  return {
    status: 'failed',
    retryable: retryable.has(body.errcode),
    error: `errcode ${body.errcode}: ${typeof body.errmsg === 'string' ? body.errmsg : quote(text)}`,
  };
}
