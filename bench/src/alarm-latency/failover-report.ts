import type { AlarmVerdict } from './alarm-report.js';

/**
 * Issue 12, item 5: killing the active alerting replica → first push of a fire alarm raised at
 * that moment ≤ 5 s (`--failover`: two `anlian alerting` nodes on one partition, the one acting
 * SIGKILLed halfway through the load; the other takes the partition over through PostgreSQL).
 */
export const FAILOVER_TARGET_MS = 5000;
/** The alarms "raised at that moment": published from this long before the kill … */
export const FAILOVER_BEFORE_MS = 1000;
/** … to this long after it. */
export const FAILOVER_AFTER_MS = 10_000;

/** A probe of the run: its detector's key (gateway/device) and when it was published. */
export interface FailoverProbe {
  key: string;
  publishedAt: number;
}

export interface FailoverReport {
  killed: string;
  survivor: string;
  /** The SIGKILL, ms since the epoch. */
  killedAt: number;
  /** The probes published from `FAILOVER_BEFORE_MS` before the kill to `FAILOVER_AFTER_MS` after it. */
  window: {
    probes: number;
    /** Never pushed within the drain. */
    missing: number;
    /** The longest publish → first push among them (∞ when one is missing). */
    maxPushMs: number;
    /** The first probe published at or after the kill: publish → first push, and kill → first push. */
    firstAfterKill: {
      key: string;
      publishedAfterKillMs: number;
      pushMs: number | null;
      killToPushMs: number | null;
    } | null;
  };
  /** Pushes of the run's probe alarms beyond each one's first (the bound: one per recipient per failover). */
  duplicatePushes: number;
  /** Probe alarms pushed more than twice (beyond the bound). */
  overBound: number;
  verdict: AlarmVerdict;
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '∞');

/**
 * The failover figures from the probes, the kill and the pushes (every push of a probe alarm, by
 * its detector's key: the killed node and the survivor may push one alarm under two alert ids).
 */
export function measureFailover(o: {
  killed: string;
  survivor: string;
  killedAt: number;
  probes: readonly FailoverProbe[];
  pushesByKey: ReadonlyMap<string, readonly number[]>;
}): FailoverReport {
  const firstPush = (key: string) => {
    const at = o.pushesByKey.get(key);
    return at && at.length > 0 ? Math.min(...at) : undefined;
  };
  const inWindow = o.probes.filter(
    (p) => p.publishedAt >= o.killedAt - FAILOVER_BEFORE_MS && p.publishedAt <= o.killedAt + FAILOVER_AFTER_MS,
  );
  let missing = 0;
  let maxPushMs = 0;
  for (const p of inWindow) {
    const at = firstPush(p.key);
    if (at === undefined) missing++;
    maxPushMs = Math.max(maxPushMs, at === undefined ? Number.POSITIVE_INFINITY : at - p.publishedAt);
  }
  const first = inWindow.filter((p) => p.publishedAt >= o.killedAt).sort((a, b) => a.publishedAt - b.publishedAt)[0];
  const firstAt = first ? firstPush(first.key) : undefined;
  let duplicatePushes = 0;
  let overBound = 0;
  for (const p of o.probes) {
    const n = o.pushesByKey.get(p.key)?.length ?? 0;
    duplicatePushes += Math.max(0, n - 1);
    if (n > 2) overBound++;
  }
  const ok = inWindow.length > 0 && missing === 0 && maxPushMs <= FAILOVER_TARGET_MS;
  return {
    killed: o.killed,
    survivor: o.survivor,
    killedAt: o.killedAt,
    window: {
      probes: inWindow.length,
      missing,
      maxPushMs,
      firstAfterKill: first
        ? {
            key: first.key,
            publishedAfterKillMs: first.publishedAt - o.killedAt,
            pushMs: firstAt === undefined ? null : firstAt - first.publishedAt,
            killToPushMs: firstAt === undefined ? null : firstAt - o.killedAt,
          }
        : null,
    },
    duplicatePushes,
    overBound,
    verdict: {
      target: `killing the active alerting replica → first push ≤ ${f0(FAILOVER_TARGET_MS)} ms`,
      measured:
        `${f0(maxPushMs)} ms (${inWindow.length} alarms published ${FAILOVER_BEFORE_MS / 1000} s before to ` +
        `${FAILOVER_AFTER_MS / 1000} s after the kill${missing > 0 ? `, ${missing} never pushed` : ''})`,
      verdict: ok ? 'PASS' : 'FAIL',
    },
  };
}

export function renderFailover(r: FailoverReport): string {
  const w = r.window;
  const first = w.firstAfterKill;
  return [
    `Failover: ${r.killed} (acting for the partition) SIGKILLed at ${new Date(r.killedAt).toISOString()}; ${r.survivor} took it over.`,
    `  alarms published ${FAILOVER_BEFORE_MS / 1000} s before to ${FAILOVER_AFTER_MS / 1000} s after the kill: ${w.probes}, ` +
      `publish → first push max ${f0(w.maxPushMs)} ms${w.missing > 0 ? `, ${w.missing} NEVER PUSHED` : ''}`,
    first
      ? `  the first alarm after the kill (published ${f0(first.publishedAfterKillMs)} ms after it): publish → first push ` +
        `${first.pushMs === null ? 'never' : `${f0(first.pushMs)} ms`}, kill → its first push ${first.killToPushMs === null ? 'never' : `${f0(first.killToPushMs)} ms`}`
      : '  no alarm was published after the kill',
    `  duplicate pushes over the whole run: ${r.duplicatePushes} (alarms pushed more than twice: ${r.overBound})`,
  ].join('\n');
}
