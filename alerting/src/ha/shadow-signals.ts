import type { AlertSignal } from '../engine/alert-signal.js';

/**
 * What a standby node saw for the institutions another node acts for: per alert key, the latest
 * signal that says the condition is there (raise or repeat). When this node takes the
 * institutions over — because their node died — it raises every condition it saw that the store
 * does not show as handled, so an alarm the dead node received but did not get into the store is
 * raised after all (at most once more than necessary: "send duplicates rather than miss",
 * Alertmanager HA).
 *
 * A `clear` forgets an auto-resolving condition; a manual one (a fire alarm) stays, since a
 * recovering detector never closes a fire alarm by itself.
 */
export class ShadowSignals {
  readonly #byKey = new Map<string, AlertSignal>();
  readonly #windowMs: number;
  readonly #max: number;

  /** Keeps each key's signal for `windowMs` (default 10 min), at most `max` keys (default 50,000). */
  constructor(opts: { windowMs?: number; max?: number } = {}) {
    this.#windowMs = opts.windowMs ?? 10 * 60_000;
    this.#max = opts.max ?? 50_000;
  }

  get size(): number {
    return this.#byKey.size;
  }

  note(s: AlertSignal): void {
    if (s.type === 'clear') {
      if (s.resolve === 'auto') this.#byKey.delete(s.key);
      return;
    }
    // Re-insert so the map's order stays oldest-first for eviction.
    this.#byKey.delete(s.key);
    this.#byKey.set(s.key, s);
    if (this.#byKey.size > this.#max) {
      const oldest = this.#byKey.keys().next();
      if (!oldest.done) this.#byKey.delete(oldest.value);
    }
  }

  /** Drops what is older than the window. */
  expire(now: number): void {
    for (const [key, s] of this.#byKey) {
      if (now - s.at <= this.#windowMs) break;
      this.#byKey.delete(key);
    }
  }

  /** Takes out (and forgets) the signals whose institution `belongs` says to take. */
  take(belongs: (institution: string) => boolean): AlertSignal[] {
    const out: AlertSignal[] = [];
    for (const [key, s] of this.#byKey) {
      if (!belongs(s.subject.institution)) continue;
      out.push(s);
      this.#byKey.delete(key);
    }
    return out;
  }
}
