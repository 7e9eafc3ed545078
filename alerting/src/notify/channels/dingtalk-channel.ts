import { createHmac } from 'node:crypto';
import type { DingtalkChannelConfig } from '../channel-config.js';
import { formatNotification, truncateUtf8 } from '../message-format.js';
import type { AlertNotification } from '../notification.js';
import type { NotificationChannel, SendContext, SendResult } from '../notification-channel.js';
import { errcodeResult } from './errcode-result.js';
import { JsonPostChannel } from './json-post-channel.js';

/** DingTalk accepts up to 20,000 bytes of message content. */
const CONTENT_MAX_BYTES = 20_000;

/**
 * DingTalk errcodes worth another attempt: -1 system busy, 130101 sending too fast (20 messages
 * a minute per robot, then throttled for 10 minutes). 310000 (signature, keyword or IP check
 * failed), 300001 (no such token) and the others are configuration.
 */
const RETRYABLE_ERRCODES = new Set([-1, 130101]);

/**
 * 加签: HMAC-SHA256 keyed with the secret over `${timestamp}\n${secret}`, Base64; the caller
 * URL-encodes it into `sign`. `timestamp` is ms and must be within an hour of DingTalk's clock.
 */
export function dingtalkSign(timestampMs: number, secret: string): string {
  return createHmac('sha256', secret).update(`${timestampMs}\n${secret}`, 'utf8').digest('base64');
}

/** DingTalk custom robot (自定义机器人): POST JSON to the webhook, `at.atMobiles` rings phones. */
export class DingtalkChannel extends JsonPostChannel<DingtalkChannelConfig> implements NotificationChannel {
  readonly type = 'dingtalk' as const;

  body(n: AlertNotification): Record<string, unknown> {
    const msg = formatNotification(n, this.clock());
    const atMobiles = [...new Set(n.recipients.flatMap((r) => (r.phone ? [r.phone] : [])))];
    const atUserIds = [...new Set(n.recipients.flatMap((r) => (r.dingtalkUserId ? [r.dingtalkUserId] : [])))];
    const at = { atMobiles, atUserIds, isAtAll: false };
    if (this.config.msgtype === 'text') {
      return { msgtype: 'text', text: { content: truncateUtf8(msg.text, CONTENT_MAX_BYTES) }, at };
    }
    // In markdown the robot only highlights a mention whose `@phone` / `@userId` is in the text.
    const mentions = [...atMobiles, ...atUserIds].map((m) => `@${m}`).join(' ');
    const text = mentions === '' ? msg.markdown : `${msg.markdown}\n\n${mentions}`;
    return { msgtype: 'markdown', markdown: { title: msg.title, text: truncateUtf8(text, CONTENT_MAX_BYTES) }, at };
  }

  /** The webhook URL with `timestamp` and `sign` when the robot has a secret. */
  url(now: number): URL {
    const url = new URL(this.config.webhookUrl);
    if (this.config.secret !== undefined) {
      url.searchParams.set('timestamp', String(now));
      // URLSearchParams percent-encodes the Base64 (`+`, `/`, `=`): the urlEncode step of 加签.
      url.searchParams.set('sign', dingtalkSign(now, this.config.secret));
    }
    return url;
  }

  async send(n: AlertNotification, ctx: SendContext): Promise<SendResult> {
    const out = await this.post(this.url(this.clock()), JSON.stringify(this.body(n)), ctx.signal);
    if (!out.ok) return out.failure;
    return errcodeResult(out.response.json, out.response.text, RETRYABLE_ERRCODES);
  }
}
