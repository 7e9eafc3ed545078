import { SimErrorCode, SimulatorError } from './errors.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;

/**
 * Parses `500ms`, `30s`, `5m`, `1h30m`, `1d`, or a bare number of seconds, into milliseconds.
 * Returns `undefined` for anything else so callers can word their own error.
 */
export function parseDurationMs(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) && text >= 0 ? Math.round(text * 1000) : undefined;
  const s = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (s === '') return undefined;
  PART.lastIndex = 0;
  let total = 0;
  let end = 0;
  for (let m = PART.exec(s); m !== null; m = PART.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    end = PART.lastIndex;
  }
  return end === s.length ? Math.round(total) : undefined;
}

/** `+5m`, `-10m`, `90s`: a signed duration in milliseconds. */
export function parseSignedDurationMs(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? Math.round(text * 1000) : undefined;
  const s = text.trim();
  const sign = s.startsWith('-') ? -1 : 1;
  const ms = parseDurationMs(s.startsWith('-') || s.startsWith('+') ? s.slice(1) : s);
  return ms === undefined ? undefined : sign * ms;
}

/** Like `parseDurationMs` but throws a `SimulatorError` naming the option. */
export function requireDurationMs(what: string, text: string | number): number {
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    throw new SimulatorError(
      SimErrorCode.BAD_ARGUMENT,
      `${what}: ${JSON.stringify(text)} is not a duration (examples: 90s, 5m, 1h30m, 1d)`,
    );
  }
  return ms;
}

/** `1h02m03s`-style, for progress lines and summaries. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(total / 86_400);
  const h = Math.floor((total % 86_400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (d > 0) return `${d}d${String(h).padStart(2, '0')}h${String(m).padStart(2, '0')}m`;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(s).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}
