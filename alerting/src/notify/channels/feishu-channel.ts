import { createHmac } from 'node:crypto';
import type { FeishuChannelConfig } from '../channel-config.js';
import { quote } from '../http-attempt.js';
import { formatNotification, truncateUtf8 } from '../message-format.js';
import type { AlertNotification } from '../notification.js';
import type { NotificationChannel, SendContext, SendResult } from '../notification-channel.js';
import { JsonPostChannel } from './json-post-channel.js';

/** Feishu rejects request bodies over 20 KB; leave room for the JSON around the text. */
const TEXT_MAX_BYTES = 18_000;

/**
 * Feishu codes worth another attempt: 11232 frequency limited (100 a minute, 5 a second per
 * bot). 19021 (signature), 19022 (IP), 19024 (keyword), 9499 (bad request) are configuration.
 */
const RETRYABLE_CODES = new Set([11232]);

/**
 * 签名校验: HMAC-SHA256 keyed with `${timestamp}\n${secret}` over an empty message, Base64.
 * `timestamp` is in seconds and must be within an hour of Feishu's clock.
 */
export function feishuSign(timestampS: number, secret: string): string {
  return createHmac('sha256', `${timestampS}\n${secret}`).update('').digest('base64');
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Feishu custom bot (自定义机器人): POST JSON; `code` 0 is success, whatever the HTTP status. */
export class FeishuChannel extends JsonPostChannel<FeishuChannelConfig> implements NotificationChannel {
  readonly type = 'feishu' as const;

  body(n: AlertNotification, now: number): Record<string, unknown> {
    const msg = formatNotification(n, now);
    const mentions = n.recipients
      .flatMap((r) => (r.feishuUserId ? [`<at user_id="${escapeXml(r.feishuUserId)}">${escapeXml(r.name)}</at>`] : []))
      .join(' ');
    const text = truncateUtf8(mentions === '' ? msg.text : `${msg.text}\n${mentions}`, TEXT_MAX_BYTES);
    const body: Record<string, unknown> = { msg_type: 'text', content: { text } };
    if (this.config.secret !== undefined) {
      const timestamp = Math.floor(now / 1000);
      body.timestamp = String(timestamp);
      body.sign = feishuSign(timestamp, this.config.secret);
    }
    return body;
  }

  async send(n: AlertNotification, ctx: SendContext): Promise<SendResult> {
    const out = await this.post(this.config.webhookUrl, JSON.stringify(this.body(n, this.clock())), ctx.signal);
    if (out.ok) return feishuResult(out.response.json, out.response.text);
    // Feishu answers some rejections with HTTP 400 and a `code` (9499, 19021): the code says more.
    if (out.response !== undefined && out.response.status < 500 && hasCode(out.response.json)) {
      const result = feishuResult(out.response.json, out.response.text);
      if (result.status === 'failed' && out.failure.retryAfterMs !== undefined) {
        result.retryAfterMs = out.failure.retryAfterMs;
      }
      return result;
    }
    return out.failure;
  }
}

function hasCode(json: unknown): boolean {
  return typeof (json as { code?: unknown } | undefined)?.code === 'number';
}

function feishuResult(json: unknown, text: string): SendResult {
  const body = json as { code?: unknown; msg?: unknown; StatusCode?: unknown } | undefined;
  // Older bots answer `{ StatusCode: 0, StatusMessage: 'success' }` without `code`.
  const code = typeof body?.code === 'number' ? body.code : body?.StatusCode;
  if (typeof code !== 'number')
    return { status: 'failed', retryable: true, error: `unexpected answer: ${quote(text)}` };
  if (code === 0) return { status: 'sent' };
  return {
    status: 'failed',
    retryable: RETRYABLE_CODES.has(code),
    error: `code ${code}: ${typeof body?.msg === 'string' ? body.msg : quote(text)}`,
  };
}
