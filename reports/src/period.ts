import { z } from 'zod';
import { ReportError, ReportErrorCode } from './errors.js';
import { ZonedCalendar } from './time/zoned-calendar.js';

/**
 * What period a report covers, in the county's calendar: a month, a quarter, any range of whole
 * days, or the last N days up to now (the demo's "last 30 days").
 */
export const PeriodRequest = z.union([
  z.object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/) }).strict(),
  z.object({ quarter: z.string().regex(/^\d{4}-Q[1-4]$/) }).strict(),
  z
    .object({
      /** First day, `YYYY-MM-DD`. */
      from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
      /** Last day, inclusive, `YYYY-MM-DD`. */
      to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    })
    .strict(),
  z.object({ lastDays: z.number().int().min(1).max(366) }).strict(),
]);
export type PeriodRequest = z.infer<typeof PeriodRequest>;

export interface ReportPeriod {
  /** Inclusive start, ms since the epoch. */
  fromMs: number;
  /** Exclusive end. */
  toMs: number;
  /** A stable key for the archive: `2026-10`, `2026-Q4`, `2026-10-01..2026-10-15`. */
  key: string;
  labelZh: string;
  labelEn: string;
}

const MAX_RANGE_DAYS = 400;

function ymd(s: string): [number, number, number] {
  const [y, m, d] = s.split('-').map(Number);
  return [y ?? 0, m ?? 0, d ?? 0];
}

/** Resolves a period request in the county's time zone; `now` for `lastDays`. */
export function resolvePeriod(req: PeriodRequest, timeZone: string, now: number): ReportPeriod {
  const cal = new ZonedCalendar(timeZone);
  if ('month' in req) {
    const [y, m] = ymd(`${req.month}-01`);
    return {
      fromMs: cal.startOfDay(y, m, 1),
      toMs: cal.startOfDay(y, m + 1, 1),
      key: req.month,
      labelZh: `${y}年${m}月`,
      labelEn: `${new Date(Date.UTC(y, m - 1, 1)).toLocaleString('en', { month: 'long', timeZone: 'UTC' })} ${y}`,
    };
  }
  if ('quarter' in req) {
    const y = Number(req.quarter.slice(0, 4));
    const q = Number(req.quarter.slice(6));
    return {
      fromMs: cal.startOfDay(y, (q - 1) * 3 + 1, 1),
      toMs: cal.startOfDay(y, q * 3 + 1, 1),
      key: req.quarter,
      labelZh: `${y}年第${'一二三四'[q - 1]}季度`,
      labelEn: `Q${q} ${y}`,
    };
  }
  if ('from' in req) {
    const [fy, fm, fd] = ymd(req.from);
    const [ty, tm, td] = ymd(req.to);
    const fromMs = cal.startOfDay(fy, fm, fd);
    const toMs = cal.startOfDay(ty, tm, td + 1);
    if (!(toMs > fromMs)) throw new ReportError(ReportErrorCode.BAD_REQUEST, 'the period ends before it starts');
    if (cal.daysBetween(fromMs, toMs) > MAX_RANGE_DAYS) {
      throw new ReportError(ReportErrorCode.BAD_REQUEST, `a report covers at most ${MAX_RANGE_DAYS} days`);
    }
    return {
      fromMs,
      toMs,
      key: `${req.from}..${req.to}`,
      labelZh: `${fy}年${fm}月${fd}日至${ty}年${tm}月${td}日`,
      labelEn: `${req.from} to ${req.to}`,
    };
  }
  // The last N days: up to the current minute, so that two requests a second apart agree.
  const toMs = Math.floor(now / 60_000) * 60_000;
  const fromMs = toMs - req.lastDays * 86_400_000;
  const from = cal.dayKey(fromMs);
  const to = cal.dayKey(toMs - 1);
  return {
    fromMs,
    toMs,
    key: `last${req.lastDays}d@${from}..${to}`,
    labelZh: `近${req.lastDays}天（${from}至${to}）`,
    labelEn: `last ${req.lastDays} days (${from} to ${to})`,
  };
}

/** The calendar month before the one containing `now`: what the schedule reports on the 1st. */
export function previousMonth(timeZone: string, now: number): string {
  const d = new ZonedCalendar(timeZone).dateOf(now);
  const y = d.month === 1 ? d.year - 1 : d.year;
  const m = d.month === 1 ? 12 : d.month - 1;
  return `${y}-${String(m).padStart(2, '0')}`;
}
