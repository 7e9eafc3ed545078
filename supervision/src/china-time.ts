/**
 * China Standard Time is UTC+8 all year (no daylight saving since 1991): a fixed offset gives
 * Asia/Shanghai wall time without depending on the ICU data the process was built with.
 */
export const CHINA_OFFSET_MS = 8 * 3_600_000;

/** `2026-01-05 14:03` in Asia/Shanghai. */
export function chinaDateTime(ms: number): string {
  const iso = new Date(ms + CHINA_OFFSET_MS).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

/** `2026-01-05` in Asia/Shanghai. */
export function chinaDate(ms: number): string {
  return new Date(ms + CHINA_OFFSET_MS).toISOString().slice(0, 10);
}

/** Start of the Asia/Shanghai day that holds `ms`. */
export function chinaStartOfDay(ms: number): number {
  const day = 86_400_000;
  return Math.floor((ms + CHINA_OFFSET_MS) / day) * day - CHINA_OFFSET_MS;
}
