import {
  DEFAULT_REPORT_INTERVAL_S,
  type DeviceKind,
  type EventType,
  type GatewayAddress,
  type PressureMedium,
  type TelemetryPayload,
} from '@anlian/protocol';
import { stringifyInSlices } from '@anlian/store';
import { AlertingError, AlertingErrorCode } from '../errors.js';
import { effectiveRules } from '../rules/rule-overrides.js';
import {
  type AlertingRule,
  type Comparison,
  DEFAULT_HEARTBEAT_INTERVAL_S,
  type DurationRule,
  isFireRule,
  isUpperLimit,
  type NumericField,
  type RateOfRiseRule,
  type Rule,
  type RuleSet,
  type ThresholdRule,
} from '../rules/rule-schema.js';
import { AbsenceSchedule } from './absence-schedule.js';
import type { AlertInput, DeviceInput } from './alert-input.js';
import {
  type AlertSignal,
  type AlertSubject,
  alertKey,
  type DeviceSubject,
  type GatewaySubject,
} from './alert-signal.js';
import { CompiledRules } from './compiled-rules.js';
import {
  type ConditionState,
  type DeviceSeenState,
  ENGINE_SNAPSHOT_VERSION,
  EngineSnapshot,
  type GatewaySeenState,
  type OpenAlertState,
} from './engine-snapshot.js';
import { evaluateRise, pushSample, type Sample } from './rise-window.js';

/** What the registry knows about a device (ingest's registry, or the county file). */
export interface DeviceInfo extends GatewayAddress {
  device: string;
  kind: DeviceKind;
  medium?: PressureMedium;
  /** Expected seconds between reports; the protocol default per kind when left out. */
  reportIntervalS?: number;
}

/** Looks a device up by gateway and device id (device ids are unique per gateway). */
export type DeviceLookup = (gateway: string, device: string) => DeviceInfo | undefined;

export interface RuleEngineOptions {
  /** Validated rules and overrides (`parseRuleFile`, `defaultRuleSet`). */
  rules: RuleSet;
  devices: DeviceLookup;
  /** County time in ms; used when `tick`, `watch` or `restore` are called without `now`. */
  clock: () => number;
  /** Called with every signal, in order, besides being returned. */
  onSignal?: (signal: AlertSignal) => void;
  /** Cap on the samples a rate-of-rise window keeps per device and rule. Default 600. */
  maxRateSamples?: number;
  /**
   * Whether `drillId` names a drill running for the institution at `at` (the service's drills).
   * Only such a drill's events of a simulation run are evaluated; without it, none are.
   */
  isDrill?: (institution: string, drillId: string, at: number) => boolean;
  /**
   * Which rules this engine evaluates when a node splits them over two threads (issue 12, the
   * alarm lane; `src/lane/`): `alarm` — event rules only (a fire alarm raised and cleared by
   * events, and a device's `disabled` mark), no absence watching; `bulk` — every other rule
   * (thresholds, durations, rates of rise, absence, inhibition), with the alarm lane's messages
   * forwarded to it as presence. Unset: every rule, one engine.
   */
  lane?: EngineLane;
}

/** The half of the rules an engine evaluates when a node runs two (see `RuleEngineOptions.lane`). */
export type EngineLane = 'alarm' | 'bulk';

/**
 * The lane a rule is evaluated on: event rules need nothing but events, so they go with the fire
 * alarm; every other kind is driven by telemetry, heartbeats or time. No rule needs both halves:
 * events clear only event rules (`CompiledRules.clearedBy`), and presence (any message) only
 * feeds absence, which the bulk lane holds with the alarm lane's messages forwarded to it.
 */
export function laneOf(rule: Rule): EngineLane {
  return rule.kind === 'event' ? 'alarm' : 'bulk';
}

/**
 * The pure rule engine: messages in (`handle`), time in (`tick`), alert signals out. No timers,
 * no I/O: the caller drives time, and the store persists `snapshot()`.
 *
 * Times: absence and every signal's `at` use county time (`receivedAt`, `now`); sample-based
 * conditions (threshold order, duration hold, rate-of-rise slope) use the device's `ts`, so
 * telemetry replayed from a gateway's store-and-forward queue keeps its spacing, and a constant
 * clock skew cancels out.
 */
export class RuleEngine {
  /** The county-wide rules, compiled when the engine is made: the first message may be a fire alarm. */
  private readonly defaults: CompiledRules;
  private overrideTargets: { institutions: Set<string>; devices: Set<string> } | undefined;
  private readonly compiledByTarget = new Map<string, CompiledRules>();
  private readonly alerts = new Map<string, OpenAlertState>();
  private readonly conditions = new Map<string, ConditionState>();
  private readonly devices = new Map<string, DeviceSeenState>();
  private readonly gateways = new Map<string, GatewaySeenState>();
  /**
   * When each watched device's absence is next worth checking. A county has ~50k devices and the
   * tick runs every second on the thread that also reads ingest's sockets (bench:alarm-latency):
   * a tick looks only at the devices whose check fell due, not at every device.
   */
  private absence: AbsenceSchedule;
  /** Device keys with an absence condition active; derived from `conditions`, rebuilt on restore. */
  private readonly absentDevices = new Set<string>();
  /**
   * Device keys that have (or had) a threshold condition: only their samples look conditions up.
   * Grows to the devices that ever crossed a threshold; rebuilt on restore.
   */
  private readonly conditionedDevices = new Set<string>();
  /** gateway → device keys behind it; derived from `devices`, rebuilt on restore. */
  private readonly devicesByGateway = new Map<string, Set<string>>();

  constructor(private readonly opts: RuleEngineOptions) {
    this.absence = new AbsenceSchedule(opts.clock());
    this.defaults = this.compile(opts.rules.rules);
  }

  /**
   * Evaluates one accepted message and returns the signals it causes (fire alarms first).
   * Synchronous and allocation-light: ingest calls it before the message is stored.
   */
  handle(input: AlertInput): AlertSignal[] {
    const out: AlertSignal[] = [];
    if (input.payload.simRun !== undefined) {
      this.onSimulated(input, out);
      return this.emit(out);
    }
    switch (input.type) {
      case 'event':
        this.onEvent(input, out);
        break;
      case 'telemetry':
        this.onTelemetry(input, out);
        break;
      case 'status':
        if (input.payload.state === 'offline') this.onGatewayOffline(input, out);
        else this.gatewaySeen(input, input.receivedAt, out);
        break;
      case 'heartbeat':
      case 'command-reply':
      case 'snapshot':
        this.gatewaySeen(input, input.receivedAt, out);
        break;
      default: {
        const never: never = input;
        throw new TypeError(`unknown input ${JSON.stringify(never)}`);
      }
    }
    return this.emit(out);
  }

  /**
   * Evaluates the time-based rules at `now`: gateway absence first (so this tick's device
   * absences already see their gateway down), then durations held without new samples, then
   * device absence.
   */
  tick(now: number = this.opts.clock()): AlertSignal[] {
    const out: AlertSignal[] = [];
    for (const g of this.gateways.values()) {
      for (const rule of this.rulesFor(g.institution).gatewayAbsence) {
        const subject = gatewaySubject(g);
        const key = alertKey(rule.id, subject);
        if (this.conditions.get(key)?.active) continue;
        const intervalS = rule.intervalS ?? DEFAULT_HEARTBEAT_INTERVAL_S;
        const silentMs = now - g.lastSeen;
        if (silentMs < rule.missed * intervalS * 1000) continue;
        g.down = true;
        this.conditions.set(key, { key, rule: rule.id, subject, active: true });
        this.raise(rule, subject, now, `网关 ${secs(silentMs)} 秒无消息（${rule.missed} × ${intervalS} 秒）`, out, {
          value: silentMs / 1000,
        });
      }
    }

    for (const c of this.conditions.values()) {
      if (c.active || c.sinceAt === undefined || c.subject.type !== 'device') continue;
      const rule = this.rulesFor(c.subject.institution, c.subject.gateway, c.subject.device).get(c.rule);
      if (rule?.kind !== 'duration') continue;
      if (now - c.sinceAt < rule.forS * 1000) continue;
      this.activateDuration(rule, c, now, out);
    }

    for (const d of this.absence.due(now)) this.checkAbsence(d, now, out);
    return this.emit(out);
  }

  /**
   * Starts watching registered devices that have not reported yet, as if seen at `now`, so
   * that one which never reports goes offline after its absence window.
   */
  watch(devices: Iterable<DeviceInfo>, now: number = this.opts.clock()): void {
    // The alarm lane has no absence rules: watching 50k devices there would only cost memory.
    if (this.opts.lane === 'alarm') return;
    for (const info of devices) {
      if (!this.gateways.has(info.gateway)) {
        this.gateways.set(info.gateway, { ...address(info), lastSeen: now, down: false });
      }
      const key = deviceKey(info.gateway, info.device);
      if (this.devices.has(key)) continue;
      this.addDevice(key, { ...address(info), device: info.device, kind: info.kind, lastSeen: now, watched: true });
    }
  }

  /**
   * The store reports that a person closed the alert `key`. The engine forgets it; a condition
   * still active does not raise again until it clears and returns. Returns whether it was open.
   */
  closed(key: string): boolean {
    return this.alerts.delete(key);
  }

  /** The alerts the engine believes open. */
  openAlerts(): OpenAlertState[] {
    return [...this.alerts.values()].map((a) => structuredClone(a));
  }

  /** Everything needed to continue after a restart, as plain JSON (see `EngineSnapshot`). */
  snapshot(now: number = this.opts.clock()): EngineSnapshot {
    return structuredClone({
      version: ENGINE_SNAPSHOT_VERSION,
      takenAt: now,
      alerts: [...this.alerts.values()],
      conditions: [...this.conditions.values()],
      devices: [...this.devices.values()],
      gateways: [...this.gateways.values()],
    });
  }

  /**
   * The same as `snapshot`, serialised without a deep copy first and a slice at a time, letting
   * the event loop (which reads ingest's sockets) go between slices: a county's state is several MB.
   */
  snapshotJson(now: number = this.opts.clock()): Promise<string> {
    return stringifyInSlices(
      { version: ENGINE_SNAPSHOT_VERSION, takenAt: now },
      {
        alerts: [...this.alerts.values()],
        conditions: [...this.conditions.values()],
        devices: [...this.devices.values()],
        gateways: [...this.gateways.values()],
      },
    );
  }

  /**
   * Replaces the state with a snapshot. The time between `takenAt` and `now` is downtime of
   * the engine, not silence of the devices: last-seen times and pending durations move forward
   * by it, so a restart does not flood the store with offline alerts. Rate windows keep their
   * device times. Throws `ANL_ALERT_SNAPSHOT_INVALID` for a malformed snapshot.
   */
  restore(state: unknown, now: number = this.opts.clock()): void {
    const parsed = EngineSnapshot.safeParse(state);
    if (!parsed.success) {
      throw new AlertingError(
        AlertingErrorCode.SNAPSHOT_INVALID,
        'invalid engine snapshot',
        parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message })),
      );
    }
    const s = parsed.data;
    const downtime = Math.max(0, now - s.takenAt);
    this.absence = new AbsenceSchedule(now);
    this.alerts.clear();
    this.conditions.clear();
    this.devices.clear();
    this.gateways.clear();
    this.devicesByGateway.clear();
    // A lane keeps its own rules' alerts and latches (a state saved by one engine for all rules
    // splits cleanly: the other lane restores the other half).
    const mine = this.laneRuleIds();
    for (const a of s.alerts) if (!mine || mine.has(a.rule)) this.alerts.set(a.key, a);
    this.absentDevices.clear();
    this.conditionedDevices.clear();
    for (const c of s.conditions) {
      if (mine && !mine.has(c.rule)) continue;
      if (c.sinceAt !== undefined) c.sinceAt += downtime;
      this.conditions.set(c.key, c);
      if (c.subject.type !== 'device') continue;
      const dk = deviceKey(c.subject.gateway, c.subject.device);
      this.conditionedDevices.add(dk);
      if (c.active) this.absentDevices.add(dk);
    }
    for (const d of s.devices) {
      // The alarm lane needs of a device only its maintenance mark (屏蔽), not its presence.
      if (this.opts.lane === 'alarm' && !d.disabled) continue;
      this.addDevice(deviceKey(d.gateway, d.device), { ...d, lastSeen: d.lastSeen + downtime });
    }
    for (const g of s.gateways) this.gateways.set(g.gateway, { ...g, lastSeen: g.lastSeen + downtime });
  }

  // ------------------------------------------------------------------ messages

  /**
   * A message of a simulation run (protocol `simRun`; design.md, Simulated time): its times are
   * simulated, so it raises no live alert and touches no condition — a latch, a device's newest
   * sample time or a rate window from another timeline would hide a real reading later. It still
   * shows its gateway and device connected (it reached the broker now, with the gateway's
   * credentials), which keeps absence rules from reporting them offline. The one exception is a
   * drill (issue 13): an event carrying the id of a drill running for its institution raises its
   * drill alert. Simulated clears and restores are not applied: a person closes the drill's alerts.
   */
  private onSimulated(input: AlertInput, out: AlertSignal[]): void {
    switch (input.type) {
      case 'event': {
        const p = input.payload;
        const rules = this.rulesFor(input.institution, input.gateway, input.device);
        if (p.drillId !== undefined && this.opts.isDrill?.(input.institution, p.drillId, input.receivedAt)) {
          const subject = deviceSubject(input, p.kind);
          for (const rule of rules.forEvent(p.kind, p.event)) {
            const zone = p.zone ? `，${p.zone}` : '';
            const detail = p.detail ? `：${p.detail}` : '';
            const reason = `${EVENT_ZH[p.event] ?? p.event}（${p.kind}/${p.event}${zone}）${detail}（模拟演练）`;
            this.raise(rule, subject, input.receivedAt, reason, out, drilled(p.drillId));
          }
        }
        this.deviceSeen(input, p.kind, rules, out);
        return;
      }
      case 'telemetry':
        this.deviceSeen(input, input.payload.kind, this.rulesFor(input.institution, input.gateway, input.device), out);
        return;
      case 'status':
        // A simulated gateway going offline is the run ending, not the institution going blind.
        if (input.payload.state === 'online') this.gatewaySeen(input, input.receivedAt, out);
        return;
      case 'heartbeat':
      case 'command-reply':
      case 'snapshot':
        this.gatewaySeen(input, input.receivedAt, out);
        return;
      default: {
        const never: never = input;
        throw new TypeError(`unknown input ${JSON.stringify(never)}`);
      }
    }
  }

  private onEvent(input: Extract<AlertInput, { type: 'event' }>, out: AlertSignal[]): void {
    const p = input.payload;
    const at = input.receivedAt;
    const rules = this.rulesFor(input.institution, input.gateway, input.device);
    const subject = deviceSubject(input, p.kind);
    // Maintenance is a device reporting `disabled` (屏蔽); its fire alarm still goes out, marked.
    const disabled = this.devices.get(deviceKey(input.gateway, input.device))?.disabled === true;
    // GB 26875.1: a fire alarm goes ahead of everything else; one indexed lookup, no rule scan.
    for (const rule of rules.forEvent(p.kind, p.event)) {
      // A device under maintenance (屏蔽) still raises its alarm, said so (issue 13).
      const reason = disabled ? `${eventReason(p)}，设备处于屏蔽（维护）状态` : eventReason(p);
      this.raise(rule, subject, at, reason, out, {
        ...(disabled ? { deviceDisabled: true as const } : {}),
        ...drilled(p.drillId),
      });
    }
    for (const rule of rules.clearedBy(p.kind, p.event)) this.clear(rule, subject, at, eventReason(p), out);
    const d = this.deviceSeen(input, p.kind, rules, out);
    if (p.event === 'disabled') d.disabled = true;
    else if (p.event === 'restore') delete d.disabled;
  }

  private onTelemetry(input: Extract<AlertInput, { type: 'telemetry' }>, out: AlertSignal[]): void {
    const p = input.payload;
    const rules = this.rulesFor(input.institution, input.gateway, input.device);
    const dk = deviceKey(input.gateway, input.device);
    const known = this.devices.get(dk);
    // A sample older than one already seen (a replay) is a report, but never drives a condition back.
    const inOrder = known?.lastTs === undefined || p.ts >= known.lastTs;
    if (inOrder) {
      // Built only when a rule needs it: most samples of most devices pass no threshold.
      let subject: DeviceSubject | undefined;
      const subjectOf = () => {
        subject ??= deviceSubject(input, p.kind);
        return subject;
      };
      const conditioned = this.conditionedDevices.has(dk);
      const medium = p.kind === 'extinguisher' ? p.medium : undefined;
      for (const rule of rules.forTelemetry(p.kind)) {
        if (rule.scope.medium !== undefined && rule.scope.medium !== medium) continue;
        const value = numericField(p, rule.field);
        if (value === undefined) continue;
        switch (rule.kind) {
          case 'threshold':
            // The common case, without a key or an object: nothing open, nothing to raise.
            if (!conditioned && !passes(rule.op, value, rule.raise)) break;
            this.conditionedDevices.add(dk);
            this.evalThreshold(rule, subjectOf(), value, input.receivedAt, out, p.drillId);
            break;
          case 'duration':
            this.evalDuration(rule, subjectOf(), value, p.ts, input.receivedAt, out, p.drillId);
            break;
          case 'rate-of-rise':
            this.evalRateOfRise(rule, subjectOf(), value, p.ts, input.receivedAt, out, p.drillId);
            break;
          default: {
            const never: never = rule;
            throw new TypeError(`unknown telemetry rule ${JSON.stringify(never)}`);
          }
        }
      }
    }
    const d = this.deviceSeen(input, p.kind, rules, out);
    if (inOrder) d.lastTs = p.ts;
  }

  private onGatewayOffline(input: Extract<AlertInput, { type: 'status' }>, out: AlertSignal[]): void {
    const at = input.receivedAt;
    let g = this.gateways.get(input.gateway);
    if (!g) {
      g = { ...address(input), lastSeen: at, down: false };
      this.gateways.set(input.gateway, g);
    }
    const subject = gatewaySubject(g);
    for (const rule of this.rulesFor(input.institution).gatewayAbsence) {
      if (rule.onWill === false) continue;
      g.down = true;
      const key = alertKey(rule.id, subject);
      this.conditions.set(key, { key, rule: rule.id, subject, active: true });
      // A will repeated while the alert is open (e.g. a retained status on resubscribe) is a repeat.
      this.raise(rule, subject, at, `网关离线：${STATUS_REASON_ZH[input.payload.reason ?? ''] ?? '未说明原因'}`, out);
    }
  }

  // ------------------------------------------------------------------ conditions

  private evalThreshold(
    rule: ThresholdRule,
    subject: DeviceSubject,
    value: number,
    at: number,
    out: AlertSignal[],
    drillId: string | undefined,
  ): void {
    const key = alertKey(rule.id, subject);
    const c = this.conditions.get(key);
    if (!c?.active) {
      if (!passes(rule.op, value, rule.raise)) return;
      this.conditions.set(key, { key, rule: rule.id, subject, active: true, value });
      this.raise(rule, subject, at, `${fieldZh(rule.field, value)} ${OP_ZH[rule.op]} ${rule.raise}`, out, {
        value,
        ...drilled(drillId),
      });
    } else {
      this.holdOrClear(rule, key, c, subject, value, at, out);
    }
  }

  /** An active threshold or duration condition: cleared past its hysteresis limit, else updated. */
  private holdOrClear(
    rule: ThresholdRule | DurationRule,
    key: string,
    c: ConditionState,
    subject: DeviceSubject,
    value: number,
    at: number,
    out: AlertSignal[],
  ): void {
    const limit = rule.clear ?? rule.raise;
    if (!isCleared(rule.op, value, limit)) {
      c.value = value;
      return;
    }
    this.conditions.delete(key);
    this.clear(rule, subject, at, `${fieldZh(rule.field, value)}，已回到 ${limit} 以内`, out, value);
  }

  private evalDuration(
    rule: DurationRule,
    subject: DeviceSubject,
    value: number,
    ts: number,
    at: number,
    out: AlertSignal[],
    drillId: string | undefined,
  ): void {
    const key = alertKey(rule.id, subject);
    const c = this.conditions.get(key);
    if (c?.active) {
      this.holdOrClear(rule, key, c, subject, value, at, out);
      return;
    }
    if (!passes(rule.op, value, rule.raise)) {
      // The condition must hold for the full forS: any sample outside it starts over.
      if (c) this.conditions.delete(key);
      return;
    }
    const pending = c ?? { key, rule: rule.id, subject, active: false, since: ts, sinceAt: at };
    pending.value = value;
    this.conditions.set(key, pending);
    if (ts - (pending.since ?? ts) >= rule.forS * 1000) this.activateDuration(rule, pending, at, out, drillId);
  }

  /** `drillId`: the sample that completed the hold came from a drill; a tick's activation never does. */
  private activateDuration(
    rule: DurationRule,
    c: ConditionState,
    at: number,
    out: AlertSignal[],
    drillId?: string,
  ): void {
    c.active = true;
    c.since = undefined;
    c.sinceAt = undefined;
    const reason = `${fieldZh(rule.field, c.value)} ${OP_ZH[rule.op]} ${rule.raise} 持续 ${rule.forS} 秒`;
    this.raise(rule, c.subject, at, reason, out, {
      ...(c.value === undefined ? {} : { value: c.value }),
      ...drilled(drillId),
    });
  }

  private evalRateOfRise(
    rule: RateOfRiseRule,
    subject: DeviceSubject,
    value: number,
    ts: number,
    at: number,
    out: AlertSignal[],
    drillId: string | undefined,
  ): void {
    const key = alertKey(rule.id, subject);
    let c = this.conditions.get(key);
    if (!c) {
      c = { key, rule: rule.id, subject, active: false, samples: [] };
      this.conditions.set(key, c);
    }
    const samples: Sample[] = c.samples ?? [];
    c.samples = samples;
    const windowMs = rule.windowS * 1000;
    pushSample(samples, [ts, value], windowMs, this.opts.maxRateSamples ?? 600);
    c.value = value;
    const r = evaluateRise(samples, windowMs, rule.segments);
    if (!r.covered) return;
    if (!c.active) {
      // Interpolation is floating point: a rise of exactly the limit must not miss it by 1e-15.
      const limit = rule.risePerMin * (1 - 1e-9);
      if (!r.dense || !r.segmentRates.every((rate) => rate >= limit)) return;
      c.active = true;
      const slowest = Math.min(...r.segmentRates);
      const reason = `${FIELD_ZH[rule.field].name}上升 ≥ ${round(slowest)}/分钟，持续 ${rule.windowS} 秒（限值 ${rule.risePerMin}/分钟）`;
      this.raise(rule, subject, at, reason, out, { value: round(r.overallRate), ...drilled(drillId) });
    } else if (r.overallRate < (rule.clearPerMin ?? rule.risePerMin / 2)) {
      c.active = false;
      this.clear(
        rule,
        subject,
        at,
        `${FIELD_ZH[rule.field].name}上升已降至 ${round(r.overallRate)}/分钟`,
        out,
        round(r.overallRate),
      );
    }
  }

  // ------------------------------------------------------------------ presence

  /** Records a device report: last seen, its gateway seen, its absence alerts cleared. */
  private deviceSeen(input: DeviceInput, kind: DeviceKind, rules: CompiledRules, out: AlertSignal[]): DeviceSeenState {
    const at = input.receivedAt;
    const key = deviceKey(input.gateway, input.device);
    let d = this.devices.get(key);
    if (!d) {
      // Unregistered devices (confirmed: false) are evaluated but not watched for absence.
      const watched = input.confirmed !== false || this.opts.devices(input.gateway, input.device) !== undefined;
      d = { ...address(input), device: input.device, kind, lastSeen: at, watched };
      this.addDevice(key, d);
    } else {
      if (at > d.lastSeen) d.lastSeen = at;
      d.kind = kind;
    }
    this.gatewaySeen(input, at, out);
    // Only a device with an absence alert open has anything to clear: no keys built otherwise.
    if (this.absentDevices.delete(key)) {
      for (const rule of rules.absenceFor(kind)) {
        const subject = deviceSubject(d, kind);
        const ck = alertKey(rule.id, subject);
        if (!this.conditions.get(ck)?.active) continue;
        this.conditions.delete(ck);
        this.clear(rule, subject, at, '设备已恢复上报', out);
      }
    }
    return d;
  }

  /** Any message through a gateway shows it is up: clears its offline alert and restarts its devices' windows. */
  private gatewaySeen(addr: GatewayAddress, at: number, out: AlertSignal[]): void {
    const g = this.gateways.get(addr.gateway);
    if (!g) {
      this.gateways.set(addr.gateway, { ...address(addr), lastSeen: at, down: false });
      return;
    }
    if (at > g.lastSeen) g.lastSeen = at;
    if (!g.down) return;
    g.down = false;
    const subject = gatewaySubject(g);
    for (const rule of this.rulesFor(g.institution).gatewayAbsence) {
      const key = alertKey(rule.id, subject);
      if (!this.conditions.get(key)?.active) continue;
      this.conditions.delete(key);
      this.clear(rule, subject, at, '网关已恢复通信', out);
    }
    // Its devices could not report while it was down: each gets a fresh absence window now.
    for (const dk of this.devicesByGateway.get(g.gateway) ?? []) {
      const d = this.devices.get(dk);
      if (d && d.lastSeen < at) d.lastSeen = at;
    }
  }

  /**
   * A device's absence check, when it fell due: raises what is due and schedules the next check
   * (at the end of its nearest window not yet passed). Report intervals are read afresh each
   * time, so a registry change takes effect at the device's next check.
   */
  private checkAbsence(d: DeviceSeenState, now: number, out: AlertSignal[]): void {
    if (!d.watched) return;
    const rules = this.rulesFor(d.institution, d.gateway, d.device);
    const absence = rules.absenceFor(d.kind);
    if (absence.length === 0) return;
    const silentMs = now - d.lastSeen;
    let next = Number.POSITIVE_INFINITY;
    let shortest = Number.POSITIVE_INFINITY;
    for (const rule of absence) {
      const intervalS =
        rule.intervalS ?? this.opts.devices(d.gateway, d.device)?.reportIntervalS ?? DEFAULT_REPORT_INTERVAL_S[d.kind];
      const windowMs = rule.missed * intervalS * 1000;
      shortest = Math.min(shortest, windowMs);
      if (silentMs < windowMs) {
        next = Math.min(next, d.lastSeen + windowMs);
        continue;
      }
      const subject = deviceSubject(d, d.kind);
      const key = alertKey(rule.id, subject);
      if (this.conditions.get(key)?.active) continue;
      if (rules.inhibitorsOf(rule.id).length > 0) {
        const g = this.gateways.get(d.gateway);
        // Inhibition: the gateway's one "institution blind" alert stands for all its devices.
        if (g?.down) continue;
        // Nothing has come through the gateway since this device's last report either: the
        // gateway's own absence rule decides first, and then this one is inhibited. Look again soon.
        if (g && g.lastSeen <= d.lastSeen) {
          next = Math.min(next, now + 1000);
          continue;
        }
      }
      this.conditions.set(key, { key, rule: rule.id, subject, active: true });
      this.absentDevices.add(deviceKey(d.gateway, d.device));
      this.raise(rule, subject, now, `${secs(silentMs)} 秒无上报（${rule.missed} × ${intervalS} 秒）`, out, {
        value: silentMs / 1000,
      });
    }
    // Nothing pending (raised, or inhibited behind a down gateway): look again a window later.
    this.absence.schedule(d, next === Number.POSITIVE_INFINITY ? now + shortest : next);
  }

  private addDevice(key: string, d: DeviceSeenState): void {
    this.devices.set(key, d);
    // Checked at the next tick, which schedules it from its rules and interval.
    if (d.watched && this.opts.lane !== 'alarm') this.absence.schedule(d, 0);
    let set = this.devicesByGateway.get(d.gateway);
    if (!set) {
      set = new Set();
      this.devicesByGateway.set(d.gateway, set);
    }
    set.add(key);
  }

  // ------------------------------------------------------------------ alerts

  private raise(
    rule: AlertingRule,
    subject: AlertSubject,
    at: number,
    reason: string,
    out: AlertSignal[],
    extra: { value?: number; deviceDisabled?: true; drillId?: string } = {},
  ): void {
    const key = alertKey(rule.id, subject);
    const open = this.alerts.get(key);
    if (open) {
      open.occurrences++;
      open.lastAt = at;
    } else {
      this.alerts.set(key, {
        key,
        rule: rule.id,
        severity: rule.severity,
        subject,
        raisedAt: at,
        lastAt: at,
        occurrences: 1,
      });
    }
    out.push({
      type: open ? 'repeat' : 'raise',
      key,
      rule: rule.id,
      name: rule.name,
      severity: rule.severity,
      resolve: rule.resolve,
      fireRule: isFireRule(rule),
      subject,
      ...extra,
      at,
      reason,
    });
  }

  /** Closes the open alert of an `auto` rule; a `manual` rule's alert waits for a person. */
  private clear(
    rule: AlertingRule,
    subject: AlertSubject,
    at: number,
    reason: string,
    out: AlertSignal[],
    value?: number,
  ): void {
    if (rule.resolve !== 'auto') return;
    const key = alertKey(rule.id, subject);
    if (!this.alerts.delete(key)) return;
    out.push({
      type: 'clear',
      key,
      rule: rule.id,
      name: rule.name,
      severity: rule.severity,
      resolve: rule.resolve,
      fireRule: isFireRule(rule),
      subject,
      ...(value === undefined ? {} : { value }),
      at,
      reason,
    });
  }

  private emit(out: AlertSignal[]): AlertSignal[] {
    const listener = this.opts.onSignal;
    if (listener) for (const s of out) listener(s);
    return out;
  }

  // ------------------------------------------------------------------ rules

  /** The compiled rules in force for an institution, or one device of it (overrides applied, cached). */
  private rulesFor(institution: string, gateway?: string, device?: string): CompiledRules {
    if (!this.overrideTargets) {
      const institutions = new Set<string>();
      const devices = new Set<string>();
      for (const o of this.opts.rules.overrides) {
        if (o.device === undefined) institutions.add(o.institution);
        else devices.add(`${o.institution}/${o.gateway}/${o.device}`);
      }
      this.overrideTargets = { institutions, devices };
    }
    const t = this.overrideTargets;
    // No key built per message unless some device has its own override.
    if (t.devices.size > 0 && gateway !== undefined && device !== undefined) {
      const key = `${institution}/${gateway}/${device}`;
      if (t.devices.has(key)) return this.compiledFor(key, { institution, gateway, device });
    }
    if (t.institutions.has(institution)) return this.compiledFor(institution, { institution });
    return this.defaults;
  }

  private compiledFor(cacheKey: string, target: { institution: string; gateway?: string; device?: string }) {
    let compiled = this.compiledByTarget.get(cacheKey);
    if (!compiled) {
      compiled = this.compile(effectiveRules(this.opts.rules, target));
      this.compiledByTarget.set(cacheKey, compiled);
    }
    return compiled;
  }

  /** This lane's rules of `rules` (all of them for an engine without a lane), indexed. */
  private compile(rules: readonly Rule[]): CompiledRules {
    const lane = this.opts.lane;
    return CompiledRules.from(lane === undefined ? rules : rules.filter((r) => laneOf(r) === lane));
  }

  /** The ids of the rules this lane evaluates; undefined for an engine of every rule. */
  private laneRuleIds(): Set<string> | undefined {
    const lane = this.opts.lane;
    if (lane === undefined) return undefined;
    return new Set(this.opts.rules.rules.filter((r) => laneOf(r) === lane).map((r) => r.id));
  }
}

// -------------------------------------------------------------------- helpers

/**
 * Device event types in the words of the monitoring center (GB 26875.3 component states). Every
 * event of the protocol has one: alert reasons are read by people (the wall screen, the manager's
 * phone, the pushes), never a code such as `fire/fire`.
 */
export const EVENT_ZH: Readonly<Record<EventType, string>> = {
  fire: '火警',
  fault: '故障',
  supervisory: '监管报警',
  disabled: '屏蔽',
  restore: '恢复',
  test: '测试',
  tamper: '防拆报警',
  low_pressure: '压力低',
  moved: '移位',
  overheat: '超温',
  gas: '可燃气体',
  signal_loss: '视频信号丢失',
  frozen: '画面冻结',
  black: '画面黑屏',
  occlusion: '镜头遮挡',
  too_dark: '画面过暗',
  too_bright: '画面过亮',
  blurred: '画面模糊',
  offline: '链路中断',
  leakage: '剩余电流报警',
};

/**
 * What happened and where, for people: `火警：主楼 3F 东走廊`, with what the device said when it
 * said something (a fire panel's `感烟火灾探测器 3回路17号 火警`, a UITD's `主电故障`):
 * `火警：二楼 东走廊 208房（感烟火灾探测器 3回路17号 火警）`, `故障：主电故障`, or the event alone.
 */
function eventReason(p: { event: EventType; zone?: string | undefined; detail?: string | undefined }): string {
  const zone = p.zone?.trim();
  const detail = p.detail?.trim();
  if (zone && detail) return `${EVENT_ZH[p.event]}：${zone}（${detail}）`;
  return zone || detail ? `${EVENT_ZH[p.event]}：${zone || detail}` : EVENT_ZH[p.event];
}

/** The signal field for a message's `drillId`, when it carries one. */
function drilled(drillId: string | undefined): { drillId?: string } {
  return drillId === undefined ? {} : { drillId };
}

function deviceKey(gateway: string, device: string): string {
  return `${gateway}/${device}`;
}

function address(a: GatewayAddress): GatewayAddress {
  return { county: a.county, institution: a.institution, gateway: a.gateway };
}

function deviceSubject(a: GatewayAddress & { device: string }, kind: DeviceKind): DeviceSubject {
  return { type: 'device', ...address(a), device: a.device, kind };
}

function gatewaySubject(a: GatewayAddress): GatewaySubject {
  return { type: 'gateway', ...address(a) };
}

function numericField(p: TelemetryPayload, field: string): number | undefined {
  const v = (p as Record<string, unknown>)[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** The raise condition: `value op limit`. */
function passes(op: Comparison, value: number, limit: number): boolean {
  switch (op) {
    case '>':
      return value > limit;
    case '>=':
      return value >= limit;
    case '<':
      return value < limit;
    case '<=':
      return value <= limit;
    default: {
      const never: never = op;
      throw new TypeError(`unknown comparison ${String(never)}`);
    }
  }
}

/** Hysteresis: left only strictly past `clear` (below it for an upper limit, above it for a lower one). */
function isCleared(op: Comparison, value: number, clear: number): boolean {
  return isUpperLimit(op) ? value < clear : value > clear;
}

/** Field names and units in the words of the screens (alert reasons are read by people). */
const FIELD_ZH: Readonly<Record<NumericField, { name: string; unit: string }>> = {
  temperature: { name: '温度', unit: ' °C' },
  pressure: { name: '压力', unit: ' MPa' },
  gasLel: { name: '可燃气体', unit: ' %LEL' },
  smoke: { name: '烟雾浓度', unit: ' dB/m' },
  battery: { name: '电量', unit: ' %' },
  signal: { name: '信号', unit: ' dBm' },
  fps: { name: '帧率', unit: ' fps' },
  bitrateKbps: { name: '码率', unit: ' kbps' },
  residualCurrent: { name: '剩余电流', unit: ' mA' },
  cableTemperature: { name: '线缆温度', unit: ' °C' },
};

/** Why a gateway said `offline` (protocol `StatusPayload.reason`). */
const STATUS_REASON_ZH: Readonly<Record<string, string>> = {
  will: '连接意外中断',
  shutdown: '网关正常关机',
  'uplink-lost': '上行链路中断',
  connect: '连接状态变化',
};

const OP_ZH: Readonly<Record<Comparison, string>> = { '>': '>', '>=': '≥', '<': '<', '<=': '≤' };

function fieldZh(field: NumericField, value: number | undefined): string {
  const f = FIELD_ZH[field];
  return `${f.name} ${value ?? '?'}${f.unit}`;
}

function secs(ms: number): number {
  return Math.round(ms / 1000);
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
