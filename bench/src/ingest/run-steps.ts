import type { InfluxTarget } from '@anlian/timeseries';
import type { GeneratorCommand, GeneratorReport, SubscriberCommand, SubscriberReport } from './child-messages.js';
import type { IngestProcess } from './ingest-process.js';
import type { IpcChild } from './ipc-child.js';
import { ProcessSampler } from './process-sampler.js';
import { type StepResult, TARGETS } from './step-result.js';
import { countStored, ProbePoller, receiveLag } from './stored-points.js';

export type Generator = IpcChild<GeneratorCommand, GeneratorReport>;
export type Subscriber = IpcChild<SubscriberCommand, SubscriberReport>;

export interface StepContext {
  generator: Generator;
  /** pids of the other processes whose CPU is reported alongside. */
  otherPids: Record<string, number | undefined>;
  rate: number;
  durationS: number;
  tickMs: number;
  drainTimeoutS: number;
  step: number;
  log: (line: string) => void;
}

const MEMORY_GAUGES =
  /^anlian_(process_resident_memory_bytes|nodejs_heap_size_(total|used)_bytes|nodejs_external_memory_bytes)$/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ACK_TIMEOUT_MS = 30_000;

function runGenerator(ctx: StepContext) {
  ctx.generator.send({
    type: 'run',
    step: ctx.step,
    rate: ctx.rate,
    durationMs: ctx.durationS * 1000,
    tickMs: ctx.tickMs,
    ackTimeoutMs: ACK_TIMEOUT_MS,
  });
  return ctx.generator.next('done', ctx.durationS * 1000 + ACK_TIMEOUT_MS + 60_000);
}

/** Logs progress once a second while a step runs. */
function progressLogger(ctx: StepContext, delivered: () => string): () => void {
  let published = 0;
  let acked = 0;
  const off = ctx.generator.on((r) => {
    if (r.type === 'progress') {
      published = r.published;
      acked = r.acked;
    }
  });
  const started = Date.now();
  const timer = setInterval(() => {
    const s = Math.round((Date.now() - started) / 1000);
    ctx.log(`  t=${String(s).padStart(3)} s  published ${published}  acked ${acked}  ${delivered()}`);
  }, 5000);
  return () => {
    off();
    clearInterval(timer);
  };
}

/** Phase A: the generator against the counting subscriber. */
export async function runBaselineStep(ctx: StepContext, subscriber: Subscriber): Promise<StepResult> {
  let received = 0;
  const offProgress = subscriber.on((r) => {
    if (r.type === 'progress') received = r.received;
  });
  const stopLog = progressLogger(ctx, () => `received ${received}`);
  const sampler = new ProcessSampler({ baseline: subscriber.pid, ...ctx.otherPids, bench: process.pid });
  sampler.start();
  const { result: gen } = await runGenerator(ctx);
  stopLog();

  const drainStart = Date.now();
  let last = received;
  let lastChange = Date.now();
  while (received < gen.published && Date.now() - drainStart < ctx.drainTimeoutS * 1000) {
    await sleep(100);
    if (received !== last) {
      last = received;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 10_000) break;
  }
  const drainMs = Date.now() - drainStart;
  const usage = sampler.stop();
  offProgress();
  subscriber.send({ type: 'snapshot' });
  const snap = await subscriber.next('snapshot', 10_000);

  const loss = gen.published - snap.received;
  const notes: string[] = [];
  if (loss < 0) notes.push(`${-loss} duplicate deliveries`);
  return {
    phase: 'baseline',
    offeredRate: ctx.rate,
    durationS: ctx.durationS,
    published: gen.published,
    acked: gen.acked,
    failed: gen.failed,
    delivered: snap.received,
    loss,
    achievedRate: sustainedRate(snap.received, ctx.durationS, snap.lastAt - gen.lastPublishAt, snap.latency.p50),
    latency: { what: 'publish → receive (payload ts)', samples: snap.latency.count, ...pick(snap.latency) },
    usage,
    generator: { maxTickLagMs: gen.maxTickLagMs, ackDrainMs: gen.ackDrainMs },
    drainMs,
    notes,
    held: loss <= 0 && gen.failed === 0 && gen.acked === gen.published && snap.latency.p99 <= TARGETS.p99Ms,
  };
}

/**
 * Delivered ÷ (duration + backlog): a system that keeps up delivers its last message about one
 * typical (p50) latency after the last publish; anything later is a backlog it had built up, and
 * the rate it really sustained is lower by that much.
 */
function sustainedRate(
  delivered: number,
  durationS: number,
  lastDeliveryAfterLastPublishMs: number,
  p50Ms: number,
): number {
  const backlogS = Math.max(0, (lastDeliveryAfterLastPublishMs - (Number.isFinite(p50Ms) ? p50Ms : 0)) / 1000);
  return delivered / (durationS + backlogS);
}

function pick(l: { p50: number; p99: number; max: number }) {
  return { p50: l.p50, p99: l.p99, max: l.max };
}

/** Phase B: the generator against ingest writing to InfluxDB. */
export async function runIngestStep(
  ctx: StepContext,
  ingest: IngestProcess,
  target: InfluxTarget,
  probeIntervalMs: number,
): Promise<StepResult> {
  const poller = new ProbePoller(target, { intervalMs: probeIntervalMs, stepStartMs: Date.now() });
  const offProbes = ctx.generator.on((r) => {
    if (r.type === 'progress' || r.type === 'done') poller.add(r.probes);
  });
  const stopLog = progressLogger(ctx, () => `probes pending ${poller.pending}`);
  const sampler = new ProcessSampler({ ingest: ingest.pid, ...ctx.otherPids, bench: process.pid });
  sampler.start();
  poller.start();
  // ingest's own memory gauges (prom-client default metrics), max over the step: where its RSS goes.
  const memory: Record<string, number> = {};
  const scrapeMemory = () =>
    ingest.metrics().then(
      (m) => {
        for (const [k, v] of m) {
          if (!MEMORY_GAUGES.test(k)) continue;
          const mb = v / 1024 / 1024;
          memory[k] = Math.max(memory[k] ?? 0, Math.round(mb * 10) / 10);
        }
      },
      () => undefined, // A missed scrape only lowers the sample count.
    );
  const memoryTimer = setInterval(() => void scrapeMemory(), 5000);
  const metricsBefore = await ingest.metrics().catch(() => new Map<string, number>());
  const { result: gen } = await runGenerator(ctx);
  stopLog();
  offProbes();

  // Drain: until InfluxDB holds every published point and every probe was seen, or nothing
  // changes for 15 s, or the drain timeout.
  const drainStart = Date.now();
  let stored = 0;
  let lastChange = Date.now();
  const notes: string[] = [];
  while (Date.now() - drainStart < ctx.drainTimeoutS * 1000) {
    await sleep(250);
    let now: number;
    try {
      now = await countStored(target, gen.firstPublishAt, gen.lastPublishAt);
    } catch (err) {
      notes.push(`count query failed: ${(err as Error).message}`);
      continue;
    }
    if (now !== stored) {
      stored = now;
      lastChange = Date.now();
    }
    if (stored >= gen.published && poller.pending === 0) break;
    if (Date.now() - lastChange > 15_000) {
      notes.push('stored count stopped growing for 15 s');
      break;
    }
  }
  const drainMs = Date.now() - drainStart;
  clearInterval(memoryTimer);
  await scrapeMemory();
  const usage = sampler.stop();
  const probe = await poller.stop();
  if (poller.lastError) notes.push(`a probe query failed: ${poller.lastError}`);
  stored = await countStored(target, gen.firstPublishAt, gen.lastPublishAt);
  const metrics = await ingest.metrics().catch((err: unknown) => {
    notes.push(`metrics scrape failed: ${(err as Error).message}`);
    return new Map<string, number>();
  });
  const counters: Record<string, number> = {};
  for (const [k, v] of metrics) {
    if (
      /^anlian_(ingest_(messages|rejected|duplicates|sequence_out_of_window|unconfirmed)|influx_(points_written|write_batches|rejected_lines|spool_refused))/.test(
        k,
      )
    ) {
      counters[k] = v;
    }
  }
  const summary = probe.latency.summary();
  const loss = gen.published - stored;
  if (summary.count === 0) notes.push('no probe message in this step: latency not measured');
  return {
    phase: 'ingest',
    offeredRate: ctx.rate,
    durationS: ctx.durationS,
    published: gen.published,
    acked: gen.acked,
    failed: gen.failed,
    delivered: stored,
    loss,
    achievedRate: sustainedRate(stored, ctx.durationS, lastChange - gen.lastPublishAt, summary.p50),
    latency: { what: 'publish → visible in InfluxDB (1 % probe gateways)', samples: summary.count, ...pick(summary) },
    ingestLag: receiveLag(metricsBefore, metrics),
    usage,
    generator: { maxTickLagMs: gen.maxTickLagMs, ackDrainMs: gen.ackDrainMs },
    drainMs,
    ingestCounters: counters,
    ingestMemoryMb: memory,
    probe: { published: probe.published, seen: probe.seen, polls: probe.polls, meanPollMs: probe.meanPollMs },
    notes,
    held: loss === 0 && gen.failed === 0 && gen.acked === gen.published && summary.p99 <= TARGETS.p99Ms,
  };
}
