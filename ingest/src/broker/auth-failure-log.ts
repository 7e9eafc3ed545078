import type { Logger } from 'pino';

export interface AuthFailureLogOptions {
  logger: Logger;
  /** One summary line per gateway per interval. Default 60 s. */
  intervalMs?: number;
  /** Gateways summarised apart per interval; failures for more are summed into one line. Default 50. */
  maxGateways?: number;
}

export interface AuthFailureRecord {
  gateway: string | undefined;
  reason: string;
  remote: string | undefined;
  message: string;
}

interface Tally {
  count: number;
  reasons: Record<string, number>;
  remotes: Set<string>;
}

/** Source addresses named per summary line: enough to see who, bounded for a spread attack. */
const MAX_REMOTES = 5;
const OTHERS = '(other gateways)';

/**
 * Failed CONNECTs, logged so that an attack cannot flood the log: a gateway's first failure after
 * a quiet interval is logged at once (a misconfigured gateway shows up immediately); every further
 * one is counted, and one line per gateway per interval gives the count, the reasons and some of
 * the addresses — for as long as the failures go on. Usernames come from the wire, so at most
 * `maxGateways` are tracked and the failures of the others share one line.
 */
export class AuthFailureLog {
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #maxGateways: number;
  readonly #tallies = new Map<string, Tally>();
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: AuthFailureLogOptions) {
    this.#log = opts.logger;
    this.#intervalMs = opts.intervalMs ?? 60_000;
    this.#maxGateways = opts.maxGateways ?? 50;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.flush(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Writes the pending summaries and stops the timer. */
  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.flush();
    this.#tallies.clear();
  }

  record(r: AuthFailureRecord): void {
    const known = r.gateway !== undefined && this.#tallies.has(r.gateway);
    const key = known || this.#tallies.size < this.#maxGateways ? (r.gateway ?? '') : OTHERS;
    let tally = this.#tallies.get(key);
    if (!tally) {
      tally = { count: 0, reasons: {}, remotes: new Set() };
      this.#tallies.set(key, tally);
      if (key !== OTHERS) {
        this.#log.warn(
          { gateway: r.gateway, reason: r.reason, remote: r.remote },
          `CONNECT refused: ${r.message} (further failures for this gateway within ${this.#intervalMs / 1000} s are summarised)`,
        );
        return;
      }
    }
    tally.count++;
    tally.reasons[r.reason] = (tally.reasons[r.reason] ?? 0) + 1;
    if (r.remote && tally.remotes.size < MAX_REMOTES) tally.remotes.add(r.remote);
  }

  flush(): void {
    for (const [gateway, t] of this.#tallies) {
      // A gateway without failures for a whole interval is quiet again: its next one logs at once.
      if (t.count === 0) {
        this.#tallies.delete(gateway);
        continue;
      }
      const reasons = Object.fromEntries(Object.entries(t.reasons).filter(([, n]) => n > 0));
      this.#log.warn(
        { gateway, failures: t.count, reasons, remotes: [...t.remotes], intervalS: this.#intervalMs / 1000 },
        `CONNECT refused ${t.count} times in the last ${this.#intervalMs / 1000} s`,
      );
      t.count = 0;
      t.reasons = {};
      t.remotes.clear();
    }
  }
}
