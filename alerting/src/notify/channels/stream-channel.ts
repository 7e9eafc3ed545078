import type { StreamChannelConfig } from '../channel-config.js';
import { formatNotification } from '../message-format.js';
import type { AlertNotification } from '../notification.js';
import {
  type ChannelPolicy,
  channelPolicy,
  type NotificationChannel,
  type SendContext,
  type SendResult,
} from '../notification-channel.js';
import type { NotificationStream } from './notification-stream.js';

/**
 * The dashboard's live feed. Publishing cannot fail in a way a retry would fix, so it is always
 * `sent`; with nobody subscribed the dashboard catches up from the alert store when it connects.
 */
export class StreamChannel implements NotificationChannel {
  readonly type = 'stream' as const;
  readonly fanOut = 'channel' as const;
  readonly id: string;
  readonly policy: ChannelPolicy;

  constructor(
    config: StreamChannelConfig,
    private readonly stream: NotificationStream,
    private readonly clock: () => number = Date.now,
  ) {
    this.id = config.id;
    this.policy = channelPolicy(config);
  }

  async send(n: AlertNotification, ctx: SendContext): Promise<SendResult> {
    const delivered = this.stream.publish({
      deliveryId: ctx.idempotencyKey,
      channelId: this.id,
      notification: n,
      message: formatNotification(n, this.clock()),
    });
    return { status: 'sent', receipt: `subscribers=${delivered}` };
  }
}
