import type { LatencySummary } from '../ingest/child-messages.js';

/** One probe gateway as the prober drives it: its own MQTT connection, fire detectors only. */
export interface ProbeGateway {
  county: string;
  institution: string;
  gateway: string;
  /** Fire detector ids; each gets at most one fire event per run (its alert stays open). */
  detectors: string[];
}

/** Parent → prober. */
export type ProberCommand =
  | { type: 'init'; brokerUrl: string; gateways: ProbeGateway[]; heartbeatMs: number }
  | { type: 'run'; durationMs: number; minIntervalMs: number; maxIntervalMs: number; settleMs: number }
  | { type: 'exit' };

/** One fire event the prober published. Times are `Date.now()` in ms (one clock on one machine). */
export interface ProbeRecord {
  gateway: string;
  device: string;
  seq: number;
  /** Stamped just before `publish()`; also the payload's `ts`. */
  publishedAt: number;
  /** PUBACK from the broker, or 0. */
  ackedAt: number;
  /** Received by the prober's own plain subscriber on the probe topics (the baseline), or 0. */
  brokerDeliveredAt: number;
}

/** Event-loop delay of a process over a window, from `perf_hooks.monitorEventLoopDelay`, ms. */
export interface LoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/** Prober → parent. */
export type ProberReport =
  | { type: 'ready'; connectMs: number }
  | { type: 'progress'; published: number; delivered: number }
  | { type: 'done'; probes: ProbeRecord[]; heartbeats: number; loopDelay: LoopDelay }
  | { type: 'error'; message: string };

/** Durations of `AlertingService.tick` (time-based rules over every watched device, escalations), ms. */
export interface TickStats {
  count: number;
  p50: number;
  max: number;
  /** Sum over the window: time the event loop spent in ticks. */
  totalMs: number;
}

/** Parent → the ingest + alerting child: report and reset the window's stats. */
export type AlertingChildCommand = { type: 'stats' };

/** The ingest + alerting child → parent. */
export type AlertingChildReport =
  | { type: 'ready'; channels: string[] }
  | {
      type: 'raised';
      alertId: string;
      rule: string;
      severity: string;
      gateway: string;
      device: string | undefined;
      /** The alert's `openedAt`: ingest's receive time of the message (`receivedAt`). */
      openedAt: number;
      /** `Date.now()` in the `AlertingService.onChange` listener, called synchronously by the raise. */
      raisedAt: number;
    }
  | { type: 'stats'; loopDelay: LoopDelay; tick: TickStats };

export type { LatencySummary };
