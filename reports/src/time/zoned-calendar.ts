const DAY_MS = 86_400_000;

export interface LocalDate {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
}

/**
 * Calendar arithmetic in the county's IANA time zone, independent of the machine's own: reports
 * cut months and days where the county's calendar does (a month of 酉阳 starts at 00:00 Beijing time).
 */
export class ZonedCalendar {
  readonly timeZone: string;
  readonly #format: Intl.DateTimeFormat;

  constructor(timeZone: string) {
    this.timeZone = timeZone;
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
  }

  /** Milliseconds to add to UTC for local wall-clock time at `ms`. */
  offsetMs(ms: number): number {
    const p: Record<string, number> = {};
    for (const part of this.#format.formatToParts(new Date(ms))) {
      if (part.type !== 'literal') p[part.type] = Number(part.value);
    }
    const asUtc = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
    return asUtc - Math.floor(ms / 1000) * 1000;
  }

  /** The local date at instant `ms`. */
  dateOf(ms: number): LocalDate {
    const local = new Date(ms + this.offsetMs(ms));
    return { year: local.getUTCFullYear(), month: local.getUTCMonth() + 1, day: local.getUTCDate() };
  }

  /** `YYYY-MM-DD` of the local date at `ms`. */
  dayKey(ms: number): string {
    const d = this.dateOf(ms);
    return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
  }

  /** The instant of local midnight starting the given date (month and day may overflow, as in Date.UTC). */
  startOfDay(year: number, month: number, day: number): number {
    const guess = Date.UTC(year, month - 1, day);
    // Two passes settle the offset around a daylight-saving change (China has none; other zones may).
    let at = guess - this.offsetMs(guess);
    at = guess - this.offsetMs(at);
    return at;
  }

  /** Local midnight at or before `ms`. */
  floorDay(ms: number): number {
    const d = this.dateOf(ms);
    return this.startOfDay(d.year, d.month, d.day);
  }

  /** Whole local days from `fromMs` to `toMs` (both local midnights). */
  daysBetween(fromMs: number, toMs: number): number {
    return Math.round((toMs - fromMs) / DAY_MS);
  }
}
