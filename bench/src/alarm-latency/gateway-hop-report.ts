import { LatencyRecorder } from '../ingest/latency-recorder.js';
import type { AlarmVerdict, PathId, PathLatency } from './alarm-report.js';
import type { HopProbeRecord } from './gateway-hop-messages.js';

/** Targets of issue 12, item 5 (at 10,000 msg/s of background telemetry, like issue 4's). */
export const HOP_TARGETS = {
  /** County broker publish → first push (the direct probes). */
  directPushP99Ms: 30,
  directPushMaxMs: 100,
  /** Device → first push, through the gateway. */
  devicePushP99Ms: 60,
} as const;

/**
 * Each hop on the way of a fire alarm through the gateway. Per-hop rows are the differences of two
 * stamps of the same probe; cumulative rows are from the device's publish.
 */
export type HopId =
  | 'deviceToLan'
  | 'lanToCounty'
  | 'countyToRaised'
  | 'raisedToPushed'
  | 'deviceToLanAck'
  | 'deviceToCounty'
  | 'deviceToIngest'
  | 'deviceToRaised'
  | 'deviceToPushed';

export const HOP_WHAT: Record<HopId, string> = {
  deviceToLan: 'device → gateway’s LAN broker (plain LAN subscriber; aedes delivers after the queue’s fsync)',
  lanToCounty: 'gateway → county broker (LAN subscriber → county subscriber; < 0: the forward left before the fsync)',
  countyToRaised: 'county broker → alert raised',
  raisedToPushed: 'alert raised → first push',
  deviceToLanAck: 'device publish → LAN PUBACK (in the gateway’s queue, fsync’d)',
  deviceToCounty: 'device publish → county broker (plain county subscriber)',
  deviceToIngest: 'device publish → ingest received (alert openedAt)',
  deviceToRaised: 'device publish → alert raised',
  deviceToPushed: 'device publish → first push at the webhook',
};

const HOP_ROWS: { id: HopId; label: string }[] = [
  { id: 'deviceToLan', label: '1 device → gateway (LAN broker)' },
  { id: 'lanToCounty', label: '2 gateway → county broker (the forward)' },
  { id: 'countyToRaised', label: '3 county broker → alerting (raised)' },
  { id: 'raisedToPushed', label: '4 alerting → push (first push)' },
  { id: 'deviceToLanAck', label: '  device → LAN PUBACK (queued, fsync’d)' },
  { id: 'deviceToCounty', label: '  device → county broker subscriber' },
  { id: 'deviceToIngest', label: '  device → ingest received' },
  { id: 'deviceToRaised', label: '  device → alert raised' },
  { id: 'deviceToPushed', label: '  device → first push' },
];

/** The direct probes' rows shown next to the hops: the broker's own latency and its way to the push. */
const DIRECT_ROWS: { id: PathId; label: string }[] = [
  { id: 'broker', label: '(a) county broker publish → plain subscriber' },
  { id: 'raised', label: '(b) county broker publish → alert raised' },
  { id: 'pushed', label: '(c) county broker publish → first push' },
];

/** What alerting reported for a probe, and its first push. */
export interface ProbeOutcome {
  /** The alert's `openedAt`: ingest's receive time. */
  openedAt: number;
  raisedAt: number;
  /** When the webhook received the alert's first push, or undefined. */
  pushedAt: number | undefined;
}

/** One probe through the gateway, ms after its LAN publish (null = never), for the JSON. */
export interface HopSample {
  device: string;
  publishedAt: number;
  lanAck: number | null;
  lan: number | null;
  county: number | null;
  ingest: number | null;
  raised: number | null;
  pushed: number | null;
}

export interface GatewayHopReport {
  /** How the gateway ran: its command line, flags, and configuration in words. */
  gateway: { id: string; command: string[]; nodeFlags: string[]; detectors: number; description: string };
  probes: {
    published: number;
    lanAcked: number;
    lanDelivered: number;
    countyDelivered: number;
    raised: number;
    pushed: number;
  };
  hops: Record<HopId, PathLatency>;
  /** The direct probes' figures of the same run (published on the county broker by probe gateways). */
  direct: Pick<Record<PathId, PathLatency>, 'broker' | 'raised' | 'pushed'>;
  targets: AlarmVerdict[];
  samples: HopSample[];
}

/** Per hop, one sample per probe; a probe missing either stamp of a row counts as ∞ there. */
export function measureHops(
  probes: readonly HopProbeRecord[],
  outcome: (gateway: string, device: string) => ProbeOutcome | undefined,
): { hops: Record<HopId, PathLatency>; samples: HopSample[] } {
  const ids = Object.keys(HOP_WHAT) as HopId[];
  const rec = Object.fromEntries(ids.map((id) => [id, new LatencyRecorder()])) as Record<HopId, LatencyRecorder>;
  const missing = Object.fromEntries(ids.map((id) => [id, 0])) as Record<HopId, number>;
  const stamp = (t: number | undefined) => (t !== undefined && t > 0 ? t : undefined);
  const diff = (from: number | undefined, to: number | undefined) =>
    from === undefined || to === undefined ? undefined : to - from;
  const samples: HopSample[] = [];
  for (const p of probes) {
    const o = outcome(p.gateway, p.device);
    const lan = stamp(p.lanDeliveredAt);
    const county = stamp(p.countyDeliveredAt);
    const raised = o?.raisedAt;
    const pushed = o?.pushedAt;
    const values: Record<HopId, number | undefined> = {
      deviceToLan: diff(p.publishedAt, lan),
      lanToCounty: diff(lan, county),
      countyToRaised: diff(county, raised),
      raisedToPushed: diff(raised, pushed),
      deviceToLanAck: diff(p.publishedAt, stamp(p.lanAckedAt)),
      deviceToCounty: diff(p.publishedAt, county),
      deviceToIngest: diff(p.publishedAt, o?.openedAt),
      deviceToRaised: diff(p.publishedAt, raised),
      deviceToPushed: diff(p.publishedAt, pushed),
    };
    for (const id of ids) {
      const v = values[id];
      if (v === undefined) missing[id]++;
      rec[id].add(v ?? Number.POSITIVE_INFINITY);
    }
    samples.push({
      device: p.device,
      publishedAt: p.publishedAt,
      lanAck: values.deviceToLanAck ?? null,
      lan: values.deviceToLan ?? null,
      county: values.deviceToCounty ?? null,
      ingest: values.deviceToIngest ?? null,
      raised: values.deviceToRaised ?? null,
      pushed: values.deviceToPushed ?? null,
    });
  }
  const hops = {} as Record<HopId, PathLatency>;
  for (const id of ids) hops[id] = { what: HOP_WHAT[id], missing: missing[id], ...rec[id].summary() };
  return { hops, samples };
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : n === Infinity ? '∞' : '—');

function verdict(target: string, l: PathLatency, value: number, limit: number, what: string): AlarmVerdict {
  return {
    target,
    measured: `${f0(value)} ms (${l.count} ${what}${l.missing > 0 ? `, ${l.missing} never arrived` : ''})`,
    verdict: l.count > 0 && value <= limit ? 'PASS' : 'FAIL',
  };
}

/** Issue 12's latency targets; the failover one is `--failover`'s (failover-report.ts). */
export function judgeHopTargets(
  hops: Record<HopId, PathLatency>,
  direct: Pick<Record<PathId, PathLatency>, 'pushed'>,
): AlarmVerdict[] {
  const d = direct.pushed;
  const g = hops.deviceToPushed;
  return [
    verdict(
      `county broker publish → first push: p99 ≤ ${HOP_TARGETS.directPushP99Ms} ms`,
      d,
      d.p99,
      HOP_TARGETS.directPushP99Ms,
      'direct probes',
    ),
    verdict(
      `county broker publish → first push: max ≤ ${HOP_TARGETS.directPushMaxMs} ms`,
      d,
      d.max,
      HOP_TARGETS.directPushMaxMs,
      'direct probes',
    ),
    verdict(
      `device → first push through the gateway: p99 ≤ ${HOP_TARGETS.devicePushP99Ms} ms`,
      g,
      g.p99,
      HOP_TARGETS.devicePushP99Ms,
      'probes via the gateway',
    ),
  ];
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (i > 0 ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

export function renderGatewayHop(r: GatewayHopReport, failover?: AlarmVerdict): string {
  const row = (label: string, l: PathLatency) => [label, f0(l.count), f0(l.p50), f0(l.p99), f0(l.max), f0(l.missing)];
  const p = r.probes;
  return [
    `Through a real gateway (${r.gateway.description}): ${p.published} fire alarms published by simulated detectors ` +
      `on its LAN broker; ${p.lanAcked} PUBACKed, ${p.lanDelivered} at the LAN subscriber, ${p.countyDelivered} at ` +
      `the county subscriber, ${p.raised} raised, ${p.pushed} pushed. Next to them, the direct probes of the same run:`,
    '',
    table(
      ['hop', 'count', 'p50 ms', 'p99 ms', 'max ms', 'missing'],
      [
        ...HOP_ROWS.map(({ id, label }) => row(label, r.hops[id])),
        ...DIRECT_ROWS.map(({ id, label }) => row(label, r.direct[id as 'broker' | 'raised' | 'pushed'])),
      ],
    ),
    '(Hops 1–4 are per-probe differences; their percentiles do not add up to the cumulative rows. The LAN broker',
    ' hands an alarm to its subscribers only once the gateway has it in its queue, fsync’d (with the PUBACK), while',
    ' the gateway forwards it as soon as it is written: hop 1 includes the fsync, and hop 2 is negative when the',
    ' forward reached the county subscriber before the fsync ended. The alarm’s own way is the cumulative rows.)',
    '',
    table(
      ['target (issue 12)', 'measured', 'verdict'],
      [
        ...r.targets.map((t) => [t.target, t.measured, t.verdict]),
        failover
          ? [failover.target, failover.measured, failover.verdict]
          : ['killing the active alerting replica → first push ≤ 5 s', 'not measured in this run (--failover)', '—'],
      ],
    ),
  ].join('\n');
}

export const HOP_METHOD = [
  '- Via the gateway (--via-gateway): one probe gateway run as a real gateway process (gateway/bin/anlian-gateway,',
  '  as deployed, its configuration as `anlian sim --device-mode --print-gateway-config` prints it: lan-mqtt adapter,',
  '  the registry’s secret for the county broker, queue on disk). A gateway prober process publishes each fire alarm',
  '  as a sensor does, `sensors/{device}/event` QoS 1 on the gateway’s LAN broker; it runs beside the direct prober,',
  '  its own detectors, its own 200–500 ms pauses. Stamps (Date.now()): device publish; a plain subscriber on the LAN',
  '  broker; a plain subscriber on the county broker on the gateway’s event topics; alert raised; first push.',
];
