import type { ProcessUsage } from './process-sampler.js';

export type Phase = 'baseline' | 'ingest';

/** Targets of the issue, for this 2-core machine with everything local. */
export const TARGETS = {
  rate: 10_000,
  durationS: 60,
  baselineRatio: 0.5,
  p99Ms: 2000,
  rssMb: 300,
} as const;

/** One phase at one offered rate. */
export interface StepResult {
  phase: Phase;
  offeredRate: number;
  durationS: number;
  /** `publish()` calls by the generator. */
  published: number;
  /** PUBACKs from the broker to the generator. */
  acked: number;
  failed: number;
  /** Received by the baseline subscriber, or points counted in InfluxDB. */
  delivered: number;
  /** published − delivered. */
  loss: number;
  /**
   * Sustained rate: delivered ÷ (duration + backlog), where the backlog is how much later than one
   * p50 latency after the last publish the last message was delivered, msg/s.
   */
  achievedRate: number;
  latency: {
    /** What was measured: publish → receive, or publish → visible in InfluxDB. */
    what: string;
    samples: number;
    p50: number;
    p99: number;
    max: number;
  };
  /** Ingest only: publish → ingest receive from its lag histogram (telemetry), bucket upper bounds, ms. */
  ingestLag?: { p50: number; p99: number; max: number };
  /** The measured process ('baseline' or 'ingest') plus the others, over the step and its drain. */
  usage: Record<string, ProcessUsage>;
  generator: { maxTickLagMs: number; ackDrainMs: number };
  /** From the end of publishing until everything arrived (or the drain timeout), ms. */
  drainMs: number;
  /** Ingest's own counters at the end of the step (cumulative over the run). */
  ingestCounters?: Record<string, number>;
  /** Ingest only: its prom-client memory gauges (RSS, V8 heap total/used, external), max over the step, MB. */
  ingestMemoryMb?: Record<string, number>;
  probe?: { published: number; seen: number; polls: number; meanPollMs: number };
  notes: string[];
  /** Zero loss, nothing failed, p99 within the target. */
  held: boolean;
}
