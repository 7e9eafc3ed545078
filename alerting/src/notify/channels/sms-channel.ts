import type { SmsChannelConfig } from '../channel-config.js';
import { smsTemplateParams } from '../message-format.js';
import type { AlertNotification, Recipient } from '../notification.js';
import {
  type ChannelPolicy,
  channelPolicy,
  type NotificationChannel,
  type SendContext,
  type SendResult,
} from '../notification-channel.js';
import type { SmsProvider } from './sms-provider.js';

/**
 * SMS: one delivery per recipient phone (`fanOut: 'recipient'`), so a bad number or a
 * throttled one does not hold back or repeat the others. Drills use `drillTemplateCode` when
 * there is one (its approved text says 演练); otherwise the `tag` variable carries 演练.
 */
export class SmsChannel implements NotificationChannel {
  readonly type = 'sms' as const;
  readonly fanOut = 'recipient' as const;
  readonly id: string;
  readonly policy: ChannelPolicy;

  constructor(
    private readonly config: SmsChannelConfig,
    private readonly provider: SmsProvider,
    private readonly clock: () => number = Date.now,
  ) {
    this.id = config.id;
    this.policy = channelPolicy(config);
  }

  reachable(recipient: Recipient): boolean {
    return recipient.phone !== undefined && recipient.phone !== '';
  }

  async send(n: AlertNotification, ctx: SendContext): Promise<SendResult> {
    const phone = ctx.recipient?.phone;
    if (phone === undefined || phone === '') {
      return { status: 'failed', retryable: false, error: 'recipient has no phone number' };
    }
    return this.provider.send({
      phone,
      templateCode: n.drill ? (this.config.drillTemplateCode ?? this.config.templateCode) : this.config.templateCode,
      params: smsTemplateParams(n, this.clock()),
      outId: ctx.idempotencyKey,
      signal: ctx.signal,
    });
  }
}
