/**
 * A token bucket: `ratePerS` tokens a second, at most `burst` saved up. Paces the replay of a
 * backlog so that a county of gateways coming back after an outage does not flood ingest.
 */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #tokens: number;
  #at: number;
  readonly #now: () => number;

  constructor(opts: { ratePerS: number; burst: number; now?: () => number }) {
    this.#now = opts.now ?? (() => performance.now());
    this.#rate = opts.ratePerS;
    this.#burst = opts.burst;
    this.#tokens = opts.burst;
    this.#at = this.#now();
  }

  configure(ratePerS: number, burst: number): void {
    this.#refill();
    this.#rate = ratePerS;
    this.#burst = burst;
    this.#tokens = Math.min(this.#tokens, burst);
  }

  /** Takes one token if there is one. */
  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is available (0 if one is). */
  waitMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil(((1 - this.#tokens) / this.#rate) * 1000);
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = now - this.#at;
    this.#at = now;
    if (elapsed > 0) this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed / 1000) * this.#rate);
  }
}
