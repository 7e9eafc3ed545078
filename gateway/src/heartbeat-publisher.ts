import { type Clock, every } from './clock.js';

/** Sends a heartbeat; returns false when the link is down (nothing sent). */
export type SendHeartbeat = () => boolean;

/** The `…/heartbeat` timer (every 30 s by default, ARCHITECTURE.md): a unit with start/stop. */
export class HeartbeatPublisher {
  readonly #clock: Clock;
  readonly #send: SendHeartbeat;
  #intervalMs: number;
  #cancel: (() => void) | undefined;

  constructor(opts: { clock: Clock; intervalMs: number; send: SendHeartbeat }) {
    this.#clock = opts.clock;
    this.#intervalMs = opts.intervalMs;
    this.#send = opts.send;
  }

  start(): void {
    this.stop();
    this.#cancel = every(this.#clock, this.#intervalMs, () => this.#send());
  }

  stop(): void {
    this.#cancel?.();
    this.#cancel = undefined;
  }

  setInterval(ms: number): void {
    if (ms === this.#intervalMs) return;
    this.#intervalMs = ms;
    if (this.#cancel) this.start();
  }

  /** One now (e.g. right after connecting, so the county sees the queue depth at once). */
  beat(): boolean {
    return this.#send();
  }
}
