import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { LoopDelay } from './alarm-messages.js';

/**
 * How late this process's event loop ran (`perf_hooks.monitorEventLoopDelay`): a bound on how
 * late a timestamp taken in a callback can be, and where an alarm waits when the loop is busy.
 */
export class LoopDelayMonitor {
  readonly #histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  start(): void {
    this.#histogram.enable();
  }

  /** Percentiles since `start` or the last `read`, in ms; then starts a new window. */
  read(): LoopDelay {
    const h = this.#histogram;
    const ms = (ns: number) => Math.round((ns / 1e6) * 10) / 10;
    const out =
      h.count === 0
        ? { p50: 0, p99: 0, max: 0 }
        : { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max) };
    h.reset();
    return out;
  }

  stop(): void {
    this.#histogram.disable();
  }
}
