import type { ChannelType } from '../../src/notify/channel-config.js';
import type { AlertNotification, Recipient } from '../../src/notify/notification.js';
import type {
  ChannelPolicy,
  NotificationChannel,
  SendContext,
  SendResult,
} from '../../src/notify/notification-channel.js';

/** A channel that records its calls (synchronously, as a real one starts its request) and answers from a script. */
export class FakeChannel implements NotificationChannel {
  readonly calls: { n: AlertNotification; ctx: SendContext }[] = [];
  readonly policy: ChannelPolicy;
  readonly fanOut: 'channel' | 'recipient';

  constructor(
    readonly id: string,
    private readonly answer: (call: number) => SendResult | Promise<SendResult> = () => ({ status: 'sent' }),
    opts: { policy?: Partial<ChannelPolicy>; fanOut?: 'channel' | 'recipient'; type?: ChannelType } = {},
  ) {
    this.policy = { enabled: true, drill: 'send', ...opts.policy };
    this.fanOut = opts.fanOut ?? 'channel';
    this.type = opts.type ?? 'webhook';
  }

  readonly type: ChannelType;

  reachable(r: Recipient): boolean {
    return this.fanOut !== 'recipient' || r.phone !== undefined;
  }

  async send(n: AlertNotification, ctx: SendContext): Promise<SendResult> {
    this.calls.push({ n, ctx });
    return this.answer(this.calls.length - 1);
  }
}

export const retryable = (error = 'HTTP 503', retryAfterMs?: number): SendResult => ({
  status: 'failed',
  retryable: true,
  error,
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
});

/** Polls with real timers until `cond` holds. */
export async function until(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}
