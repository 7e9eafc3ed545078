import { type InfluxTarget, queryV1 } from '@anlian/timeseries';
import type { ProbeRecord } from './child-messages.js';
import { LatencyRecorder } from './latency-recorder.js';
import { PROBE_GATEWAY_REGEX } from './province.js';

/** The measurements ingest writes telemetry to, one per device kind. */
export const TELEMETRY_MEASUREMENTS = ['fire', 'extinguisher', 'kitchen', 'camera'] as const;
const FROM = TELEMETRY_MEASUREMENTS.join(', ');

type Series = Awaited<ReturnType<typeof queryV1>>[number]['series'];

/** One InfluxQL statement's series; throws if the statement failed. */
async function querySeries(target: InfluxTarget, q: string, timeoutMs = 30_000): Promise<Series> {
  const [first] = await queryV1(target, q, { timeoutMs });
  if (first?.error !== undefined) throw new Error(`${first.error} (in: ${q})`);
  return first?.series ?? [];
}

/** Points stored with `time` (= the payload's `ts` = publish time) in [fromMs, toMs]. */
export async function countStored(target: InfluxTarget, fromMs: number, toMs: number): Promise<number> {
  const series = await querySeries(
    target,
    `SELECT count(seq) FROM ${FROM} WHERE time >= ${fromMs}ms AND time <= ${toMs}ms`,
  );
  let total = 0;
  for (const s of series) for (const row of s.values) total += Number(row[1] ?? 0);
  return total;
}

/**
 * Ingest's own receive lag (its receive time − `ts`) over a step, from the difference of two
 * scrapes of its `anlian_ingest_receive_lag_seconds` histogram (telemetry): p50, p99 and max as
 * the upper bound of the bucket they fall in, in ms (Infinity past the last bucket).
 */
export function receiveLag(
  before: Map<string, number>,
  after: Map<string, number>,
): { p50: number; p99: number; max: number } | undefined {
  const buckets: { le: number; count: number }[] = [];
  for (const [key, value] of after) {
    const m = /^anlian_ingest_receive_lag_seconds_bucket\{(.*)\}$/.exec(key);
    if (!m || !/(^|,)type="telemetry"/.test(m[1] as string)) continue;
    const le = /(?:^|,)le="([^"]+)"/.exec(m[1] as string)?.[1];
    if (le === undefined) continue;
    buckets.push({
      le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le) * 1000,
      count: value - (before.get(key) ?? 0),
    });
  }
  buckets.sort((x, y) => x.le - y.le);
  const total = buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const at = (q: number) => buckets.find((b) => b.count >= q * total)?.le ?? Number.POSITIVE_INFINITY;
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}

export interface ProbeResult {
  /** Probe messages the generator published. */
  published: number;
  /** Of those, how many became visible in InfluxDB. */
  seen: number;
  /** Publish → first visible, per probe message; never-seen ones count as Infinity. */
  latency: LatencyRecorder;
  firstSeenAt: number;
  lastSeenAt: number;
  polls: number;
  /** Mean duration of one poll (its resolution), ms. */
  meanPollMs: number;
}

/**
 * Publish → stored latency, measured from outside: 1 gateway in 100 is a probe; the generator
 * reports each probe message (gateway, seq, publish time = `ts`), and this poller queries InfluxDB
 * in a loop for the probe gateways' points newer than the oldest one not yet seen. A point's
 * latency is the end of the first query that returned it minus its publish time: an upper bound,
 * at most one poll (interval + query time) late.
 */
export class ProbePoller {
  readonly #target: InfluxTarget;
  readonly #intervalMs: number;
  /** `gateway:seq` → publish time, for probes the generator reported and the poller has not seen. */
  readonly #unseen = new Map<string, number>();
  /** `gateway:seq` → time first seen (also for points seen before the generator reported them). */
  readonly #seenAt = new Map<string, number>();
  readonly #latency = new LatencyRecorder();
  #published = 0;
  #seenPublished = 0;
  #newestReportedTs = 0;
  #cursorFloor: number;
  #firstSeenAt = 0;
  #lastSeenAt = 0;
  #polls = 0;
  #pollMsTotal = 0;
  #running = false;
  #loop: Promise<void> = Promise.resolve();
  #lastError: string | undefined;

  constructor(target: InfluxTarget, opts: { intervalMs: number; stepStartMs: number }) {
    this.#target = target;
    this.#intervalMs = opts.intervalMs;
    this.#cursorFloor = opts.stepStartMs;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** Probe messages as the generator reports them. */
  add(probes: readonly ProbeRecord[]): void {
    for (const p of probes) {
      this.#published++;
      const key = `${p.gateway}:${p.seq}`;
      const seenAt = this.#seenAt.get(key);
      if (seenAt !== undefined) this.#record(p.ts, seenAt);
      else this.#unseen.set(key, p.ts);
      if (p.ts > this.#newestReportedTs) this.#newestReportedTs = p.ts;
    }
  }

  get pending(): number {
    return this.#unseen.size;
  }

  #record(ts: number, seenAt: number): void {
    this.#seenPublished++;
    this.#latency.add(seenAt - ts);
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      await this.#poll();
      await new Promise((r) => setTimeout(r, this.#intervalMs));
    }
  }

  async #poll(): Promise<void> {
    // Every probe not seen yet has ts ≥ the oldest reported-unseen one, or was published after the
    // newest reported one (reports trail publishing by ≤ 0.5 s).
    let cursor = this.#newestReportedTs > 0 ? this.#newestReportedTs : this.#cursorFloor;
    for (const ts of this.#unseen.values()) if (ts < cursor) cursor = ts;
    cursor = Math.max(cursor, this.#cursorFloor);
    const started = Date.now();
    try {
      const series = await querySeries(
        this.#target,
        `SELECT seq FROM ${FROM} WHERE gateway =~ /${PROBE_GATEWAY_REGEX}/ AND time >= ${cursor}ms GROUP BY gateway`,
        10_000,
      );
      const now = Date.now();
      this.#polls++;
      this.#pollMsTotal += now - started;
      for (const s of series) {
        const gateway = s.tags.gateway;
        for (const row of s.values) {
          const key = `${gateway}:${String(row[1])}`;
          if (this.#seenAt.has(key)) continue;
          this.#seenAt.set(key, now);
          if (this.#firstSeenAt === 0) this.#firstSeenAt = now;
          this.#lastSeenAt = now;
          const ts = this.#unseen.get(key);
          if (ts !== undefined) {
            this.#unseen.delete(key);
            this.#record(ts, now);
          }
        }
      }
    } catch (err) {
      this.#lastError = (err as Error).message;
    }
  }

  async stop(): Promise<ProbeResult> {
    this.#running = false;
    await this.#loop;
    for (let i = 0; i < this.#unseen.size; i++) this.#latency.add(Number.POSITIVE_INFINITY);
    return {
      published: this.#published,
      seen: this.#seenPublished,
      latency: this.#latency,
      firstSeenAt: this.#firstSeenAt,
      lastSeenAt: this.#lastSeenAt,
      polls: this.#polls,
      meanPollMs: this.#polls === 0 ? 0 : this.#pollMsTotal / this.#polls,
    };
  }
}
