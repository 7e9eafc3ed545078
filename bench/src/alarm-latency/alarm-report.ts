import type { LatencySummary } from '../ingest/child-messages.js';
import type { ProfileSummary } from '../ingest/cpu-profile-summary.js';
import type { MachineInfo } from '../ingest/machine-info.js';
import type { ProcessUsage } from '../ingest/process-sampler.js';
import type { LoopDelay, TickStats } from './alarm-messages.js';
import type { FailoverReport } from './failover-report.js';
import type { GatewayHopReport } from './gateway-hop-report.js';

/** Targets of issue 4 for bench/alarm-latency. */
export const ALARM_TARGETS = { rate: 10_000, durationS: 60, p99Ms: 250, maxMs: 1000 } as const;

export type PathId = 'broker' | 'ingestReceived' | 'raised' | 'pushed' | 'raisedToPushed';

export interface PathLatency extends LatencySummary {
  /** What the figure is, for the table and the JSON. */
  what: string;
  /** Probes with no measurement (never delivered, raised or pushed within the drain): counted as ∞. */
  missing: number;
}

/** One probe's figures (ms after its publish; null = never), for the JSON. */
export interface ProbeSample {
  gateway: string;
  device: string;
  publishedAt: number;
  broker: number | null;
  ingestReceived: number | null;
  raised: number | null;
  pushed: number | null;
}

export interface AlarmVerdict {
  target: string;
  measured: string;
  verdict: 'PASS' | 'FAIL';
}

export interface AlarmBenchReport {
  startedAt: string;
  machine: MachineInfo;
  options: Record<string, unknown>;
  setup: Record<string, unknown>;
  method: string[];
  background: {
    offeredRate: number;
    durationS: number;
    published: number;
    acked: number;
    failed: number;
    /** Telemetry ingest accepted from the start of the load until it caught up (or the drain ended). */
    ingestAccepted: number;
    /** How long after the last publish ingest had accepted everything published, ms; null if it never did. */
    ingestCaughtUpMs: number | null;
    /** ingestAccepted ÷ (duration + catch-up time), msg/s. */
    ingestRate: number;
    ingestRejected: number;
    maxTickLagMs: number;
    ackDrainMs: number;
  };
  probes: {
    published: number;
    acked: number;
    brokerDelivered: number;
    raised: number;
    pushed: number;
    /** Fewest recipients a probe's first push named (the institution's manager and fire_safety contacts). */
    minRecipients: number | null;
    heartbeats: number;
  };
  latency: Record<PathId, PathLatency>;
  /** Alerts raised that were not probes (the background should raise none), by rule. */
  otherAlerts: Record<string, number>;
  /** Pushes beyond each probe alert's first one (retries, other alerts). */
  otherPushes: number;
  /** alerting's own histogram `anlian_alert_received_to_dispatch_seconds` over the run: mean, ms. */
  alertingReceivedToDispatchMeanMs: number | null;
  /** CPU and RSS over the load and its drain. */
  usage: Record<string, ProcessUsage>;
  /** Event-loop delay over the same window, per process: a bound on its timestamps' lateness. */
  loopDelay: Record<string, LoopDelay>;
  /** `AlertingService.tick` durations over the same window (null if not reported). */
  alertingTicks: TickStats | null;
  targets: AlarmVerdict[];
  atTargetLoad: boolean;
  notes: string[];
  /** When the background load started (ms since epoch), to place samples on the run's timeline. */
  loadStartedAt: number;
  samples: ProbeSample[];
  /** With --via-gateway: the fire alarms through a real gateway, hop by hop (rendered by renderGatewayHop). */
  gatewayHop?: GatewayHopReport;
  /** --failover: the active alerting node SIGKILLed halfway (issue 12). */
  failover?: FailoverReport;
  /** With --profile: where the ingest + alerting process spent its CPU. */
  profile?: ProfileSummary;
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : n === Infinity ? '∞' : '—');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : n === Infinity ? '∞' : '—');

export function judgeAlarmTargets(latency: Record<PathId, PathLatency>): AlarmVerdict[] {
  const out: AlarmVerdict[] = [];
  for (const id of ['raised', 'pushed'] as const) {
    const l = latency[id];
    out.push({
      target: `${l.what}: p99 ≤ ${ALARM_TARGETS.p99Ms} ms`,
      measured: `${f0(l.p99)} ms (${l.count} probes)`,
      verdict: l.count > 0 && l.p99 <= ALARM_TARGETS.p99Ms ? 'PASS' : 'FAIL',
    });
    out.push({
      target: `${l.what}: max ≤ ${f0(ALARM_TARGETS.maxMs)} ms`,
      measured: `${f0(l.max)} ms${l.missing > 0 ? ` (${l.missing} never arrived)` : ''}`,
      verdict: l.count > 0 && l.max <= ALARM_TARGETS.maxMs ? 'PASS' : 'FAIL',
    });
  }
  return out;
}

function table(header: string[], rows: string[][], rightAlign: (i: number) => boolean): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (rightAlign(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

const PATH_ROWS: { id: PathId; label: string }[] = [
  { id: 'broker', label: '(a) baseline: publish → plain subscriber (broker)' },
  { id: 'ingestReceived', label: '    publish → ingest received (alert openedAt)' },
  { id: 'raised', label: '(b) publish → alert raised' },
  { id: 'pushed', label: '(c) publish → first push at the webhook' },
  { id: 'raisedToPushed', label: '    alert raised → first push at the webhook' },
];

export function renderAlarmReport(r: AlarmBenchReport): string {
  const out: string[] = [];
  const b = r.background;
  out.push(
    `Fire alarms under ${f0(b.offeredRate)} msg/s of background telemetry for ${b.durationS} s ` +
      `(${r.probes.published} fire events at ${r.setup.probeGateways} probe gateways):`,
  );
  out.push('');
  out.push(
    table(
      ['path', 'count', 'p50 ms', 'p99 ms', 'max ms', 'missing'],
      PATH_ROWS.map(({ id, label }) => {
        const l = r.latency[id];
        return [label, f0(l.count), f0(l.p50), f0(l.p99), f0(l.max), f0(l.missing)];
      }),
      (i) => i > 0,
    ),
  );
  out.push('');
  const caughtUp =
    b.ingestCaughtUpMs === null
      ? 'did NOT catch up within the drain'
      : `caught up ${f1(b.ingestCaughtUpMs / 1000)} s after the last publish`;
  out.push(
    `Background: published ${f0(b.published)} (${f0(b.offeredRate)}/s offered, ${f0(b.acked)} PUBACKed, ${f0(b.failed)} failed; ` +
      `gen tick lag ≤ ${f1(b.maxTickLagMs)} ms); ingest accepted ${f0(b.ingestAccepted)} telemetry, ${caughtUp} → ` +
      `sustained ${f0(b.ingestRate)} msg/s; rejected ${f0(b.ingestRejected)}`,
  );
  out.push(
    `Probes: ${r.probes.published} published, ${r.probes.acked} PUBACKed, ${r.probes.brokerDelivered} at the plain subscriber, ` +
      `${r.probes.raised} raised, ${r.probes.pushed} pushed (≥ ${r.probes.minRecipients ?? '—'} recipients each); ` +
      `${r.probes.heartbeats} heartbeats beside them`,
  );
  const other = Object.entries(r.otherAlerts);
  out.push(
    `Other alerts raised during the run: ${other.length === 0 ? 'none' : other.map(([k, v]) => `${k} × ${v}`).join(', ')}; ` +
      `other pushes: ${r.otherPushes}`,
  );
  if (r.alertingReceivedToDispatchMeanMs !== null) {
    out.push(
      `alerting's own anlian_alert_received_to_dispatch_seconds (ingest receive → dispatch), mean: ${f1(r.alertingReceivedToDispatchMeanMs)} ms`,
    );
  }
  out.push('');
  out.push('Processes over the load and its drain (CPU % of one core, max RSS; event-loop delay p99/max ms):');
  const names = Object.keys(r.usage).filter((k) => k !== 'machine');
  const ours = names.reduce((a, k) => a + (r.usage[k]?.cpuPercent ?? 0), 0);
  out.push(
    table(
      ['process', 'CPU %', 'RSS MB', 'loop delay p99/max'],
      [
        ...names.map((k) => {
          const u = r.usage[k];
          const d = r.loopDelay[k];
          return [
            k,
            f1(u?.cpuPercent ?? Number.NaN),
            f1(u?.maxRssMb ?? Number.NaN),
            d ? `${f1(d.p99)} / ${f1(d.max)}` : '',
          ];
        }),
        ['not ours (rest of the machine)', f1(Math.max(0, (r.usage.machine?.cpuPercent ?? 0) - ours)), '', ''],
      ],
      (i) => i > 0,
    ),
  );
  const t = r.alertingTicks;
  if (t && t.count > 0) {
    const wall = r.usage.machine?.wallSeconds ?? 0;
    out.push(
      `alerting ticks (time-based rules over every watched device, escalations): ${t.count}, ` +
        `p50 ${f1(t.p50)} ms, max ${f1(t.max)} ms, ${f1(t.totalMs / 1000)} s in all` +
        (wall > 0
          ? ` (${f1(t.totalMs / 10 / wall)} % of the window, on the event loop ${r.options.form === 'services' ? 'of the alarm lane' : 'ingest reads from'})`
          : ''),
    );
  }
  for (const n of r.notes) out.push(`note: ${n}`);
  out.push('');
  out.push(
    table(
      ['target', 'measured', 'verdict'],
      r.targets.map((t) => [t.target, t.measured, t.verdict]),
      () => false,
    ),
  );
  if (!r.atTargetLoad) {
    out.push(
      `(verdicts at ${f0(b.offeredRate)} msg/s × ${b.durationS} s: the targets are stated for ` +
        `${f0(ALARM_TARGETS.rate)} msg/s × ${ALARM_TARGETS.durationS} s, so this run does not settle them)`,
    );
  }
  return out.join('\n');
}
