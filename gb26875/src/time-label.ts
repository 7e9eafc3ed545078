import type { Dialect } from './dialect.js';

/**
 * A time label (时间标签, GB/T 26875.3-2011 §8.2.2): second, minute, hour, day, month, year − 2000,
 * one byte each, in the UITD's local civil time. The standard carries no time zone: the user of
 * the codec says which (`utcOffsetMinutes`, +480 in China).
 */
export interface TimeLabel {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export const TIME_LABEL_BYTES = 6;

const toBcd = (n: number) => (((Math.floor(n / 10) % 10) << 4) | (n % 10)) & 0xff;
const fromBcd = (b: number) => (b >> 4) * 10 + (b & 0x0f);
const fromBinary = (b: number) => b;
const toBinary = (n: number) => n & 0xff;

export function readTimeLabel(buf: Uint8Array, at: number, dialect: Pick<Dialect, 'time'>): TimeLabel {
  const f = dialect.time === 'bcd' ? fromBcd : fromBinary;
  return {
    second: f(buf[at] ?? 0),
    minute: f(buf[at + 1] ?? 0),
    hour: f(buf[at + 2] ?? 0),
    day: f(buf[at + 3] ?? 0),
    month: f(buf[at + 4] ?? 0),
    year: 2000 + f(buf[at + 5] ?? 0),
  };
}

export function writeTimeLabel(buf: Uint8Array, at: number, t: TimeLabel, dialect: Pick<Dialect, 'time'>): void {
  const f = dialect.time === 'bcd' ? toBcd : toBinary;
  buf[at] = f(t.second);
  buf[at + 1] = f(t.minute);
  buf[at + 2] = f(t.hour);
  buf[at + 3] = f(t.day);
  buf[at + 4] = f(t.month);
  buf[at + 5] = f(t.year - 2000);
}

/** True when every field is in range (a real date: 31 February is not). */
export function isValidTimeLabel(t: TimeLabel): boolean {
  if (t.year < 2000 || t.year > 2099 || t.month < 1 || t.month > 12 || t.day < 1) return false;
  if (t.hour > 23 || t.minute > 59 || t.second > 59) return false;
  return t.day <= new Date(Date.UTC(t.year, t.month, 0)).getUTCDate();
}

/** The label as ms since the epoch, or undefined when it is not a real time. */
export function timeLabelToEpochMs(t: TimeLabel, utcOffsetMinutes: number): number | undefined {
  if (!isValidTimeLabel(t)) return undefined;
  return Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second) - utcOffsetMinutes * 60_000;
}

/** The local civil time of `ms` at `utcOffsetMinutes`. */
export function timeLabelFromEpochMs(ms: number, utcOffsetMinutes: number): TimeLabel {
  const d = new Date(ms + utcOffsetMinutes * 60_000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
  };
}
