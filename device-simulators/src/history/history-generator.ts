import {
  type ContactConfig,
  type CountyConfig,
  DEFAULT_REPORT_INTERVAL_S,
  type DeviceConfig,
  type DeviceKind,
} from '@anlian/protocol';
import { Prng } from '../prng.js';
import { TimeZoneClock } from '../time-zone.js';
import type {
  HistoryAlert,
  HistoryDelivery,
  HistoryDeviceEvent,
  HistoryDeviceOutage,
  HistoryDrill,
  HistoryGatewayOutage,
  HistoryStatusChange,
  HistoryTransition,
  SimulatedHistory,
} from './history-model.js';

export interface HistoryOptions {
  county: CountyConfig;
  /** The simulation run: the `sim_run` tag and column of every record. */
  runId: string;
  fromMs: number;
  toMs: number;
  /** Default 1 (the simulator's default). */
  seed?: number;
  description?: string;
  /** Rates per device or gateway and 30 days; defaults in `DEFAULT_HISTORY_RATES`. */
  rates?: Partial<Omit<HistoryRates, 'deviceOutages'>> & { deviceOutages?: Partial<HistoryRates['deviceOutages']> };
}

/** Expected occurrences per 30 days, per device (or gateway, or institution). */
export interface HistoryRates {
  gatewayOutages: number;
  deviceOutages: Record<DeviceKind, number>;
  fireFalseAlarms: number;
  kitchenAlarms: number;
  deviceFaults: number;
  lowPressure: number;
  cameraSignalLoss: number;
  cameraFrozen: number;
  /** Detectors per 100 fire detectors that go off more than 5 times in one day (GB 50440's line). */
  noisyDetectorsPer100: number;
  /** Share of institutions that hold a drill in the period. */
  drillShare: number;
}

export const DEFAULT_HISTORY_RATES: HistoryRates = {
  gatewayOutages: 1,
  deviceOutages: { fire: 0.04, extinguisher: 0.04, kitchen: 0.06, camera: 0.1, electrical: 0.04 },
  fireFalseAlarms: 0.04,
  kitchenAlarms: 0.3,
  deviceFaults: 0.01,
  lowPressure: 0.02,
  cameraSignalLoss: 1,
  cameraFrozen: 0.5,
  noisyDetectorsPer100: 0.2,
  drillShare: 0.4,
};

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** Alerting's absence rules open after this many missed report intervals (default rules). */
const MISSED = 3;

interface RuleInfo {
  id: string;
  zh: string;
  en: string;
  severity: HistoryAlert['severity'];
  resolve: HistoryAlert['resolve'];
}

// The default rules' ids, names and severities (alerting/src/rules/default-rules.ts).
const RULES = {
  fire: { id: 'fire-alarm', zh: '火灾报警', en: 'Fire alarm', severity: 'critical', resolve: 'manual' },
  kitchen: {
    id: 'kitchen-device-alarm',
    zh: '厨房探测器报警',
    en: 'Kitchen detector alarm',
    severity: 'critical',
    resolve: 'manual',
  },
  fault: { id: 'device-fault', zh: '设备故障', en: 'Device fault', severity: 'major', resolve: 'auto' },
  lowPressure: {
    id: 'extinguisher-low-pressure-event',
    zh: '灭火器低压（设备上报）',
    en: 'Extinguisher low pressure (reported)',
    severity: 'major',
    resolve: 'auto',
  },
  signalLoss: {
    id: 'camera-signal-loss',
    zh: '视频信号丢失',
    en: 'Camera signal loss',
    severity: 'major',
    resolve: 'auto',
  },
  frozen: {
    id: 'camera-picture-fault',
    zh: '视频画面异常',
    en: 'Camera picture fault',
    severity: 'minor',
    resolve: 'auto',
  },
  deviceOffline: { id: 'device-offline', zh: '设备离线', en: 'Device offline', severity: 'major', resolve: 'auto' },
  cameraOffline: { id: 'camera-offline', zh: '摄像机离线', en: 'Camera offline', severity: 'major', resolve: 'auto' },
  gatewayOffline: {
    id: 'gateway-offline',
    zh: '网关离线（机构失联）',
    en: 'Gateway offline: institution blind',
    severity: 'critical',
    resolve: 'auto',
  },
} as const satisfies Record<string, RuleInfo>;

/** The default escalation policy (alerting): levels at 0, 120 and 300 s, by contact role. */
const LEVELS: readonly { afterS: number; roles: readonly string[] }[] = [
  { afterS: 0, roles: ['manager', 'fire_safety'] },
  { afterS: 120, roles: ['deputy'] },
  { afterS: 300, roles: ['duty_officer'] },
];

interface Subject {
  institution: string;
  gateway: string;
  device?: DeviceConfig;
}

/**
 * Generates a simulated stretch of history (design.md, Simulated time; issue 17): gateway
 * outages, device outages, fire and kitchen alarms (GB 50440's noisy detectors among them),
 * device faults, low pressure, camera drop-outs, drills — and people's answers: acknowledgements,
 * verifications with verdicts, closings, escalations by the default policy, pushes with their
 * failures. Pure and deterministic: county + seed + period → the same history.
 *
 * What alerting would record is derived by its default rules' definitions: an absence alert
 * opens `3 × report interval` after the last report and clears at the next; a gateway's opens at
 * its last will and clears when it reconnects. `historyTelemetry` renders matching raw telemetry.
 */
export function generateHistory(opts: HistoryOptions): SimulatedHistory {
  const seed = (opts.seed ?? 1) >>> 0;
  const rates: HistoryRates = {
    ...DEFAULT_HISTORY_RATES,
    ...opts.rates,
    deviceOutages: { ...DEFAULT_HISTORY_RATES.deviceOutages, ...opts.rates?.deviceOutages },
  };
  const { county } = opts;
  const countyId = county.county.id;
  const tz = new TimeZoneClock(county.county.timezone);
  const span = opts.toMs - opts.fromMs;
  const months = span / (30 * DAY);
  // Everything starts after the first hour and has ended before the last stretch of the period.
  const lo = opts.fromMs + Math.min(HOUR, span / 20);
  const hi = opts.toMs - Math.min(DAY, span / 10);
  const finishBy = opts.toMs - 1000;
  const at = (p: Prng) => Math.round(p.range(lo, hi));
  const count = (p: Prng, perMonth: number) => poisson(p, perMonth * months);

  const statusChanges: HistoryStatusChange[] = [];
  const deviceEvents: HistoryDeviceEvent[] = [];
  const alerts: HistoryAlert[] = [];
  const drills: HistoryDrill[] = [];
  const deviceOutages: HistoryDeviceOutage[] = [];
  const gatewayOutages: HistoryGatewayOutage[] = [];
  const busy = new Map<string, [number, number][]>();
  const overlaps = (key: string, a: number, b: number) =>
    (busy.get(key) ?? []).some(([x, y]) => a < y + HOUR && b > x - HOUR);
  const reserve = (key: string, a: number, b: number) => busy.set(key, [...(busy.get(key) ?? []), [a, b]]);
  const dutyOfficers = county.institutions.flatMap((i) => i.contacts.filter((c) => c.role === 'duty_officer'));
  let alertNo = 0;

  const people = new Map<string, number>();
  for (const inst of county.institutions) {
    // How quickly each institution's people answer: a multiplier on every delay, 0.5–2.5.
    people.set(inst.id, Prng.for(seed, `${countyId}/${inst.id}#people`).range(0.5, 2.5));
  }

  const addAlert = (
    rule: RuleInfo,
    s: Subject,
    openedAt: number,
    reason: string,
    o: { clearAt?: number; verdict?: string; drillId?: string; nextOpenAt?: number; prng: Prng },
  ) => {
    const inst = county.institutions.find((i) => i.id === s.institution);
    const r = people.get(s.institution) ?? 1;
    const p = o.prng;
    const id = `al-${opts.runId}-${String(++alertNo).padStart(6, '0')}`;
    const latest = Math.min(finishBy, (o.nextOpenAt ?? Number.POSITIVE_INFINITY) - 1000);
    let ack: number | undefined;
    if (rule.severity === 'critical') ack = openedAt + 15_000 + logNormal(p, 35_000 * r, 0.8);
    else if (rule.severity === 'major') ack = openedAt + 60_000 + logNormal(p, 8 * MIN * r, 1);
    else if (p.next() < 0.5) ack = openedAt + logNormal(p, 30 * MIN * r, 1);
    const t: HistoryTransition[] = [{ seq: 1, at: openedAt, from: null, to: 'open', actor: 'system' }];
    const a: HistoryAlert = {
      id,
      key: `${rule.id}:${s.gateway}/${s.device?.id ?? ''}`,
      rule: rule.id,
      nameZh: rule.zh,
      nameEn: rule.en,
      severity: rule.severity,
      resolve: rule.resolve,
      institution: s.institution,
      gateway: s.gateway,
      reason,
      openedAt,
      closedAt: openedAt,
      closedBy: 'system',
      escalationLevel: 0,
      transitions: t,
      deliveries: [],
    };
    if (s.device) {
      a.device = s.device.id;
      a.deviceKind = s.device.kind;
    }
    if (o.drillId) a.drillId = o.drillId;
    const manager = inst?.contacts.find((c) => c.role === 'manager')?.id ?? `${s.institution}-manager`;
    const operator = 'operator';
    const actor = rule.id === 'gateway-offline' ? operator : manager;
    if (rule.resolve === 'auto') {
      const clear = Math.min(o.clearAt ?? openedAt + 10 * MIN, latest);
      if (ack !== undefined && ack < clear) {
        a.acknowledgedAt = Math.round(ack);
        a.acknowledgedBy = actor;
        t.push({ seq: 2, at: a.acknowledgedAt, from: 'open', to: 'acknowledged', actor });
      }
      a.clearedAt = clear;
      a.closedAt = clear;
      t.push({ seq: t.length + 1, at: clear, from: t[t.length - 1]?.to ?? 'open', to: 'closed', actor: 'system' });
    } else {
      // A manual alert is acknowledged, verified with a verdict and closed by a person (GB 25201).
      const ackAt = Math.min(Math.round(ack ?? openedAt + 60_000), latest - 2000);
      const verAt = Math.min(Math.round(ackAt + 30_000 + logNormal(p, 3 * MIN * r, 0.7)), latest - 1000);
      const closeAt = Math.min(Math.round(verAt + logNormal(p, 8 * MIN, 0.8)), latest);
      a.acknowledgedAt = ackAt;
      a.acknowledgedBy = actor;
      a.verifiedAt = verAt;
      a.verifiedBy = actor;
      a.verdict = o.verdict ?? 'false_alarm';
      a.closedAt = closeAt;
      a.closedBy = actor;
      t.push(
        { seq: 2, at: ackAt, from: 'open', to: 'acknowledged', actor },
        { seq: 3, at: verAt, from: 'acknowledged', to: 'verified', actor, verdict: a.verdict },
        { seq: 4, at: closeAt, from: 'verified', to: 'closed', actor },
      );
    }
    // Escalation (default policy): a critical alert not acknowledged in time climbs the levels.
    const seen = a.acknowledgedAt ?? a.clearedAt ?? a.closedAt;
    const waitedS = (seen - openedAt) / 1000;
    if (rule.severity === 'critical') {
      a.escalationLevel = LEVELS.reduce((lvl, l, i) => (i > 0 && waitedS >= l.afterS ? i : lvl), 0);
    }
    if (rule.severity === 'critical' || rule.severity === 'major') {
      for (let level = 0; level <= a.escalationLevel; level++) {
        const roles = LEVELS[level]?.roles ?? [];
        let recipients: ContactConfig[] = (inst?.contacts ?? []).filter((c) => roles.includes(c.role));
        if (recipients.length === 0 && roles.includes('duty_officer')) recipients = dutyOfficers.slice(0, 1);
        a.deliveries.push(
          ...deliveries(p, `${id}:n${level}`, openedAt + (LEVELS[level]?.afterS ?? 0) * 1000, recipients),
        );
      }
    }
    alerts.push(a);
    return a;
  };

  for (const inst of county.institutions) {
    const instPath = `${countyId}/${inst.id}`;
    for (const gw of inst.gateways) {
      const gwPath = `${instPath}/${gw.id}`;
      statusChanges.push({ at: opts.fromMs, institution: inst.id, gateway: gw.id, state: 'online', reason: 'connect' });
      // Gateway outages: the uplink lost (the broker publishes the last will), back minutes to hours later.
      const gp = Prng.for(seed, `${gwPath}#history-gateway`);
      for (let n = count(gp, rates.gatewayOutages); n > 0; n--) {
        const from = at(gp);
        const to = Math.min(finishBy, from + Math.round(2 * MIN + logNormal(gp, 20 * MIN, 1.2)));
        if (overlaps(gwPath, from, to)) continue;
        reserve(gwPath, from, to);
        gatewayOutages.push({ institution: inst.id, gateway: gw.id, from, to });
        statusChanges.push(
          { at: from, institution: inst.id, gateway: gw.id, state: 'offline', reason: 'will' },
          { at: to, institution: inst.id, gateway: gw.id, state: 'online', reason: 'connect' },
        );
        addAlert(RULES.gatewayOffline, { institution: inst.id, gateway: gw.id }, from, '网关离线：连接意外中断', {
          clearAt: to,
          prng: gp,
        });
      }
    }
    for (const gw of inst.gateways) {
      const gwPath = `${instPath}/${gw.id}`;
      const fires = gw.devices.filter((d) => d.kind === 'fire');
      for (const d of gw.devices) {
        const dPath = `${gwPath}/${d.id}`;
        const dp = Prng.for(seed, `${dPath}#history`);
        const intervalMs = (d.reportIntervalS ?? DEFAULT_REPORT_INTERVAL_S[d.kind]) * 1000;
        const subject = { institution: inst.id, gateway: gw.id, device: d };
        const event = (atMs: number, name: string, drillId?: string) =>
          deviceEvents.push({
            at: atMs,
            institution: inst.id,
            gateway: gw.id,
            device: d.id,
            kind: d.kind,
            event: name,
            ...(drillId ? { drillId } : {}),
          });
        // Device outages: reports stop; alerting's absence rule opens after 3 missed intervals.
        for (let n = count(dp, rates.deviceOutages[d.kind]); n > 0; n--) {
          const last = at(dp);
          const long = dp.next() < 0.05;
          const silentMs = Math.round(
            MISSED * intervalMs + 2 * MIN + (long ? dp.range(DAY, 3 * DAY) : logNormal(dp, 45 * MIN, 1.2)),
          );
          const resume = Math.min(finishBy, last + silentMs);
          if (resume - last <= MISSED * intervalMs + MIN) continue;
          if (overlaps(gwPath, last, resume) || overlaps(dPath, last, resume)) continue;
          reserve(dPath, last, resume);
          deviceOutages.push({
            ...subject,
            device: d.id,
            kind: d.kind,
            intervalMs,
            lastReportAt: last,
            resumeAt: resume,
          });
          const rule = d.kind === 'camera' ? RULES.cameraOffline : RULES.deviceOffline;
          addAlert(rule, subject, last + MISSED * intervalMs, `${MISSED} 个上报周期无数据`, {
            clearAt: resume,
            prng: dp,
          });
        }
        const faultLike = (rule: RuleInfo, perMonth: number, start: string, minMs: number, medianMs: number) => {
          for (let n = count(dp, perMonth); n > 0; n--) {
            const from = at(dp);
            const to = Math.min(finishBy, from + Math.round(minMs + logNormal(dp, medianMs, 1)));
            if (overlaps(dPath, from, to) || overlaps(gwPath, from, to)) continue;
            reserve(dPath, from, to);
            event(from, start);
            event(to, 'restore');
            addAlert(rule, subject, from, start, { clearAt: to, prng: dp });
          }
        };
        faultLike(RULES.fault, rates.deviceFaults, 'fault', 10 * MIN, 2 * HOUR);
        if (d.kind === 'extinguisher' && (d.medium ?? 'dry_powder') === 'dry_powder') {
          faultLike(RULES.lowPressure, rates.lowPressure, 'low_pressure', 12 * HOUR, DAY);
        }
        if (d.kind === 'camera') {
          faultLike(RULES.signalLoss, rates.cameraSignalLoss, 'signal_loss', MIN, 3 * MIN);
          faultLike(RULES.frozen, rates.cameraFrozen, 'frozen', 2 * MIN, 6 * MIN);
        }
        const alarms = (rule: RuleInfo, perMonth: number, name: string) => {
          for (let n = count(dp, perMonth); n > 0; n--) {
            const when = at(dp);
            if (overlaps(gwPath, when, when + HOUR)) continue;
            const v = dp.next();
            const verdict = v < 0.72 ? 'false_alarm' : v < 0.86 ? 'test' : v < 0.97 ? 'device_fault' : 'real_fire';
            event(when, name);
            addAlert(rule, subject, when, name === 'fire' ? '火灾报警' : '厨房探测器报警', { verdict, prng: dp });
          }
        };
        if (d.kind === 'fire') alarms(RULES.fire, rates.fireFalseAlarms, 'fire');
        if (d.kind === 'kitchen') alarms(RULES.kitchen, rates.kitchenAlarms, 'overheat');
      }
      // GB 50440's noisy detectors: one bad day of 6–9 fire alarms, each verified and closed.
      const np = Prng.for(seed, `${gwPath}#history-noisy`);
      for (const d of fires) {
        if (np.next() >= (rates.noisyDetectorsPer100 / 100) * months) continue;
        const day = tz.latestAt(at(np), { hour: 8, minute: 0, second: 0 });
        const n = np.int(6, 9);
        const times = Array.from({ length: n }, (_, i) => day + i * 80 * MIN + Math.round(np.range(0, 20 * MIN)));
        times.forEach((when, i) => {
          deviceEvents.push({
            at: when,
            institution: inst.id,
            gateway: gw.id,
            device: d.id,
            kind: 'fire',
            event: 'fire',
          });
          addAlert(RULES.fire, { institution: inst.id, gateway: gw.id, device: d }, when, '火灾报警', {
            verdict: np.next() < 0.9 ? 'false_alarm' : 'device_fault',
            prng: np,
            ...(times[i + 1] !== undefined ? { nextOpenAt: times[i + 1] } : {}),
          });
        });
      }
    }
  }

  // Drills (应急演练, at least one a year per institution): a share of the institutions, in up to
  // three county drills at 10:00 local on days spread through the period.
  const dp = Prng.for(seed, `${countyId}#history-drills`);
  const taking = county.institutions.filter(() => dp.next() < rates.drillShare);
  const groups = Math.min(3, taking.length);
  for (let g = 0; g < groups; g++) {
    const members = taking.filter((_, i) => i % groups === g);
    const day = lo + ((g + 0.5) / groups) * (hi - lo);
    const startsAt = tz.latestAt(day, { hour: 10, minute: 0, second: 0 });
    if (startsAt < lo || startsAt + HOUR > hi) continue;
    const drill: HistoryDrill = {
      id: `dr-${opts.runId}-${g + 1}`,
      name: `消防应急演练（第${g + 1}批）`,
      institutions: members.map((i) => i.id),
      startsAt,
      endsAt: startsAt + 30 * MIN,
      author: 'operator',
    };
    drills.push(drill);
    for (const inst of members) {
      const ip = Prng.for(seed, `${countyId}/${inst.id}#history-drill-${g}`);
      // Some institutions' drill never reaches the county: the score counts them as silent.
      if (ip.next() < 0.1) continue;
      const gw = inst.gateways.find((x) => x.devices.some((d) => d.kind === 'fire'));
      const d = gw?.devices.find((x) => x.kind === 'fire');
      if (!gw || !d) continue;
      const when = startsAt + Math.round(ip.range(MIN, 10 * MIN));
      deviceEvents.push({
        at: when,
        institution: inst.id,
        gateway: gw.id,
        device: d.id,
        kind: 'fire',
        event: 'fire',
        drillId: drill.id,
      });
      addAlert(RULES.fire, { institution: inst.id, gateway: gw.id, device: d }, when, '火灾报警（演练）', {
        verdict: 'test',
        drillId: drill.id,
        prng: ip,
      });
    }
  }

  const byTime = <T extends { at: number }>(xs: T[]) => xs.sort((a, b) => a.at - b.at);
  return {
    runId: opts.runId,
    county,
    seed,
    fromMs: opts.fromMs,
    toMs: opts.toMs,
    description:
      opts.description ??
      `${county.county.name}：模拟历史 ${new Date(opts.fromMs).toISOString()} — ${new Date(opts.toMs).toISOString()}，种子 ${seed}`,
    statusChanges: byTime(statusChanges),
    deviceEvents: byTime(deviceEvents),
    alerts: alerts.sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id)),
    drills,
    deviceOutages,
    gatewayOutages,
  };
}

/** Poisson-distributed count with mean `mean` (Knuth; small means only). */
function poisson(p: Prng, mean: number): number {
  if (mean <= 0) return 0;
  const limit = Math.exp(-Math.min(mean, 50));
  let k = 0;
  let prod = p.next();
  while (prod > limit) {
    k++;
    prod *= p.next();
  }
  return k;
}

/** A log-normal delay with this median and spread. */
function logNormal(p: Prng, median: number, sigma: number): number {
  return median * Math.exp(sigma * p.gaussian());
}

/**
 * The pushes of one notification: the institution's WeCom group and the dashboard stream once,
 * an SMS to each recipient. Most are sent at the first attempt; some retry; a few SMS give up.
 */
function deliveries(
  p: Prng,
  notificationId: string,
  at: number,
  recipients: readonly ContactConfig[],
): HistoryDelivery[] {
  const out: HistoryDelivery[] = [];
  const attempts = (
    deliveryId: string,
    channelId: string,
    channelType: string,
    failRetry: number,
    failGiveUp: number,
    contactId?: string,
  ) => {
    const base = { deliveryId, notificationId, channelId, channelType, ...(contactId ? { contactId } : {}) };
    let t = at + Math.round(p.range(200, 2500));
    const v = p.next();
    if (v < failGiveUp) {
      for (let attempt = 1; attempt <= 3; attempt++) {
        out.push({
          ...base,
          attempt,
          status: attempt < 3 ? 'retrying' : 'gave_up',
          at: t,
          latencyMs: 5000,
          error: 'timeout',
        });
        t += 10_000 * attempt;
      }
    } else if (v < failGiveUp + failRetry) {
      out.push({ ...base, attempt: 1, status: 'retrying', at: t, latencyMs: 5000, error: 'HTTP 503' });
      out.push({ ...base, attempt: 2, status: 'sent', at: t + 10_000, latencyMs: Math.round(p.range(150, 900)) });
    } else {
      out.push({ ...base, attempt: 1, status: 'sent', at: t, latencyMs: Math.round(p.range(150, 900)) });
    }
  };
  attempts(`${notificationId}:wecom-county`, 'wecom-county', 'wecom', 0.015, 0);
  attempts(`${notificationId}:dashboard`, 'dashboard', 'stream', 0, 0);
  for (const c of recipients) attempts(`${notificationId}:sms:${c.id}`, 'sms', 'sms', 0.02, 0.02, c.id);
  return out;
}
