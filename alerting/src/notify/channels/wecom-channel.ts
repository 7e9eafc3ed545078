import type { WecomChannelConfig } from '../channel-config.js';
import { formatNotification, truncateUtf8 } from '../message-format.js';
import type { AlertNotification } from '../notification.js';
import type { NotificationChannel, SendContext, SendResult } from '../notification-channel.js';
import { errcodeResult } from './errcode-result.js';
import { JsonPostChannel } from './json-post-channel.js';

/** WeCom caps text content at 2048 bytes and markdown at 4096 (UTF-8). */
const TEXT_MAX_BYTES = 2048;
const MARKDOWN_MAX_BYTES = 4096;

/**
 * WeCom errcodes worth another attempt: -1 system busy, 45009 over the bot's rate limit
 * (20 messages a minute per bot). Anything else non-zero (93000 bad webhook key, 40008 bad
 * message type, …) is configuration and will not heal by itself.
 */
const RETRYABLE_ERRCODES = new Set([-1, 45009]);

/** WeCom group bot (群机器人): POST JSON to the webhook; `errcode` 0 is success, even on HTTP 200. */
export class WecomChannel extends JsonPostChannel<WecomChannelConfig> implements NotificationChannel {
  readonly type = 'wecom' as const;

  /** The JSON body for `n`; exported shape so tests can compare it field by field. */
  body(n: AlertNotification): Record<string, unknown> {
    const now = this.clock();
    const msg = formatNotification(n, now);
    const mobiles = [...new Set(n.recipients.flatMap((r) => (r.phone ? [r.phone] : [])))];
    const userIds = [...new Set(n.recipients.flatMap((r) => (r.wecomUserId ? [r.wecomUserId] : [])))];
    if (this.config.msgtype === 'markdown') {
      // Markdown messages cannot carry mention lists; `<@userid>` in the content mentions instead.
      const mentions = userIds.map((u) => `<@${u}>`).join(' ');
      const content = mentions === '' ? msg.markdown : `${msg.markdown}\n\n${mentions}`;
      return { msgtype: 'markdown', markdown: { content: truncateUtf8(content, MARKDOWN_MAX_BYTES) } };
    }
    return {
      msgtype: 'text',
      text: {
        content: truncateUtf8(msg.text, TEXT_MAX_BYTES),
        ...(userIds.length > 0 ? { mentioned_list: userIds } : {}),
        ...(mobiles.length > 0 ? { mentioned_mobile_list: mobiles } : {}),
      },
    };
  }

  async send(n: AlertNotification, ctx: SendContext): Promise<SendResult> {
    const out = await this.post(this.config.webhookUrl, JSON.stringify(this.body(n)), ctx.signal);
    if (!out.ok) return out.failure;
    return errcodeResult(out.response.json, out.response.text, RETRYABLE_ERRCODES);
  }
}
