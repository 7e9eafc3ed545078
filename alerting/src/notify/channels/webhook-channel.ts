import { createHmac } from 'node:crypto';
import type { WebhookChannelConfig } from '../channel-config.js';
import { formatNotification } from '../message-format.js';
import type { AlertNotification } from '../notification.js';
import type { NotificationChannel, SendContext, SendResult } from '../notification-channel.js';
import { JsonPostChannel } from './json-post-channel.js';

export const WEBHOOK_SIGNATURE_HEADER = 'x-anlian-signature';
export const WEBHOOK_EVENT_TYPE = 'anlian.alert.notification';

/** `v1` of `X-Anlian-Signature`: hex HMAC-SHA256 keyed with the secret over `${t}.${body}`. */
export function webhookSignature(secret: string, timestampS: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestampS}.${body}`, 'utf8').digest('hex');
}

/**
 * A generic signed JSON webhook. The body is the same on every attempt of a delivery (the
 * attempt number is a header), so a receiver that stores `Idempotency-Key` with the body can
 * answer a repeat from its store. Receivers verify `X-Anlian-Signature: t=<unix s>,v1=<hex>`
 * and reject stale `t` to stop replays. 2xx is delivered; `id` in a JSON answer is the receipt.
 */
export class WebhookChannel extends JsonPostChannel<WebhookChannelConfig> implements NotificationChannel {
  readonly type = 'webhook' as const;

  body(n: AlertNotification, idempotencyKey: string, now: number): Record<string, unknown> {
    return {
      type: WEBHOOK_EVENT_TYPE,
      version: 1,
      idempotencyKey,
      notification: n,
      message: formatNotification(n, now),
    };
  }

  async send(n: AlertNotification, ctx: SendContext): Promise<SendResult> {
    const now = this.clock();
    const body = JSON.stringify(this.body(n, ctx.idempotencyKey, now));
    const t = Math.floor(now / 1000);
    const out = await this.post(this.config.url, body, ctx.signal, {
      ...this.config.headers,
      'idempotency-key': ctx.idempotencyKey,
      'x-anlian-attempt': String(ctx.attempt),
      [WEBHOOK_SIGNATURE_HEADER]: `t=${t},v1=${webhookSignature(this.config.secret, t, body)}`,
    });
    if (!out.ok) return out.failure;
    const id = (out.response.json as { id?: unknown } | undefined)?.id;
    const receipt = typeof id === 'string' ? id : (out.response.headers.get('x-request-id') ?? undefined);
    return receipt === undefined ? { status: 'sent' } : { status: 'sent', receipt };
  }
}
