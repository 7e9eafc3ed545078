import type { Logger } from 'pino';
import type { OutboundMessage, OutboundQueue } from '../queue/outbound-queue.js';
import type { TokenBucket } from './token-bucket.js';

const RETRY_AFTER_ERROR_MS = 200;

/** Where the pump sends: the county connection, while it is up. */
export interface QosOnePublisher {
  /** Publishes with QoS 1; `done` is called on PUBACK (no error) or when the send failed. */
  publish(topic: string, payload: Buffer, done: (err?: Error) => void): void;
}

export interface ReplayPumpOptions {
  queue: OutboundQueue;
  bucket: TokenBucket;
  /** QoS 1 messages sent and not yet acknowledged. */
  inflight: number;
  logger: Logger;
}

/**
 * Moves messages from the durable queue to the county, highest class first: a window of QoS 1
 * messages in flight, paced by the token bucket (fire alarms are not paced: GB 26875.1, 10 s).
 * A message leaves the queue only on its PUBACK. When the link drops, whatever was in flight
 * goes back to the front of its class and is sent again on the next connection, as a new
 * PUBLISH rather than mqtt.js's in-memory redelivery [MQTT-4.4.0-1]: the queue on disk, not the
 * session, is what survives, and the envelope `seq` lets the county drop the copies.
 */
export class ReplayPump {
  readonly #o: ReplayPumpOptions;
  readonly #log: Logger;
  #window: number;
  #link: QosOnePublisher | undefined;
  /** Bumped on every link change: callbacks of an older link are ignored. */
  #generation = 0;
  #inflight = 0;
  #scheduled = false;
  #timer: NodeJS.Timeout | undefined;
  #sent = 0;
  #acked = 0;
  #stopUnsubscribe: (() => void) | undefined;

  constructor(opts: ReplayPumpOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ module: 'replay' });
    this.#window = opts.inflight;
  }

  start(): void {
    this.#stopUnsubscribe = this.#o.queue.onEnqueue(() => this.kick());
  }

  stop(): void {
    this.#stopUnsubscribe?.();
    this.#stopUnsubscribe = undefined;
    this.detach();
  }

  setWindow(inflight: number): void {
    this.#window = inflight;
    this.kick();
  }

  get inflight(): number {
    return this.#inflight;
  }

  get counts(): { sent: number; acked: number } {
    return { sent: this.#sent, acked: this.#acked };
  }

  /** The link is up: start sending. */
  attach(link: QosOnePublisher): void {
    this.#generation++;
    this.#link = link;
    this.#inflight = 0;
    this.kick();
  }

  /** The link is down: stop sending; what was in flight is sent again on the next link. */
  detach(): void {
    this.#generation++;
    this.#link = undefined;
    this.#inflight = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#o.queue.requeueInflight();
  }

  /** Resolves when nothing is in flight, or after `timeoutMs` (graceful stop). */
  async settle(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.#inflight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  }

  /** Runs the send loop soon (coalesced: many enqueues in one turn → one loop). */
  kick(): void {
    if (this.#scheduled || !this.#link) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#drain();
    });
  }

  #drain(): void {
    const link = this.#link;
    if (!link || this.#timer) return;
    const { queue, bucket } = this.#o;
    const generation = this.#generation;
    while (this.#inflight < this.#window) {
      const msg = queue.peek();
      if (!msg) return;
      if (msg.cls !== 'alarm' && !bucket.take()) {
        this.#timer = setTimeout(
          () => {
            this.#timer = undefined;
            this.#drain();
          },
          Math.max(1, bucket.waitMs()),
        );
        return;
      }
      queue.take(msg);
      this.#inflight++;
      this.#sent++;
      link.publish(msg.topic, msg.payload, (err) => this.#settled(generation, msg, err));
    }
  }

  #settled(generation: number, msg: OutboundMessage, err: Error | undefined): void {
    if (generation !== this.#generation) return;
    this.#inflight--;
    if (err) {
      this.#log.warn({ err: err.message, topic: msg.topic }, 'publish failed: will be sent again');
      this.#o.queue.nack(msg);
      // A failing link usually closes a moment later; do not spin resending into it meanwhile.
      if (!this.#timer) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#drain();
        }, RETRY_AFTER_ERROR_MS);
      }
      return;
    }
    this.#acked++;
    this.#o.queue.ack(msg);
    this.kick();
  }
}
