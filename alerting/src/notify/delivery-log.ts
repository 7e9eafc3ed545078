import type { ChannelType } from './channel-config.js';

/**
 * - `sent`: this attempt was accepted by the channel (vendor receipt when there is one).
 * - `retrying`: this attempt failed; another is scheduled.
 * - `failed`: this attempt failed and retrying cannot help (bad config, rejected request).
 * - `gave_up`: this attempt failed retryably but the attempts are used up, or the delivery was
 *   cancelled (alert acknowledged) or the dispatcher stopped before it could be sent.
 * - `skipped`: the channel's policy (disabled, drill, minimum severity) or a missing address
 *   excluded it, or it had already been sent; `attempt` is 0.
 */
export type DeliveryStatus = 'sent' | 'failed' | 'retrying' | 'gave_up' | 'skipped';

/** One attempt (or one decision not to attempt) of one delivery. */
export interface DeliveryRecord {
  /** `${notificationId}:${channelId}[:${contactId}]`: also the idempotency key sent to the channel. */
  deliveryId: string;
  notificationId: string;
  alertId: string;
  channelId: string;
  channelType: ChannelType;
  /** For per-recipient channels (SMS). */
  contactId?: string;
  /** 1-based; 0 when no attempt was made. */
  attempt: number;
  status: DeliveryStatus;
  /** ms since epoch when the attempt finished (or the decision was made). */
  at: number;
  error?: string;
  /** The vendor's id for the message (Aliyun `BizId`, a webhook's `id`). */
  receipt?: string;
  /** Duration of this attempt's request. */
  latencyMs?: number;
  /** When the next attempt is due (status `retrying`). */
  nextAttemptAt?: number;
  drill?: boolean;
}

/**
 * Where attempt records go. `record` is called without being awaited on the send path; a
 * rejection or throw is logged and counted and never stops a delivery.
 */
export interface DeliveryLog {
  record(r: DeliveryRecord): void | Promise<void>;
  /**
   * Delivery ids with a `sent` record for this alert. `NotificationDispatcher.loadSent` asks
   * for it after a restart, so a re-dispatched level does not push again what already went out.
   */
  sentKeys?(alertId: string): Promise<Set<string>>;
}
