import { SimErrorCode, SimulatorError } from './errors.js';

const DAY_MS = 86_400_000;
// Offsets change at most on quarter hours; caching per 15 minutes keeps Intl off the hot path.
const OFFSET_BUCKET_MS = 900_000;

export interface LocalTimeOfDay {
  hour: number;
  minute: number;
  second: number;
}

/**
 * Local wall-clock arithmetic in the county's IANA time zone (Asia/Shanghai by default), for the
 * simulated clock. Independent of the machine's own zone, so runs are the same on every host.
 */
export class TimeZoneClock {
  readonly timeZone: string;
  readonly #format: Intl.DateTimeFormat;
  readonly #offsets = new Map<number, number>();

  constructor(timeZone: string) {
    this.timeZone = timeZone;
    try {
      this.#format = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
      });
    } catch (err) {
      throw new SimulatorError(
        SimErrorCode.BAD_ARGUMENT,
        `unknown time zone ${JSON.stringify(timeZone)}: ${String(err)}`,
      );
    }
  }

  /** Milliseconds to add to UTC to get local wall-clock time at instant `ms`. */
  offsetMs(ms: number): number {
    const bucket = Math.floor(ms / OFFSET_BUCKET_MS);
    const cached = this.#offsets.get(bucket);
    if (cached !== undefined) return cached;
    const p = this.#parts(bucket * OFFSET_BUCKET_MS);
    const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    const offset = asUtc - bucket * OFFSET_BUCKET_MS;
    if (this.#offsets.size > 4096) this.#offsets.clear();
    this.#offsets.set(bucket, offset);
    return offset;
  }

  /** Local hour of day as a fraction, 0 ≤ h < 24. */
  hourOfDay(ms: number): number {
    const local = ms + this.offsetMs(ms);
    return (((local % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000;
  }

  /** Days since 1970-01-01 in local time: a key for things that vary from day to day. */
  dayNumber(ms: number): number {
    return Math.floor((ms + this.offsetMs(ms)) / DAY_MS);
  }

  /** The first instant at or after `fromMs` whose local time of day is `t`. */
  nextAt(fromMs: number, t: LocalTimeOfDay): number {
    const local = new Date(fromMs + this.offsetMs(fromMs));
    for (let addDays = 0; addDays < 3; addDays++) {
      const at = this.fromLocal(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() + addDays, t);
      if (at >= fromMs) return at;
    }
    // Unreachable: a local time of day recurs within two days in every zone.
    return fromMs;
  }

  /** The last instant at or before `beforeMs` whose local time of day is `t`. */
  latestAt(beforeMs: number, t: LocalTimeOfDay): number {
    const local = new Date(beforeMs + this.offsetMs(beforeMs));
    for (let subDays = 0; subDays < 3; subDays++) {
      const at = this.fromLocal(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate() - subDays, t);
      if (at <= beforeMs) return at;
    }
    return beforeMs;
  }

  /** UTC instant of a local date and time (month 0-based; out-of-range days roll over). */
  fromLocal(year: number, month: number, day: number, t: LocalTimeOfDay): number {
    const wall = Date.UTC(year, month, day, t.hour, t.minute, t.second);
    const guess = wall - this.offsetMs(wall);
    return wall - this.offsetMs(guess);
  }

  /** `2026-11-23 11:30:05` in local time. */
  format(ms: number): string {
    const d = new Date(ms + this.offsetMs(ms));
    return d.toISOString().slice(0, 19).replace('T', ' ');
  }

  #parts(ms: number): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number> {
    const out = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
    for (const part of this.#format.formatToParts(ms)) {
      if (part.type in out) out[part.type as keyof typeof out] = Number(part.value);
    }
    return out;
  }
}

/** `11:30`, `02:00:15` → time of day; `undefined` if it is not one. */
export function parseTimeOfDay(text: string): LocalTimeOfDay | undefined {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/.exec(text.trim());
  if (!m) return undefined;
  return { hour: Number(m[1]), minute: Number(m[2]), second: Number(m[3] ?? 0) };
}
