import type { Severity } from '../rules/rule-schema.js';
import type { ChannelConfig, ChannelType, DrillPolicy } from './channel-config.js';
import type { AlertNotification, Recipient } from './notification.js';

export interface SendContext {
  /** The delivery id: the same on every attempt, so the receiver can drop a repeat. */
  idempotencyKey: string;
  /** 1 on the first attempt. */
  attempt: number;
  /** Aborted when the dispatcher stops or the alert is cancelled mid-request. */
  signal: AbortSignal;
  /** Set for channels that deliver per recipient (`fanOut: 'recipient'`, SMS): the one to reach. */
  recipient?: Recipient;
}

export type SendResult =
  | { status: 'sent'; receipt?: string }
  | {
      status: 'failed';
      /** Transport errors, timeouts, 5xx, 429 and vendor rate-limit codes are retryable; bad config is not. */
      retryable: boolean;
      error: string;
      /** The vendor asked us to wait this long (Retry-After). */
      retryAfterMs?: number;
    };

export type SendFailure = Extract<SendResult, { status: 'failed' }>;

/** How the dispatcher filters notifications for a channel (from its config). */
export interface ChannelPolicy {
  enabled: boolean;
  drill: DrillPolicy;
  minSeverity?: Severity;
}

/**
 * One configured push target. `send` never throws and never retries: it makes one attempt and
 * says whether another one could help; retries, backoff and records are the dispatcher's.
 */
export interface NotificationChannel {
  readonly id: string;
  readonly type: ChannelType;
  readonly policy: ChannelPolicy;
  /** `channel`: one delivery reaches everybody (a group bot); `recipient`: one delivery per person (SMS). */
  readonly fanOut: 'channel' | 'recipient';
  /** For `fanOut: 'recipient'`: whether this person has an address here; others are recorded as skipped. */
  reachable?(recipient: Recipient): boolean;
  send(n: AlertNotification, ctx: SendContext): Promise<SendResult>;
}

/** The policy part of a channel's config. */
export function channelPolicy(config: ChannelConfig): ChannelPolicy {
  return {
    enabled: config.enabled,
    drill: config.drill,
    ...(config.minSeverity === undefined ? {} : { minSeverity: config.minSeverity }),
  };
}
