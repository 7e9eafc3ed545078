import type { DeviceSeenState } from './engine-snapshot.js';

/**
 * A timing wheel of one-second buckets: which devices' absence checks fall due when. Each
 * device is in at most one bucket (a later `schedule` replaces the earlier one), so the cost of
 * a tick is the number of checks that fell due, not the number of devices.
 */
export class AbsenceSchedule {
  readonly #buckets = new Map<number, DeviceSeenState[]>();
  readonly #slot = new WeakMap<DeviceSeenState, number>();
  /** The last second already processed. */
  #done: number;

  constructor(now: number) {
    this.#done = Math.floor(now / 1000) - 1;
  }

  /** Checks `d` at `at` (ms) or, if that has passed, at the next tick. */
  schedule(d: DeviceSeenState, at: number): void {
    const second = Math.max(this.#done + 1, Math.ceil(at / 1000));
    if (this.#slot.get(d) === second) return;
    this.#slot.set(d, second);
    const bucket = this.#buckets.get(second);
    if (bucket) bucket.push(d);
    else this.#buckets.set(second, [d]);
  }

  /** The devices whose check is due at `now`, each once; taken off the schedule. */
  *due(now: number): Generator<DeviceSeenState> {
    const last = Math.floor(now / 1000);
    if (last <= this.#done) return;
    // Short gaps second by second; a long jump (a test's clock, a stalled process) by bucket.
    const seconds =
      last - this.#done <= 4096
        ? Array.from({ length: last - this.#done }, (_, i) => this.#done + 1 + i)
        : [...this.#buckets.keys()].filter((s) => s <= last).sort((a, b) => a - b);
    this.#done = last;
    for (const second of seconds) {
      const bucket = this.#buckets.get(second);
      if (!bucket) continue;
      this.#buckets.delete(second);
      for (const d of bucket) {
        if (this.#slot.get(d) !== second) continue;
        this.#slot.delete(d);
        yield d;
      }
    }
  }
}
