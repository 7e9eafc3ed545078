import type { ReportPeriod } from '../period.js';
import type { DeviceEventPoint, InfluxReader } from '../read/influx-reader.js';
import { type ReportSource, simRunOf } from '../read/report-source.js';
import type { AlertRow, DeliveryOutcomeRow, DeviceRow, ScopeFilter, StoreReader } from '../read/store-reader.js';
import { type SupervisionSource, supervisionMarker } from '../read/supervision-source.js';
import { ZonedCalendar } from '../time/zoned-calendar.js';
import { downIntervals, type Interval, totalLength, unionClipped } from './intervals.js';
import {
  ALARM_KINDS,
  type AlarmKind,
  DEVICE_KINDS,
  type DurationStats,
  type OnlineRow,
  type ReportFigures,
  SEVERITIES,
  VERDICTS,
  type VerdictOrNone,
} from './report-figures.js';
import { mean, nearestRank, ratio } from './stats.js';

export interface FigureOptions {
  /** Absence rules whose alerts mark a device offline (alerting/src/rules/default-rules.ts). */
  deviceOfflineRules?: readonly string[];
  /** Absence rules whose alerts mark a gateway, and so all its devices, offline. */
  gatewayOfflineRules?: readonly string[];
  /** Camera events that make the picture unusable until a `restore` (视频质量诊断; a device fault). */
  cameraFaultEvents?: readonly string[];
  /** GB 50440: more than this many fire alarms from one detector in a day must be followed up. */
  fireAlarmDailyLimit?: number;
  /** How far before the period camera events are read, to know a camera's state at its start. */
  cameraLookbackMs?: number;
}

export interface FigureRequest {
  county: string;
  institution?: string | undefined;
  period: ReportPeriod;
  source: ReportSource;
  now: number;
}

export interface FigureDeps {
  store: StoreReader;
  influx: InfluxReader;
  supervision?: SupervisionSource | undefined;
}

const DEFAULTS = {
  deviceOfflineRules: ['device-offline', 'camera-offline'],
  gatewayOfflineRules: ['gateway-offline'],
  cameraFaultEvents: ['signal_loss', 'frozen', 'black', 'occlusion', 'fault'],
  fireAlarmDailyLimit: 5,
  cameraLookbackMs: 7 * 86_400_000,
} as const;

const deviceKey = (gateway: string, device: string) => `${gateway}/${device}`;

/**
 * Computes a report's figures (the method of each is stated in the report itself; see
 * `method-notes.ts`). Reads the store's registry and alerting's records, and from InfluxDB only
 * gateway status changes and device events.
 */
export async function computeFigures(
  deps: FigureDeps,
  req: FigureRequest,
  options: FigureOptions = {},
): Promise<ReportFigures> {
  const o = { ...DEFAULTS, ...options };
  const { store, influx } = deps;
  const { fromMs, toMs } = req.period;
  const simRun = simRunOf(req.source);
  const scope: ScopeFilter = { county: req.county, institution: req.institution, simRun };
  const county = await store.county(req.county);
  const cal = new ZonedCalendar(county.timezone);

  let source: ReportFigures['source'] = { kind: 'live' };
  // A simulation's devices are taken to exist from the run's start; live ones from their registration.
  let registeredFrom = (d: { createdAt: number }) => d.createdAt;
  if (simRun !== undefined) {
    const run = await store.simRun(simRun);
    if (!run) throw new Error(`no simulation run ${simRun}`);
    source = {
      kind: 'simulation',
      runId: run.id,
      seed: run.seed,
      runKind: run.kind,
      startsAt: run.startsAt,
      endsAt: run.endsAt,
      description: run.description,
    };
    registeredFrom = () => run.startsAt;
  }

  const institutions = await store.institutions(scope);
  const instIds = new Set(institutions.map((i) => i.id));
  const institution = req.institution === undefined ? undefined : institutions[0];
  if (req.institution !== undefined && !institution) throw new Error(`no institution ${req.institution}`);
  // Nothing after "now" has happened yet: a report of the current month counts up to now.
  const endMs = Math.min(toMs, req.now);

  const [statusByGateway, alerts, conditions, pushes, fireEvents, cameraEvents] = await Promise.all([
    influx.gatewayStatus(scope, fromMs, endMs),
    store.alertsOpenedIn(scope, fromMs, toMs),
    store.conditionsOverlapping(scope, [...o.deviceOfflineRules, ...o.gatewayOfflineRules], fromMs, endMs),
    store.deliveryOutcomes(scope, fromMs, toMs).then(pushFigures),
    influx.deviceEvents(scope, 'fire', ['fire'], fromMs, toMs),
    influx.deviceEvents(scope, 'camera', [...o.cameraFaultEvents, 'restore'], fromMs - o.cameraLookbackMs, endMs),
  ]);
  const drills = await store.drills(scope, instIds, fromMs, toMs);
  const drillAlerts = await store.drillAlerts(
    scope,
    drills.map((d) => d.id),
  );
  const supervision: ReportFigures['supervision'] = deps.supervision
    ? await deps.supervision.read(
        scope,
        fromMs,
        toMs,
        req.now,
        source.kind === 'simulation' ? supervisionMarker(source.seed) : null,
      )
    : { available: false };

  const drillIds = new Set(drills.map((d) => d.id));
  const live = alerts.filter((a) => a.drillId === null);
  const drillWindows = drillWindowsByInstitution(drills);

  // ——— offline intervals: gateway status history ∪ gateway absence alerts; device absence alerts ———
  const gatewayAlerts = new Map<string, Interval[]>();
  const deviceDown = new Map<string, Interval[]>();
  for (const a of conditions) {
    const end = a.clearedAt ?? a.closedAt ?? endMs;
    if (o.gatewayOfflineRules.includes(a.rule)) {
      const list = gatewayAlerts.get(a.gateway) ?? [];
      list.push([a.openedAt, end]);
      gatewayAlerts.set(a.gateway, list);
    } else if (a.device !== null) {
      const k = deviceKey(a.gateway, a.device);
      const list = deviceDown.get(k) ?? [];
      list.push([a.openedAt, end]);
      deviceDown.set(k, list);
    }
  }
  // Each gateway's offline time is merged once, not once per device: most devices have no absence
  // alert of their own and were registered before the period, so their offline time is their gateway's.
  const gatewayOffline = new Map<string, Interval[]>();
  const offlineOfGateway = (gw: string): Interval[] => {
    let merged = gatewayOffline.get(gw);
    if (!merged) {
      const changes = (statusByGateway.get(gw) ?? []).map((p) => ({ at: p.at, down: p.state !== 'online' }));
      // No status record at all: the county has never heard from it in or before the period.
      const down: Interval[] = changes.length === 0 ? [[fromMs, endMs]] : downIntervals(changes, endMs);
      merged = unionClipped([...down, ...(gatewayAlerts.get(gw) ?? [])], fromMs, endMs);
      gatewayOffline.set(gw, merged);
    }
    return merged;
  };
  const offlineOf = (d: DeviceRow, lo: number): Interval[] => {
    const gateway = offlineOfGateway(d.gateway);
    const own = deviceDown.get(deviceKey(d.gateway, d.id));
    if (own === undefined) return lo === fromMs ? gateway : unionClipped(gateway, lo, endMs);
    return unionClipped([...gateway, ...own], lo, endMs);
  };

  // The registry's devices are read last and used at once: a county has tens of thousands, whose
  // rows then die young instead of being carried through every other section's computation.
  const { online, cameras, falseAlarms } = await (async () => {
    const devices = await store.devices(scope);
    return {
      online: onlineFigures(devices, institutions, fromMs, endMs, registeredFrom, offlineOf),
      cameras: cameraFigures(devices, institutions, fromMs, endMs, registeredFrom, offlineOf, cameraEvents, o),
      falseAlarms: falseAlarmFigures(live, institutions, devices, fireEvents, drillWindows, cal, o.fireAlarmDailyLimit),
    };
  })();

  return {
    county: { id: county.id, name: county.name, timezone: county.timezone },
    institution,
    period: { ...req.period },
    source,
    generatedAt: req.now,
    institutions,
    online,
    alarms: alarmFigures(live, alerts.length - live.length),
    falseAlarms,
    response: responseFigures(live, institutions),
    escalations: escalationFigures(live, institutions),
    pushes,
    drills: drillFigures(
      drills,
      drillAlerts.filter((a) => a.drillId !== null && drillIds.has(a.drillId)),
    ),
    supervision,
    cameras,
  };
}

function onlineRow(devices: number, registeredMs: number, onlineMs: number): OnlineRow {
  return { devices, registeredS: registeredMs / 1000, onlineS: onlineMs / 1000, rate: ratio(onlineMs, registeredMs) };
}

function onlineFigures(
  devices: readonly DeviceRow[],
  institutions: readonly { id: string }[],
  fromMs: number,
  endMs: number,
  registeredFrom: (d: DeviceRow) => number,
  offlineOf: (d: DeviceRow, lo: number) => Interval[],
): ReportFigures['online'] {
  const byKind = new Map<string, { n: number; reg: number; on: number }>();
  const byInst = new Map<string, { n: number; reg: number; on: number }>();
  const total = { n: 0, reg: 0, on: 0 };
  const add = (acc: { n: number; reg: number; on: number }, reg: number, on: number) => {
    acc.n++;
    acc.reg += reg;
    acc.on += on;
  };
  const accumulator = (m: Map<string, { n: number; reg: number; on: number }>, k: string) => {
    let acc = m.get(k);
    if (!acc) {
      acc = { n: 0, reg: 0, on: 0 };
      m.set(k, acc);
    }
    return acc;
  };
  for (const d of devices) {
    const lo = Math.max(fromMs, registeredFrom(d));
    const reg = Math.max(0, endMs - lo);
    const on = reg === 0 ? 0 : reg - totalLength(offlineOf(d, lo));
    add(accumulator(byKind, d.kind), reg, on);
    add(accumulator(byInst, d.institution), reg, on);
    add(total, reg, on);
  }
  const kinds = [
    ...DEVICE_KINDS,
    ...[...byKind.keys()].filter((k) => !(DEVICE_KINDS as readonly string[]).includes(k)),
  ];
  return {
    byKind: kinds.map((kind) => {
      const a = byKind.get(kind) ?? { n: 0, reg: 0, on: 0 };
      return { kind, ...onlineRow(a.n, a.reg, a.on) };
    }),
    total: onlineRow(total.n, total.reg, total.on),
    byInstitution: institutions.map((i) => {
      const a = byInst.get(i.id) ?? { n: 0, reg: 0, on: 0 };
      return { institution: i.id, ...onlineRow(a.n, a.reg, a.on) };
    }),
  };
}

function cameraFigures(
  devices: readonly DeviceRow[],
  institutions: readonly { id: string }[],
  fromMs: number,
  endMs: number,
  registeredFrom: (d: DeviceRow) => number,
  offlineOf: (d: DeviceRow, lo: number) => Interval[],
  events: readonly DeviceEventPoint[],
  o: { cameraFaultEvents: readonly string[] },
): ReportFigures['cameras'] {
  const byCamera = new Map<string, { at: number; down: boolean }[]>();
  for (const e of events) {
    const k = deviceKey(e.gateway, e.device);
    const list = byCamera.get(k) ?? [];
    list.push({ at: e.at, down: o.cameraFaultEvents.includes(e.event) });
    byCamera.set(k, list);
  }
  const byInst = new Map<string, { n: number; reg: number; av: number }>();
  let n = 0;
  let reg = 0;
  let av = 0;
  for (const d of devices) {
    if (d.kind !== 'camera') continue;
    const lo = Math.max(fromMs, registeredFrom(d));
    const r = Math.max(0, endMs - lo);
    const changes = (byCamera.get(deviceKey(d.gateway, d.id)) ?? []).sort((a, b) => a.at - b.at);
    const down = unionClipped([...offlineOf(d, lo), ...downIntervals(changes, endMs)], lo, endMs);
    const a = r - totalLength(down);
    n++;
    reg += r;
    av += a;
    const acc = byInst.get(d.institution) ?? { n: 0, reg: 0, av: 0 };
    acc.n++;
    acc.reg += r;
    acc.av += a;
    byInst.set(d.institution, acc);
  }
  return {
    cameras: n,
    registeredS: reg / 1000,
    availableS: av / 1000,
    rate: ratio(av, reg),
    byInstitution: institutions.map((i) => {
      const acc = byInst.get(i.id) ?? { n: 0, reg: 0, av: 0 };
      return { institution: i.id, cameras: acc.n, rate: ratio(acc.av, acc.reg) };
    }),
  };
}

function alarmKind(a: AlertRow): AlarmKind {
  const k = a.deviceKind ?? 'gateway';
  return (ALARM_KINDS as readonly string[]).includes(k) ? (k as AlarmKind) : 'gateway';
}

function verdictOf(a: AlertRow): VerdictOrNone {
  return a.verdict !== null && (VERDICTS as readonly string[]).includes(a.verdict)
    ? (a.verdict as VerdictOrNone)
    : 'unverified';
}

function alarmFigures(live: readonly AlertRow[], drillAlerts: number): ReportFigures['alarms'] {
  const rows = ALARM_KINDS.map((kind) => {
    const row = { kind, total: 0, real_fire: 0, false_alarm: 0, test: 0, device_fault: 0, unverified: 0 };
    for (const a of live) {
      if (alarmKind(a) !== kind) continue;
      row.total++;
      row[verdictOf(a)]++;
    }
    return row;
  });
  const bySeverity = SEVERITIES.map((severity) => ({
    severity,
    count: live.filter((a) => a.severity === severity).length,
  }));
  return { byKind: rows, total: live.length, bySeverity, drillAlerts };
}

function drillWindowsByInstitution(drills: readonly { institutions: string[]; startsAt: number; endsAt: number }[]) {
  const out = new Map<string, Interval[]>();
  for (const d of drills) {
    for (const i of d.institutions) {
      const list = out.get(i) ?? [];
      list.push([d.startsAt, d.endsAt]);
      out.set(i, list);
    }
  }
  return out;
}

/** Device names by `gateway/device`, of these devices only (a county has tens of thousands). */
function deviceNames(devices: readonly DeviceRow[], keys: ReadonlySet<string>): Map<string, string> {
  const out = new Map<string, string>();
  if (keys.size === 0) return out;
  for (const d of devices) {
    const k = deviceKey(d.gateway, d.id);
    if (keys.has(k)) out.set(k, d.name);
  }
  return out;
}

function falseAlarmFigures(
  live: readonly AlertRow[],
  institutions: readonly { id: string }[],
  devices: readonly DeviceRow[],
  fireEvents: readonly DeviceEventPoint[],
  drillWindows: ReadonlyMap<string, Interval[]>,
  cal: ZonedCalendar,
  dailyLimit: number,
): ReportFigures['falseAlarms'] {
  const byInstitution = institutions.map((i) => {
    const mine = live.filter((a) => a.institution === i.id);
    const verified = mine.filter((a) => a.verdict !== null);
    const falseAlarms = verified.filter((a) => a.verdict === 'false_alarm').length;
    return {
      institution: i.id,
      alarms: mine.length,
      verified: verified.length,
      falseAlarms,
      rate: ratio(falseAlarms, verified.length),
    };
  });
  const det = new Map<string, { a: AlertRow; verified: number; falseAlarms: number }>();
  for (const a of live) {
    if (a.device === null || a.verdict === null) continue;
    const k = deviceKey(a.gateway, a.device);
    const acc = det.get(k) ?? { a, verified: 0, falseAlarms: 0 };
    acc.verified++;
    if (a.verdict === 'false_alarm') acc.falseAlarms++;
    det.set(k, acc);
  }
  const flagged = [...det.entries()].filter(([, v]) => v.falseAlarms > 0);

  // GB 50440's line counts fire alarm signals per detector and local day, drills left out.
  const perDay = new Map<string, { e: DeviceEventPoint; day: string; count: number }>();
  for (const e of fireEvents) {
    if ((drillWindows.get(e.institution) ?? []).some(([a, b]) => e.at >= a && e.at < b)) continue;
    const day = cal.dayKey(e.at);
    const k = `${deviceKey(e.gateway, e.device)}@${day}`;
    const acc = perDay.get(k) ?? { e, day, count: 0 };
    acc.count++;
    perDay.set(k, acc);
  }
  const over = [...perDay.values()].filter((v) => v.count > dailyLimit);

  const names = deviceNames(
    devices,
    new Set([...flagged.map(([k]) => k), ...over.map((v) => deviceKey(v.e.gateway, v.e.device))]),
  );
  const byDetector = flagged
    .map(([k, v]) => ({
      institution: v.a.institution,
      gateway: v.a.gateway,
      device: v.a.device ?? '',
      name: names.get(k) ?? '',
      kind: v.a.deviceKind ?? '',
      verified: v.verified,
      falseAlarms: v.falseAlarms,
      rate: ratio(v.falseAlarms, v.verified),
    }))
    .sort(
      (x, y) =>
        y.falseAlarms - x.falseAlarms || x.institution.localeCompare(y.institution) || x.device.localeCompare(y.device),
    );
  const overDailyLimit = over
    .map((v) => ({
      institution: v.e.institution,
      gateway: v.e.gateway,
      device: v.e.device,
      name: names.get(deviceKey(v.e.gateway, v.e.device)) ?? '',
      day: v.day,
      count: v.count,
    }))
    .sort((x, y) => x.day.localeCompare(y.day) || y.count - x.count || x.device.localeCompare(y.device));
  return { byInstitution, byDetector, overDailyLimit, dailyLimit };
}

function durations(alerts: readonly AlertRow[], at: (a: AlertRow) => number | null): DurationStats {
  const xs = alerts.flatMap((a) => {
    const t = at(a);
    return t === null ? [] : [(t - a.openedAt) / 1000];
  });
  return { n: xs.length, meanS: mean(xs), p90S: nearestRank(xs, 0.9) };
}

function responseTriple(alerts: readonly AlertRow[]) {
  return {
    acknowledge: durations(alerts, (a) => a.acknowledgedAt),
    verify: durations(alerts, (a) => a.verifiedAt),
    close: durations(alerts, (a) => a.closedAt),
  };
}

function responseFigures(
  live: readonly AlertRow[],
  institutions: readonly { id: string }[],
): ReportFigures['response'] {
  return {
    bySeverity: [
      ...SEVERITIES.map((severity) => ({ severity, ...responseTriple(live.filter((a) => a.severity === severity)) })),
      { severity: 'all', ...responseTriple(live) },
    ],
    byInstitution: institutions.map((i) => ({
      institution: i.id,
      ...responseTriple(live.filter((a) => a.institution === i.id)),
    })),
  };
}

function escalationFigures(
  live: readonly AlertRow[],
  institutions: readonly { id: string }[],
): ReportFigures['escalations'] {
  const escalated = live.filter((a) => a.escalationLevel > 0);
  const maxLevel = escalated.reduce((m, a) => Math.max(m, a.escalationLevel), 0);
  return {
    alerts: live.length,
    escalated: escalated.length,
    byLevel: Array.from({ length: maxLevel }, (_, i) => ({
      level: i + 1,
      count: escalated.filter((a) => a.escalationLevel >= i + 1).length,
    })),
    byInstitution: institutions.map((i) => ({
      institution: i.id,
      alerts: live.filter((a) => a.institution === i.id).length,
      escalated: escalated.filter((a) => a.institution === i.id).length,
    })),
  };
}

/**
 * A delivery's outcome is its last record (StoreReader.deliveryOutcomes): `sent`; `failed`/`gave_up`
 * (failed for good); `retrying` (still pending when the period ended); a delivery that was only
 * `skipped` by policy counts as skipped, not as a push.
 */
function pushFigures(rows: readonly DeliveryOutcomeRow[]): ReportFigures['pushes'] {
  const byChannel = new Map<
    string,
    { deliveries: number; sent: number; failed: number; pending: number; attempts: number; skipped: number }
  >();
  for (const { channelType, status, deliveries, attempts } of rows) {
    let acc = byChannel.get(channelType);
    if (!acc) {
      acc = { deliveries: 0, sent: 0, failed: 0, pending: 0, attempts: 0, skipped: 0 };
      byChannel.set(channelType, acc);
    }
    acc.attempts += attempts;
    if (status === 'skipped') {
      acc.skipped += deliveries;
      continue;
    }
    acc.deliveries += deliveries;
    if (status === 'sent') acc.sent += deliveries;
    else if (status === 'retrying') acc.pending += deliveries;
    else acc.failed += deliveries;
  }
  return {
    byChannel: [...byChannel.entries()]
      .map(([channelType, v]) => ({ channelType, ...v }))
      .sort((a, b) => a.channelType.localeCompare(b.channelType)),
  };
}

/**
 * GB 25201's "1-3-5": respond within 1 minute, on scene within 3, joint response by 5. A drill
 * alert acknowledged within 60 s scores 100, within 180 s 60, within 300 s 30, later or never 0;
 * an institution of the drill that raised no alert at all scores 0. The drill's score is the mean.
 */
export function drillResponseScore(ackDelaysS: readonly (number | undefined)[], silentInstitutions: number): number {
  const points: number[] = ackDelaysS.map((s) =>
    s === undefined ? 0 : s <= 60 ? 100 : s <= 180 ? 60 : s <= 300 ? 30 : 0,
  );
  for (let i = 0; i < silentInstitutions; i++) points.push(0);
  return points.length === 0 ? 0 : Math.round(points.reduce((a, b) => a + b, 0) / points.length);
}

function drillFigures(
  drills: readonly { id: string; name: string; institutions: string[]; startsAt: number }[],
  alerts: readonly AlertRow[],
): ReportFigures['drills'] {
  const held = new Set<string>();
  const rows = drills.map((d) => {
    const mine = alerts.filter((a) => a.drillId === d.id && d.institutions.includes(a.institution));
    for (const i of d.institutions) held.add(i);
    const raised = new Set(mine.map((a) => a.institution));
    const silent = d.institutions.filter((i) => !raised.has(i)).length;
    const acks = mine.map((a) => (a.acknowledgedAt === null ? undefined : (a.acknowledgedAt - a.openedAt) / 1000));
    const acked = acks.filter((x): x is number => x !== undefined);
    return {
      id: d.id,
      name: d.name,
      startsAt: d.startsAt,
      institutions: d.institutions.length,
      alerts: mine.length,
      acknowledged: acked.length,
      meanToAcknowledgeS: mean(acked),
      silentInstitutions: silent,
      score: drillResponseScore(acks, silent),
    };
  });
  return { drills: rows, institutionsWithDrill: held.size };
}
