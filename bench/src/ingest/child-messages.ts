import type { SimGateway } from './province.js';

/** Parent → generator. */
export type GeneratorCommand =
  | { type: 'init'; brokerUrl: string; connections: number; gateways: SimGateway[] }
  | { type: 'run'; step: number; rate: number; durationMs: number; tickMs: number; ackTimeoutMs: number }
  | { type: 'exit' };

/** One message of a probe gateway: its points are followed in InfluxDB. */
export interface ProbeRecord {
  gateway: string;
  seq: number;
  /** Publish time in ms = the payload's `ts` = the stored point's time. */
  ts: number;
}

export interface GeneratorStepResult {
  step: number;
  /** `publish()` calls. */
  published: number;
  /** PUBACKs received from the broker. */
  acked: number;
  /** Publishes that failed (connection lost, ack timeout). */
  failed: number;
  firstPublishAt: number;
  lastPublishAt: number;
  /** Largest lateness of a scheduler tick behind its schedule, ms. */
  maxTickLagMs: number;
  /** Time from the last publish until every PUBACK was in, ms. */
  ackDrainMs: number;
}

/** Generator → parent. */
export type GeneratorReport =
  | { type: 'ready'; connectMs: number }
  | { type: 'progress'; step: number; published: number; acked: number; probes: ProbeRecord[] }
  | { type: 'done'; result: GeneratorStepResult; probes: ProbeRecord[] }
  | { type: 'error'; message: string };

/** Parent → baseline subscriber. */
export type SubscriberCommand =
  | { type: 'init'; brokerUrl: string; topic: string; receiveMaximum: number }
  | { type: 'snapshot' }
  | { type: 'exit' };

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Baseline subscriber → parent. */
export type SubscriberReport =
  | { type: 'ready' }
  | { type: 'progress'; received: number }
  | {
      type: 'snapshot';
      received: number;
      firstAt: number;
      lastAt: number;
      latency: LatencySummary;
    }
  | { type: 'error'; message: string };
