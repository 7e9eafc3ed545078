import type { WecomChannelConfig } from '../channel-config.js';
import { httpAttempt, jsonHeaders } from '../http-attempt.js';
import { formatNotification, truncateUtf8 } from '../message-format.js';
import type { AlertNotification } from '../notification.js';
import {
  type ChannelPolicy,
  channelPolicy,
  type NotificationChannel,
  type SendContext,
  type SendResult,
} from '../notification-channel.js';
import type { ChannelDeps } from './channel-deps.js';
import { errcodeResult } from './errcode-result.js';

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
export class WecomChannel implements NotificationChannel {
  readonly type = 'wecom' as const;
  readonly fanOut = 'channel' as const;
  readonly id: string;
  readonly policy: ChannelPolicy;

  constructor(
    private readonly config: WecomChannelConfig,
    private readonly deps: ChannelDeps = {},
  ) {
    this.id = config.id;
    this.policy = channelPolicy(config);
  }

  /** The JSON body for `n`; exported shape so tests can compare it field by field. */
  body(n: AlertNotification): Record<string, unknown> {
    const now = (this.deps.clock ?? Date.now)();
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
    const out = await httpAttempt(
      this.deps.fetch ?? fetch,
      {
        url: this.config.webhookUrl,
        headers: jsonHeaders(),
        body: JSON.stringify(this.body(n)),
        timeoutMs: this.config.timeoutMs,
        signal: ctx.signal,
      },
      this.deps.clock ?? Date.now,
    );
    if (!out.ok) return out.failure;
    return errcodeResult(out.response.json, out.response.text, RETRYABLE_ERRCODES);
  }
}
