/** How an authentication attempt ended, for `FailureLimiter.end`. */
export type AttemptOutcome = 'failed' | 'succeeded' | 'abandoned';

export interface FailureLimiterOptions {
  /** Failed attempts, plus attempts still being verified, allowed per key within `windowMs`. */
  max: number;
  windowMs: number;
  /**
   * Attempts in flight allowed for a key that has no failure in the window. Default `max`. A
   * source address may be many honest clients at once — the gateways behind one carrier NAT, a
   * county's simulator — all reconnecting together after a broker restart: their CONNECTs are in
   * flight together, and none has failed. From a key's first failure on, `max` counts both.
   */
  burst?: number;
  /** Keys remembered at most (the oldest is forgotten first): an attacker cycling keys costs bounded memory. Default 100 000. */
  maxKeys?: number;
  clock?: () => number;
}

interface KeyState {
  /** Times of the failures still in the window, oldest first; never more than `max`. */
  failures: number[];
  pending: number;
}

/**
 * Counts failed authentication attempts per key — a source address, a gateway id, a username —
 * over a sliding window, and says when a key has had enough: once its failures plus its attempts
 * still in flight reach `max`, further attempts are refused before any password hashing, which is
 * what makes them cheap. Counting attempts in flight matters: a burst of thousands of CONNECTs
 * arrives long before the first scrypt finishes. A key with no failure yet may have up to `burst`
 * attempts in flight, so that honest clients sharing an address are not refused for arriving
 * together; a burst of guesses then costs at most `burst` verifications before its failures lock
 * the key. Success does not clear a key's failures (an
 * attacker holding one valid account must not reset an address's count); the window does.
 * GB/T 22239-2019 (level 3) 8.1.4.1 b): limit failed logins and lock out.
 */
export class FailureLimiter {
  readonly #o: Required<Omit<FailureLimiterOptions, 'clock'>>;
  readonly #clock: () => number;
  readonly #keys = new Map<string, KeyState>();

  constructor(opts: FailureLimiterOptions) {
    if (!(opts.max >= 1)) throw new RangeError('FailureLimiter max must be at least 1');
    const burst = opts.burst ?? opts.max;
    if (!(burst >= opts.max)) throw new RangeError('FailureLimiter burst must be at least max');
    this.#o = { max: opts.max, burst, windowMs: opts.windowMs, maxKeys: opts.maxKeys ?? 100_000 };
    this.#clock = opts.clock ?? Date.now;
  }

  /** True when `key` may start another attempt now. */
  allows(key: string): boolean {
    const state = this.#keys.get(key);
    if (!state) return true;
    this.#prune(state);
    if (state.failures.length === 0) return state.pending < this.#o.burst;
    return state.failures.length + state.pending < this.#o.max;
  }

  /** An attempt for `key` is being verified; pair with `end`. */
  begin(key: string): void {
    const state = this.#state(key);
    state.pending++;
  }

  end(key: string, outcome: AttemptOutcome): void {
    const state = this.#keys.get(key);
    if (!state) return;
    state.pending = Math.max(0, state.pending - 1);
    if (outcome === 'failed') {
      state.failures.push(this.#clock());
      if (state.failures.length > this.#o.max) state.failures.shift();
    }
    this.#prune(state);
    if (state.failures.length === 0 && state.pending === 0) this.#keys.delete(key);
  }

  /** Keys currently remembered (diagnostics, tests). */
  get size(): number {
    return this.#keys.size;
  }

  #state(key: string): KeyState {
    let state = this.#keys.get(key);
    if (state) return state;
    if (this.#keys.size >= this.#o.maxKeys) {
      // Forget the oldest key without attempts in flight (Map order is insertion order).
      for (const [k, s] of this.#keys) {
        if (s.pending === 0) {
          this.#keys.delete(k);
          break;
        }
      }
    }
    state = { failures: [], pending: 0 };
    this.#keys.set(key, state);
    return state;
  }

  #prune(state: KeyState): void {
    const since = this.#clock() - this.#o.windowMs;
    while (state.failures.length > 0 && (state.failures[0] as number) <= since) state.failures.shift();
  }
}
