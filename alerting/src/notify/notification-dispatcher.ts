import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { AlertingError, AlertingErrorCode } from '../errors.js';
import type { Severity } from '../rules/rule-schema.js';
import type { DeliveryLog, DeliveryRecord, DeliveryStatus } from './delivery-log.js';
import {
  type DeliveryRetryConfig,
  DispatcherConfig,
  type DispatcherConfigInput,
  retryDelayMs,
} from './dispatcher-config.js';
import { FairQueue } from './fair-queue.js';
import type { AlertNotification, Recipient } from './notification.js';
import type { NotificationChannel, SendResult } from './notification-channel.js';

/** An institution's channels plus the county-wide ones. */
export type ChannelDirectory = (institutionId: string) => readonly NotificationChannel[];

export interface NotificationDispatcherOptions {
  channels: ChannelDirectory;
  log: DeliveryLog;
  logger: Logger;
  metrics: Registry;
  /** ms since epoch. Default `Date.now`. */
  clock?: () => number;
  /** For backoff jitter. Default `Math.random`. */
  random?: () => number;
  retry?: Partial<DeliveryRetryConfig>;
  /** Concurrency, queue bound, drain time, memory of sent ids (`DispatcherConfig`). */
  config?: Omit<DispatcherConfigInput, 'retry'>;
}

type Lane = 'critical' | 'normal';

interface LaneQueue {
  readonly lane: Lane;
  readonly limit: number;
  inFlight: number;
  readonly queue: FairQueue<Delivery>;
}

interface Delivery {
  readonly key: string;
  readonly n: AlertNotification;
  readonly channel: NotificationChannel;
  readonly recipient: Recipient | undefined;
  readonly lane: Lane;
  readonly enqueuedAt: number;
  /** Attempts started. */
  attempt: number;
  state: 'queued' | 'sending' | 'waiting' | 'done';
  /** Set by `cancel` while a request is in flight: no retry after it. */
  cancelled: boolean;
  timer: NodeJS.Timeout | undefined;
  abort: AbortController | undefined;
}

interface Metrics {
  attempts: Counter<'channel_type' | 'status'>;
  dispatch: Histogram<'lane' | 'channel_type'>;
  delivered: Histogram<'lane' | 'channel_type'>;
  dropped: Counter<'reason'>;
  logFailures: Counter;
}

const SEVERITY_RANK: Record<Severity, number> = { info: 0, minor: 1, major: 2, critical: 3 };
const LOG_FAILURE_LOG_INTERVAL_MS = 10_000;

/**
 * Turns each `AlertNotification` into deliveries (one per channel, or per recipient on SMS),
 * sends them, retries them, and records every attempt.
 *
 * Priority and isolation (issue 4: a fire alarm's first dispatch never waits behind storage or
 * other traffic; bench target p99 ≤ 250 ms publish → first push):
 * - Critical notifications have their own lane per channel with its own concurrency slots:
 *   `dispatch` starts their first request synchronously, before it returns, and nothing
 *   (the delivery log included) is awaited before that.
 * - Other severities queue per channel with a small concurrency cap, round-robin between
 *   institutions, so a flood from one institution or a hanging endpoint delays only itself.
 *
 * Records go to the `DeliveryLog` without being awaited; a failing log is logged and counted and
 * never costs a send.
 */
export class NotificationDispatcher {
  private state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  private readonly config: DispatcherConfig;
  private readonly clock: () => number;
  private readonly random: () => number;
  private log: Logger;
  private m: Metrics | undefined;
  /** Per channel id. */
  private readonly lanes = new Map<string, { critical: LaneQueue; normal: LaneQueue }>();
  /** Deliveries not finished yet, by delivery id: a second dispatch of the same one is dropped. */
  private readonly active = new Map<string, Delivery>();
  private readonly byAlert = new Map<string, Set<Delivery>>();
  /** Delivery ids sent, per alert (insertion order = age, for forgetting the oldest). */
  private readonly sent = new Map<string, Set<string>>();
  private readonly inFlight = new Set<Promise<void>>();
  private queued = { critical: 0, normal: 0 };
  private logFailuresSinceLog = 0;
  private lastLogFailureLogAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: NotificationDispatcherOptions) {
    this.config = DispatcherConfig.parse({ ...opts.config, retry: opts.retry ?? {} });
    this.clock = opts.clock ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.log = opts.logger;
  }

  /** Registers metrics and starts sending what was dispatched before (queued, not lost). */
  start(): void {
    if (this.state !== 'new') {
      throw new AlertingError(AlertingErrorCode.DISPATCHER_STATE, `dispatcher cannot start: ${this.state}`);
    }
    this.log = this.opts.logger.child({ module: 'notification-dispatcher' });
    this.m = this.createMetrics(this.opts.metrics);
    this.state = 'running';
    for (const l of this.lanes.values()) {
      this.pump(l.critical);
      this.pump(l.normal);
    }
  }

  /**
   * Cancels retry timers and queued deliveries (recorded as `gave_up`, so a restart sends them
   * again), lets requests in flight finish for `drainMs`, then aborts them. No timer survives.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    for (const d of [...this.active.values()]) {
      if (d.state === 'queued' || d.state === 'waiting') this.giveUp(d, 'dispatcher stopped before delivery');
    }
    for (const l of this.lanes.values()) {
      l.critical.queue.drain();
      l.normal.queue.drain();
    }
    this.queued = { critical: 0, normal: 0 };
    if (this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const drained = Promise.allSettled([...this.inFlight]);
      await Promise.race([
        drained,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, this.config.drainMs);
        }),
      ]);
      clearTimeout(timer);
      if (this.inFlight.size > 0) {
        this.log.warn({ inFlight: this.inFlight.size }, 'aborting notification requests still in flight at stop');
        for (const d of this.active.values()) d.abort?.abort();
        await Promise.allSettled([...this.inFlight]);
      }
    }
    this.state = 'stopped';
    if (wasRunning) this.log.info('notification dispatcher stopped');
  }

  /**
   * Enqueues a notification; returns at once and never throws for a channel's sake. Critical
   * notifications have their first requests already started when this returns.
   */
  dispatch(n: AlertNotification): void {
    if (this.state === 'stopping' || this.state === 'stopped') {
      this.m?.dropped.inc({ reason: 'stopped' });
      this.log.error(
        { code: AlertingErrorCode.DISPATCHER_STATE, notificationId: n.notificationId, severity: n.severity },
        'notification dispatched after stop: not sent',
      );
      return;
    }
    let channels: readonly NotificationChannel[];
    try {
      channels = this.opts.channels(n.institution.id);
    } catch (err) {
      this.m?.dropped.inc({ reason: 'channel_lookup' });
      this.log.error(
        {
          err,
          code: AlertingErrorCode.CHANNEL_LOOKUP_FAILED,
          notificationId: n.notificationId,
          institution: n.institution.id,
        },
        'channel lookup failed: notification not sent',
      );
      return;
    }
    if (channels.length === 0) {
      this.log.warn({ notificationId: n.notificationId, institution: n.institution.id }, 'no notification channels');
    }
    const lane: Lane = n.severity === 'critical' ? 'critical' : 'normal';
    const now = this.clock();
    // Skips are recorded after the sends have started: nothing stands before a critical request.
    const skipped: DeliveryRecord[] = [];
    for (const channel of channels) {
      const policySkip = skipReason(channel, n);
      const targets: (Recipient | undefined)[] = channel.fanOut === 'recipient' ? n.recipients : [undefined];
      for (const recipient of targets) {
        const key = deliveryId(n.notificationId, channel.id, recipient?.contactId);
        let reason = policySkip;
        if (reason === undefined && recipient !== undefined && channel.reachable?.(recipient) === false) {
          reason = `no ${channel.type} address for ${recipient.contactId}`;
        }
        if (reason === undefined && this.sent.get(n.alertId)?.has(key)) reason = 'already sent';
        if (reason !== undefined) {
          skipped.push(
            this.recordOf(n, channel, recipient, key, { attempt: 0, status: 'skipped', at: now, error: reason }),
          );
          continue;
        }
        if (this.active.has(key)) {
          this.log.debug({ deliveryId: key }, 'delivery already in progress: repeat dispatch ignored');
          continue;
        }
        const d: Delivery = {
          key,
          n,
          channel,
          recipient,
          lane,
          enqueuedAt: now,
          attempt: 0,
          state: 'queued',
          cancelled: false,
          timer: undefined,
          abort: undefined,
        };
        this.active.set(key, d);
        let ofAlert = this.byAlert.get(n.alertId);
        if (ofAlert === undefined) {
          ofAlert = new Set();
          this.byAlert.set(n.alertId, ofAlert);
        }
        ofAlert.add(d);
        this.enqueue(d, true);
      }
    }
    for (const r of skipped) this.record(r);
  }

  /**
   * Drops queued deliveries and pending retries of an alert (acknowledged: escalation stops).
   * Requests already in flight finish but are not retried. Returns how many were dropped.
   */
  cancel(alertId: string): number {
    const ofAlert = this.byAlert.get(alertId);
    if (ofAlert === undefined) return 0;
    let dropped = 0;
    for (const d of [...ofAlert]) {
      if (d.state === 'queued' || d.state === 'waiting') {
        this.giveUp(d, 'cancelled: alert acknowledged');
        dropped++;
      } else if (d.state === 'sending') {
        d.cancelled = true;
      }
    }
    return dropped;
  }

  /**
   * After a restart: remembers what the delivery log says was already sent for these alerts, so
   * re-dispatching their current escalation level skips those deliveries. Await it before
   * re-dispatching open alerts (never on the path of a new alert).
   */
  async loadSent(alertIds: Iterable<string>): Promise<void> {
    const sentKeys = this.opts.log.sentKeys?.bind(this.opts.log);
    if (sentKeys === undefined) return;
    for (const alertId of alertIds) {
      for (const key of await sentKeys(alertId)) this.markSent(alertId, key);
    }
  }

  /** Deliveries waiting for a concurrency slot (not those waiting out a backoff). */
  queueDepth(lane?: Lane): number {
    return lane === undefined ? this.queued.critical + this.queued.normal : this.queued[lane];
  }

  private lanesFor(channelId: string): { critical: LaneQueue; normal: LaneQueue } {
    let l = this.lanes.get(channelId);
    if (l === undefined) {
      l = {
        critical: { lane: 'critical', limit: this.config.concurrency.critical, inFlight: 0, queue: new FairQueue() },
        normal: { lane: 'normal', limit: this.config.concurrency.normal, inFlight: 0, queue: new FairQueue() },
      };
      this.lanes.set(channelId, l);
    }
    return l;
  }

  private enqueue(d: Delivery, fresh: boolean): void {
    const q = this.lanesFor(d.channel.id)[d.lane];
    const institution = d.n.institution.id;
    // Only new non-critical work is bounded; a retry already holds its place in the count.
    if (fresh && d.lane === 'normal' && q.queue.sizeOf(institution) >= this.config.maxQueuedPerInstitution) {
      this.m?.dropped.inc({ reason: 'queue_full' });
      this.log.warn(
        { deliveryId: d.key, institution, channel: d.channel.id, limit: this.config.maxQueuedPerInstitution },
        'notification queue full for this institution and channel: delivery given up',
      );
      this.finish(d, { attempt: 0, status: 'gave_up', at: this.clock(), error: 'queue full' });
      return;
    }
    d.state = 'queued';
    q.queue.push(institution, d);
    this.queued[d.lane]++;
    if (this.state === 'running') this.pump(q);
  }

  private pump(q: LaneQueue): void {
    while (q.inFlight < q.limit) {
      const d = q.queue.shift();
      if (d === undefined) return;
      // Cancelled while queued: already recorded and uncounted.
      if (d.state !== 'queued') continue;
      this.queued[q.lane]--;
      this.attempt(d, q);
    }
  }

  private attempt(d: Delivery, q: LaneQueue): void {
    d.attempt++;
    d.state = 'sending';
    q.inFlight++;
    const abort = new AbortController();
    d.abort = abort;
    const started = this.clock();
    if (d.attempt === 1) {
      this.m?.dispatch.observe({ lane: d.lane, channel_type: d.channel.type }, (started - d.enqueuedAt) / 1000);
    }
    let pending: Promise<SendResult>;
    try {
      pending = d.channel.send(d.n, {
        idempotencyKey: d.key,
        attempt: d.attempt,
        signal: abort.signal,
        ...(d.recipient === undefined ? {} : { recipient: d.recipient }),
      });
    } catch (err) {
      pending = Promise.reject(err);
    }
    const settled = pending
      .catch((err: unknown): SendResult => {
        this.log.error(
          { err, code: AlertingErrorCode.CHANNEL_THREW, channel: d.channel.id, deliveryId: d.key },
          'notification channel threw instead of returning a result',
        );
        return { status: 'failed', retryable: true, error: `channel threw: ${errorMessage(err)}` };
      })
      .then((result) => this.settle(d, q, result, started))
      .catch((err: unknown) => {
        this.log.error({ err, deliveryId: d.key }, 'settling a notification attempt failed (a bug)');
      });
    this.inFlight.add(settled);
    void settled.finally(() => this.inFlight.delete(settled));
  }

  private settle(d: Delivery, q: LaneQueue, result: SendResult, started: number): void {
    q.inFlight--;
    d.abort = undefined;
    const now = this.clock();
    const latencyMs = now - started;
    if (result.status === 'sent') {
      this.markSent(d.n.alertId, d.key);
      this.m?.delivered.observe({ lane: d.lane, channel_type: d.channel.type }, (now - d.enqueuedAt) / 1000);
      this.finish(d, {
        attempt: d.attempt,
        status: 'sent',
        at: now,
        latencyMs,
        ...(result.receipt === undefined ? {} : { receipt: result.receipt }),
      });
    } else {
      const retry = this.config.retry;
      const canRetry = result.retryable && d.attempt < retry.maxAttempts && this.state === 'running' && !d.cancelled;
      if (canRetry) {
        const delay = retryDelayMs(retry, d.attempt, this.random, result.retryAfterMs);
        d.state = 'waiting';
        d.timer = setTimeout(() => this.retryDue(d), delay);
        this.record(
          this.recordOf(d.n, d.channel, d.recipient, d.key, {
            attempt: d.attempt,
            status: 'retrying',
            at: now,
            latencyMs,
            error: result.error,
            nextAttemptAt: now + delay,
          }),
        );
        this.log.warn(
          { deliveryId: d.key, attempt: d.attempt, error: result.error, retryInMs: delay },
          'notification attempt failed; retrying',
        );
      } else {
        const status: DeliveryStatus = result.retryable ? 'gave_up' : 'failed';
        let error = result.error;
        if (d.cancelled) error = `${error} (alert acknowledged: not retried)`;
        else if (this.state !== 'running' && result.retryable) error = `${error} (dispatcher stopping)`;
        this.finish(d, { attempt: d.attempt, status, at: now, latencyMs, error });
        this.log.error(
          { deliveryId: d.key, attempt: d.attempt, error, severity: d.n.severity, channel: d.channel.id },
          'notification delivery failed',
        );
      }
    }
    if (this.state === 'running') this.pump(q);
  }

  private retryDue(d: Delivery): void {
    d.timer = undefined;
    if (d.state !== 'waiting') return;
    if (this.sent.get(d.n.alertId)?.has(d.key)) {
      this.finish(d, { attempt: d.attempt, status: 'skipped', at: this.clock(), error: 'already sent' });
      return;
    }
    this.enqueue(d, false);
  }

  /** Ends a queued or waiting delivery without another attempt. */
  private giveUp(d: Delivery, error: string): void {
    if (d.timer !== undefined) clearTimeout(d.timer);
    d.timer = undefined;
    // A queued one stays in its FairQueue until `pump` passes over it (state is no longer `queued`).
    if (d.state === 'queued') this.queued[d.lane]--;
    this.finish(d, { attempt: d.attempt, status: 'gave_up', at: this.clock(), error });
  }

  private finish(
    d: Delivery,
    r: Omit<DeliveryRecord, 'deliveryId' | 'notificationId' | 'alertId' | 'channelId' | 'channelType'>,
  ): void {
    d.state = 'done';
    this.active.delete(d.key);
    const ofAlert = this.byAlert.get(d.n.alertId);
    ofAlert?.delete(d);
    if (ofAlert?.size === 0) this.byAlert.delete(d.n.alertId);
    this.record(this.recordOf(d.n, d.channel, d.recipient, d.key, r));
  }

  private markSent(alertId: string, key: string): void {
    let keys = this.sent.get(alertId);
    if (keys === undefined) {
      keys = new Set();
      this.sent.set(alertId, keys);
      if (this.sent.size > this.config.rememberAlerts) {
        const oldest = this.sent.keys().next().value;
        if (oldest !== undefined) this.sent.delete(oldest);
      }
    }
    keys.add(key);
  }

  private recordOf(
    n: AlertNotification,
    channel: NotificationChannel,
    recipient: Recipient | undefined,
    key: string,
    r: Omit<DeliveryRecord, 'deliveryId' | 'notificationId' | 'alertId' | 'channelId' | 'channelType'>,
  ): DeliveryRecord {
    return {
      deliveryId: key,
      notificationId: n.notificationId,
      alertId: n.alertId,
      channelId: channel.id,
      channelType: channel.type,
      ...(recipient === undefined ? {} : { contactId: recipient.contactId }),
      ...(n.drill ? { drill: true } : {}),
      ...r,
    };
  }

  private record(r: DeliveryRecord): void {
    this.m?.attempts.inc({ channel_type: r.channelType, status: r.status });
    try {
      const pending = this.opts.log.record(r);
      if (pending !== undefined) void pending.catch((err: unknown) => this.onLogFailure(err, r));
    } catch (err) {
      this.onLogFailure(err, r);
    }
  }

  private onLogFailure(err: unknown, r: DeliveryRecord): void {
    this.m?.logFailures.inc();
    this.logFailuresSinceLog++;
    const now = this.clock();
    // A database outage fails every record: say so every 10 s, with the count, not per record.
    if (now - this.lastLogFailureLogAt < LOG_FAILURE_LOG_INTERVAL_MS) return;
    this.log.error(
      {
        err,
        code: AlertingErrorCode.DELIVERY_LOG_FAILED,
        deliveryId: r.deliveryId,
        failures: this.logFailuresSinceLog,
      },
      'delivery log did not take a record (deliveries go on)',
    );
    this.lastLogFailureLogAt = now;
    this.logFailuresSinceLog = 0;
  }

  private createMetrics(registry: Registry): Metrics {
    const registers = [registry];
    const depth = (lane: Lane) => this.queued[lane];
    const inFlight = () => this.inFlight.size;
    new Gauge({
      name: 'anlian_notify_queue_depth',
      help: 'Deliveries waiting for a concurrency slot, by lane (critical, normal)',
      labelNames: ['lane'] as const,
      registers,
      collect() {
        this.set({ lane: 'critical' }, depth('critical'));
        this.set({ lane: 'normal' }, depth('normal'));
      },
    });
    new Gauge({
      name: 'anlian_notify_in_flight',
      help: 'Notification requests in flight',
      registers,
      collect() {
        this.set(inFlight());
      },
    });
    return {
      attempts: new Counter({
        name: 'anlian_notify_attempts_total',
        help: 'Delivery attempts and decisions by channel type and status (sent, retrying, failed, gave_up, skipped)',
        labelNames: ['channel_type', 'status'] as const,
        registers,
      }),
      dispatch: new Histogram({
        name: 'anlian_notify_dispatch_seconds',
        help: 'From dispatch to the start of the first attempt of a delivery',
        labelNames: ['lane', 'channel_type'] as const,
        buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers,
      }),
      delivered: new Histogram({
        name: 'anlian_notify_delivered_seconds',
        help: 'From dispatch to the attempt the channel accepted, retries included',
        labelNames: ['lane', 'channel_type'] as const,
        buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
        registers,
      }),
      dropped: new Counter({
        name: 'anlian_notify_dropped_total',
        help: 'Notifications or deliveries not attempted, by reason (stopped, channel_lookup, queue_full)',
        labelNames: ['reason'] as const,
        registers,
      }),
      logFailures: new Counter({
        name: 'anlian_notify_log_failures_total',
        help: 'Delivery records the delivery log did not take',
        registers,
      }),
    };
  }
}

/** `${notificationId}:${channelId}[:${contactId}]`: the delivery id and idempotency key. */
export function deliveryId(notificationId: string, channelId: string, contactId?: string): string {
  return contactId === undefined ? `${notificationId}:${channelId}` : `${notificationId}:${channelId}:${contactId}`;
}

/** Why a channel's policy excludes a notification, or undefined. */
export function skipReason(channel: NotificationChannel, n: AlertNotification): string | undefined {
  const p = channel.policy;
  if (!p.enabled) return 'channel disabled';
  if (n.drill && p.drill === 'skip') return 'drill: this channel skips drills';
  // The dashboard's stream is a screen, not a person: it shows drills whatever their recipients.
  if (n.drill && n.drillChannelsOnly && p.drill !== 'only' && channel.type !== 'stream') {
    return 'drill for drill channels only: this channel takes real alerts';
  }
  if (!n.drill && p.drill === 'only') return 'not a drill: this channel takes drills only';
  if (p.minSeverity !== undefined && SEVERITY_RANK[n.severity] < SEVERITY_RANK[p.minSeverity]) {
    return `severity ${n.severity} below the channel minimum ${p.minSeverity}`;
  }
  return undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
