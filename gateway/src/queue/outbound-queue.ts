import path from 'node:path';
import type { Logger } from 'pino';
import type { QueueConfig } from '../config/gateway-config.js';
import { GatewayError } from '../errors.js';
import type { QueueRecord } from './record-frame.js';
import { SegmentLog } from './segment-log.js';

/**
 * Priority classes, highest first. GB 26875.1: fire alarms take priority over everything else;
 * other events (faults, low pressure, …) go ahead of queued telemetry (protocol README).
 * Within a class a device's messages keep their order; across classes a device's fire alarm may
 * overtake its own older events and telemetry, and an event its older telemetry.
 */
export const MESSAGE_CLASSES = ['alarm', 'event', 'telemetry'] as const;
export type MessageClass = (typeof MESSAGE_CLASSES)[number];

export interface OutboundMessage extends QueueRecord {
  cls: MessageClass;
}

export type EnqueueResult =
  | { queued: true; message: { cls: MessageClass; id: number }; durable: Promise<void> }
  /** Telemetry refused by the full-queue policy (never an event). */
  | { queued: false; reason: 'thinned' | 'full' };

export interface QueueStats {
  depth: Record<MessageClass, number>;
  bytes: number;
  /** Telemetry readings not queued because the queue was past its thinning mark or full. */
  thinned: number;
  /** Queued telemetry dropped with the oldest segment when the queue reached its bound. */
  dropped: number;
  corrupt: number;
}

export interface OutboundQueueOptions {
  dir: string;
  config: QueueConfig;
  logger: Logger;
}

// The acknowledgement state is written (not fsync'd) at most this long after an acknowledgement. A
// lost one only means a resend the county drops by `seq`, so a second's worth is a fair bound; a
// write (file, rename) costs about as much CPU as forwarding a message, and wears the box's flash.
const ACK_PERSIST_MS = 1000;
const THIN_LOG_EVERY_MS = 10_000;

/**
 * The durable store-and-forward queue: one {@link SegmentLog} per priority class.
 *
 * Fsync policy: a fire alarm or event is fsync'd before `durable` resolves (the local sensor is
 * acknowledged only then; events of one event-loop turn share one fsync). Telemetry is in the
 * file when `enqueue` returns — it survives SIGKILL — and is fsync'd at most `telemetryFsyncMs` later.
 *
 * Full-queue policy (bytes on disk against `maxBytes`): past `thinAbovePercent`, only one of
 * every `thinKeepEvery` telemetry readings of a device is queued; at `maxBytes` the oldest
 * telemetry segment is dropped whole. Events are never thinned or dropped, even past the bound.
 * Both are counted and logged.
 */
export class OutboundQueue {
  readonly #log: Logger;
  #config: QueueConfig;
  readonly #logs: Record<MessageClass, SegmentLog>;
  readonly #enqueueListeners = new Set<(cls: MessageClass) => void>();
  readonly #ackListeners = new Set<(msg: { cls: MessageClass; id: number }) => void>();
  readonly #thinCounters = new Map<string, number>();
  #thinned = 0;
  #dropped = 0;
  #thinLogAt = 0;
  #thinSinceLog = 0;
  #eventSync: Promise<void> | undefined;
  /** Armed by the first telemetry append after an fsync; none while nothing is appended. */
  #telemetryTimer: NodeJS.Timeout | undefined;
  /** Armed by the first acknowledgement after a write of the acknowledgement state. */
  #ackTimer: NodeJS.Timeout | undefined;
  #open = false;

  constructor(opts: OutboundQueueOptions) {
    this.#config = opts.config;
    this.#log = opts.logger.child({ module: 'queue' });
    const log = (cls: MessageClass) =>
      new SegmentLog({
        dir: path.join(opts.dir, cls),
        segmentBytes: opts.config.segmentBytes,
        logger: this.#log.child({ cls }),
      });
    this.#logs = { alarm: log('alarm'), event: log('event'), telemetry: log('telemetry') };
  }

  open(): void {
    for (const cls of MESSAGE_CLASSES) this.#logs[cls].open();
    this.#open = true;
    const s = this.stats();
    this.#log.info({ depth: s.depth, bytes: s.bytes }, 'queue opened');
  }

  /** New limits (on reload); the directory and segment size stay. */
  reconfigure(config: QueueConfig): void {
    this.#config = { ...config, segmentBytes: this.#config.segmentBytes };
    // What was appended under the old period is fsync'd now; the new period starts clean.
    if (this.#telemetryTimer) this.#syncTelemetry();
  }

  onEnqueue(listener: (cls: MessageClass) => void): () => void {
    this.#enqueueListeners.add(listener);
    return () => this.#enqueueListeners.delete(listener);
  }

  onAck(listener: (msg: { cls: MessageClass; id: number }) => void): () => void {
    this.#ackListeners.add(listener);
    return () => this.#ackListeners.delete(listener);
  }

  enqueue(cls: MessageClass, topic: string, payload: Buffer): EnqueueResult {
    if (!this.#open) throw new GatewayError('ANL_GW_NOT_STARTED', 'the queue is not open');
    if (cls === 'telemetry') {
      const refused = this.#admitTelemetry(topic);
      if (refused) return { queued: false, reason: refused };
    }
    let id: number;
    try {
      id = this.#logs[cls].append(topic, payload);
    } catch (err) {
      // Disk full or failing: the caller must not acknowledge the sensor.
      throw new GatewayError('ANL_GW_QUEUE_IO', `cannot append to the ${cls} queue: ${(err as Error).message}`, {
        cause: err,
      });
    }
    // The replay is told first: its send loop (setImmediate) then runs before the events' group
    // fsync (setImmediate, synchronous), so a fire alarm leaves for the county without waiting on
    // the disk (GB 26875.1: within 10 s; a loaded disk's fsync takes tens of ms). It is still
    // fsync'd before `durable` resolves — before the sensor or UITD is told it was taken, and
    // before any PUBACK can arrive (the next I/O phase) — so a crash loses nothing acknowledged.
    for (const l of this.#enqueueListeners) l(cls);
    let durable: Promise<void>;
    if (cls === 'telemetry') {
      if (this.#config.telemetryFsyncMs === 0) this.#logs.telemetry.sync();
      else this.#scheduleTelemetrySync();
      durable = Promise.resolve();
    } else {
      durable = this.#syncEvents();
    }
    return { queued: true, message: { cls, id }, durable };
  }

  /** The highest-priority message not yet sent. */
  peek(): OutboundMessage | undefined {
    for (const cls of MESSAGE_CLASSES) {
      const rec = this.#logs[cls].peek();
      if (rec) return { ...rec, cls };
    }
    return undefined;
  }

  /** Marks a peeked message as sent. */
  take(msg: OutboundMessage): void {
    const log = this.#logs[msg.cls];
    const rec = log.peek();
    // peek() hands out a copy with `cls`; the log tracks its own record object.
    if (rec && rec.id === msg.id) log.take(rec);
    else log.take(msg);
  }

  ack(msg: { cls: MessageClass; id: number }): void {
    if (!this.#logs[msg.cls].ack(msg.id)) return;
    this.#schedulePersistAcks();
    for (const l of this.#ackListeners) l(msg);
  }

  nack(msg: OutboundMessage): void {
    this.#logs[msg.cls].nack(msg);
  }

  /** The uplink dropped: everything in flight goes back to the front of its class. */
  requeueInflight(): void {
    for (const cls of MESSAGE_CLASSES) this.#logs[cls].requeueInflight();
  }

  depth(): number {
    return this.#logs.alarm.depth + this.#logs.event.depth + this.#logs.telemetry.depth;
  }

  stats(): QueueStats {
    const l = this.#logs;
    return {
      depth: { alarm: l.alarm.depth, event: l.event.depth, telemetry: l.telemetry.depth },
      bytes: l.alarm.bytes + l.event.bytes + l.telemetry.bytes,
      thinned: this.#thinned,
      dropped: this.#dropped,
      corrupt: l.alarm.corrupt + l.event.corrupt + l.telemetry.corrupt,
    };
  }

  /** fsync everything, persist acknowledgements, release files. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    clearTimeout(this.#telemetryTimer);
    clearTimeout(this.#ackTimer);
    this.#telemetryTimer = undefined;
    this.#ackTimer = undefined;
    for (const cls of MESSAGE_CLASSES) this.#logs[cls].close();
    this.#log.info({ depth: this.depth() }, 'queue closed');
  }

  #bytes(): number {
    return this.#logs.alarm.bytes + this.#logs.event.bytes + this.#logs.telemetry.bytes;
  }

  /** The full-queue policy for one telemetry reading: undefined = queue it. */
  #admitTelemetry(topic: string): 'thinned' | 'full' | undefined {
    const { maxBytes, thinAbovePercent, thinKeepEvery } = this.#config;
    let bytes = this.#bytes();
    if (bytes < (maxBytes * thinAbovePercent) / 100) return undefined;
    while (bytes >= maxBytes) {
      const dropped = this.#logs.telemetry.dropOldestSegment();
      const after = this.#bytes();
      if (after === bytes) break;
      bytes = after;
      this.#dropped += dropped;
      this.#schedulePersistAcks();
      this.#log.error(
        { dropped, droppedTotal: this.#dropped, bytes, maxBytes },
        'queue full: oldest telemetry segment dropped (events are kept)',
      );
    }
    let refused: 'thinned' | 'full' | undefined;
    if (bytes >= maxBytes) {
      refused = 'full';
    } else {
      const n = this.#thinCounters.get(topic) ?? 0;
      this.#thinCounters.set(topic, n + 1);
      if (n % thinKeepEvery !== 0) refused = 'thinned';
    }
    if (refused) {
      this.#thinned++;
      this.#thinSinceLog++;
      const now = Date.now();
      if (now - this.#thinLogAt >= THIN_LOG_EVERY_MS) {
        this.#log.warn(
          { refused: this.#thinSinceLog, thinnedTotal: this.#thinned, bytes, maxBytes, keepEvery: thinKeepEvery },
          refused === 'full'
            ? 'queue full of events: telemetry refused'
            : 'queue past its thinning mark: telemetry thinned',
        );
        this.#thinLogAt = now;
        this.#thinSinceLog = 0;
      }
    }
    return refused;
  }

  /** Group commit: every event appended in this turn of the event loop shares one fsync. */
  #syncEvents(): Promise<void> {
    if (!this.#eventSync) {
      this.#eventSync = new Promise<void>((resolve, reject) => {
        setImmediate(() => {
          this.#eventSync = undefined;
          try {
            this.#logs.alarm.sync();
            this.#logs.event.sync();
            resolve();
          } catch (err) {
            this.#log.error({ err }, 'fsync of the event queue failed');
            reject(new GatewayError('ANL_GW_QUEUE_IO', `fsync failed: ${(err as Error).message}`, { cause: err }));
          }
        });
      });
    }
    return this.#eventSync;
  }

  // The two deferred writes are one-shot timers armed by the work they cover, not intervals: an
  // idle gateway (nothing appended, nothing acknowledged) does not wake up for them at all.
  // Telemetry is fsync'd at most `telemetryFsyncMs` after its append, an acknowledgement written
  // at most ACK_PERSIST_MS after it arrived.

  #scheduleTelemetrySync(): void {
    if (this.#telemetryTimer) return;
    this.#telemetryTimer = setTimeout(() => this.#syncTelemetry(), this.#config.telemetryFsyncMs);
    this.#telemetryTimer.unref();
  }

  #syncTelemetry(): void {
    clearTimeout(this.#telemetryTimer);
    this.#telemetryTimer = undefined;
    try {
      this.#logs.telemetry.sync();
    } catch (err) {
      this.#log.error({ err }, 'fsync of the telemetry queue failed');
    }
  }

  #schedulePersistAcks(): void {
    if (this.#ackTimer || !this.#open) return;
    this.#ackTimer = setTimeout(() => this.#persistAcks(), ACK_PERSIST_MS);
    this.#ackTimer.unref();
  }

  #persistAcks(): void {
    this.#ackTimer = undefined;
    for (const cls of MESSAGE_CLASSES) {
      try {
        this.#logs[cls].persistAcks();
      } catch (err) {
        this.#log.error({ err, cls }, 'could not persist queue acknowledgements');
      }
    }
  }
}
