import type { LatencySummary } from './child-messages.js';

/**
 * Every latency sample of a phase, in a growable Float64Array (60 s at 20,000 msg/s is 9.6 MB),
 * so percentiles are exact rather than bucketed. Unmeasured samples (a probe never seen) are
 * recorded as `Infinity` and count against the percentiles.
 */
export class LatencyRecorder {
  #values = new Float64Array(1 << 16);
  #n = 0;

  add(ms: number): void {
    if (this.#n === this.#values.length) {
      const next = new Float64Array(this.#values.length * 2);
      next.set(this.#values);
      this.#values = next;
    }
    this.#values[this.#n++] = ms;
  }

  get count(): number {
    return this.#n;
  }

  summary(): LatencySummary {
    const sorted = this.#values.slice(0, this.#n).sort();
    const at = (q: number) =>
      this.#n === 0 ? Number.NaN : (sorted[Math.min(this.#n - 1, Math.ceil(q * this.#n) - 1)] ?? Number.NaN);
    return {
      count: this.#n,
      p50: at(0.5),
      p99: at(0.99),
      max: this.#n === 0 ? Number.NaN : (sorted[this.#n - 1] ?? Number.NaN),
    };
  }

  reset(): void {
    this.#n = 0;
  }
}
