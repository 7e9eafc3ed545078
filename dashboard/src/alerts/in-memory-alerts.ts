import { randomUUID } from 'node:crypto';
import type { IngestEvent } from '@anlian/protocol';
import type {
  Alert,
  AlertChange,
  AlertDelivery,
  AlertDetail,
  AlertDeviceKind,
  AlertFilter,
  AlertPage,
  AlertSeverity,
  AlertSummary,
  AlertsPort,
  AlertTransition,
  AlertVerdict,
  Drill,
  DrillReport,
  EscalationPolicy,
  NewDrill,
  NewSilence,
  Silence,
} from './alerts-port.js';

/** The lifecycle errors the real alert service raises, with the same codes and statuses. */
export class AlertLifecycleError extends Error {
  override readonly name = 'AlertLifecycleError';
  constructor(
    readonly code: 'ANL_ALERT_NOT_FOUND' | 'ANL_ALERT_TRANSITION_INVALID',
    message: string,
    readonly statusCode: number,
  ) {
    super(`${code}: ${message}`);
  }
}

export interface InMemoryAlertsOptions {
  clock?: () => number;
  /** Feeds the fake from ingest's events: device events raise alerts, restores clear them. */
  subscribe?: (listener: (event: IngestEvent) => void) => () => void;
}

const DEFAULT_POLICY: EscalationPolicy = {
  // DOMAIN.md: the manager first, then the deputy, then the county duty officer.
  levels: [
    { afterS: 0, roles: ['manager'] },
    { afterS: 180, roles: ['deputy'] },
    { afterS: 600, roles: ['duty_officer'] },
  ],
  repeatEveryS: 300,
};

interface RuleShape {
  rule: string;
  severity: AlertSeverity;
  zh: string;
  en: string;
}

/** What each device event means, in the fake; the real rules live in alerting. */
const EVENT_RULES: Record<string, RuleShape | undefined> = {
  'fire/fire': { rule: 'fire-alarm', severity: 'critical', zh: '火警', en: 'Fire alarm' },
  'fire/supervisory': { rule: 'fire-supervisory', severity: 'warning', zh: '监管报警', en: 'Supervisory' },
  'fire/fault': { rule: 'device-fault', severity: 'warning', zh: '设备故障', en: 'Device fault' },
  'extinguisher/low_pressure': {
    rule: 'extinguisher-pressure',
    severity: 'warning',
    zh: '灭火器压力异常',
    en: 'Extinguisher pressure out of range',
  },
  'extinguisher/moved': { rule: 'extinguisher-moved', severity: 'warning', zh: '灭火器移位', en: 'Extinguisher moved' },
  'kitchen/overheat': { rule: 'kitchen-overheat', severity: 'critical', zh: '厨房高温', en: 'Kitchen overheat' },
  'kitchen/gas': { rule: 'kitchen-gas', severity: 'critical', zh: '燃气泄漏', en: 'Gas leak' },
  'camera/signal_loss': {
    rule: 'camera-signal-loss',
    severity: 'warning',
    zh: '视频信号丢失',
    en: 'Camera signal loss',
  },
  'camera/frozen': { rule: 'camera-frozen', severity: 'warning', zh: '画面冻结', en: 'Picture frozen' },
  'camera/black': { rule: 'camera-black', severity: 'warning', zh: '画面黑屏', en: 'Picture black' },
  'camera/occlusion': { rule: 'camera-occlusion', severity: 'warning', zh: '镜头遮挡', en: 'Lens occluded' },
};

/**
 * An in-memory alert service that fits `AlertsPort`: the lifecycle rules of the real one
 * (acknowledge only open alerts; a critical alarm is verified before it is closed — GB 25201,
 * a person confirms a fire alarm), silences, drills and policies. For tests, and for the
 * stand-alone dashboard until alerting is wired in. Not durable.
 */
export class InMemoryAlerts implements AlertsPort {
  readonly #clock: () => number;
  readonly #subscribe: InMemoryAlertsOptions['subscribe'];
  readonly #alerts = new Map<string, Alert>();
  /** Open (not closed) alert id per key: one open alert per key. */
  readonly #openByKey = new Map<string, string>();
  readonly #transitions = new Map<string, AlertTransition[]>();
  readonly #deliveries = new Map<string, AlertDelivery[]>();
  readonly #silences = new Map<string, Silence>();
  readonly #drills = new Map<string, Drill>();
  readonly #policies = new Map<string, EscalationPolicy>();
  readonly #listeners = new Set<(change: AlertChange) => void>();
  #unsubscribe: (() => void) | undefined;

  constructor(opts: InMemoryAlertsOptions = {}) {
    this.#clock = opts.clock ?? Date.now;
    this.#subscribe = opts.subscribe;
  }

  start(): void {
    if (this.#subscribe && !this.#unsubscribe) this.#unsubscribe = this.#subscribe((e) => this.ingest(e));
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Turns one ingest event into a raised, updated or cleared alert. */
  ingest(event: IngestEvent): void {
    if (event.type === 'status') {
      const key = `gateway-offline:${event.gateway}`;
      if (event.payload.state === 'offline') {
        this.raise({
          key,
          rule: 'gateway-offline',
          severity: 'warning',
          name: { zh: '网关离线', en: 'Gateway offline' },
          county: event.county,
          institution: event.institution,
          gateway: event.gateway,
          reason: `网关 ${event.gateway} 离线${event.payload.reason ? ` (${event.payload.reason})` : ''}`,
          at: event.receivedAt,
        });
      } else this.clear(key, event.receivedAt);
      return;
    }
    if (event.type !== 'event') return;
    const p = event.payload;
    if (p.event === 'restore') {
      // A recovering detector never closes a fire alarm by itself (DOMAIN.md); other alerts clear.
      for (const [key, id] of this.#openByKey) {
        const a = this.#alerts.get(id);
        if (a && a.gateway === event.gateway && a.device === event.device && a.rule !== 'fire-alarm') {
          this.clear(key, event.receivedAt);
        }
      }
      return;
    }
    const shape = EVENT_RULES[`${p.kind}/${p.event}`];
    if (!shape) return;
    const where = [p.zone, p.detail].filter((s) => s !== undefined).join(' · ');
    this.raise({
      key: `${shape.rule}:${event.gateway}/${event.device}`,
      rule: shape.rule,
      severity: shape.severity,
      name: { zh: shape.zh, en: shape.en },
      county: event.county,
      institution: event.institution,
      gateway: event.gateway,
      device: event.device,
      deviceKind: p.kind,
      reason: where || `${p.kind} ${p.event}`,
      at: event.receivedAt,
    });
  }

  /** Raises an alert, or counts one more occurrence of the open alert with the same key. */
  raise(input: {
    key: string;
    rule: string;
    severity: AlertSeverity;
    name: { zh: string; en: string };
    county: string;
    institution: string;
    gateway: string;
    device?: string;
    deviceKind?: AlertDeviceKind;
    value?: number;
    reason: string;
    at?: number;
  }): Alert {
    const at = input.at ?? this.#clock();
    const openId = this.#openByKey.get(input.key);
    const existing = openId ? this.#alerts.get(openId) : undefined;
    if (existing) {
      const next: Alert = { ...existing, occurrences: existing.occurrences + 1, lastSeenAt: at, reason: input.reason };
      this.#alerts.set(next.id, next);
      this.#emit({ type: 'updated', alert: next });
      return next;
    }
    const drill = this.#activeDrill(input.institution, at);
    const policy = this.#policies.get(input.institution) ?? DEFAULT_POLICY;
    const firstLevel = policy.levels[1];
    const alert: Alert = {
      id: randomUUID(),
      key: input.key,
      rule: input.rule,
      name: input.name,
      severity: input.severity,
      status: 'open',
      drill: drill !== undefined,
      ...(drill ? { drillId: drill.id } : {}),
      silenced: this.#silenced(input, at),
      county: input.county,
      institution: input.institution,
      gateway: input.gateway,
      ...(input.device !== undefined ? { device: input.device } : {}),
      ...(input.deviceKind !== undefined ? { deviceKind: input.deviceKind } : {}),
      ...(input.value !== undefined ? { value: input.value } : {}),
      reason: input.reason,
      occurrences: 1,
      openedAt: at,
      lastSeenAt: at,
      escalation: { level: 0, state: 'active', ...(firstLevel ? { nextAt: at + firstLevel.afterS * 1000 } : {}) },
    };
    this.#alerts.set(alert.id, alert);
    this.#openByKey.set(alert.key, alert.id);
    this.#transitions.set(alert.id, [{ alertId: alert.id, at, from: null, to: 'open', actor: 'system' }]);
    this.#deliveries.set(alert.id, [
      { at, channel: 'app', recipient: `${input.institution}:manager`, status: 'sent', level: 0 },
    ]);
    this.#emit({ type: 'raised', alert });
    return alert;
  }

  /** The condition went away: a non-critical alert closes itself; a critical one waits for a person. */
  clear(key: string, at = this.#clock()): void {
    const id = this.#openByKey.get(key);
    const a = id ? this.#alerts.get(id) : undefined;
    if (!a) return;
    if (a.severity === 'critical') return;
    this.#openByKey.delete(key);
    const next: Alert = {
      ...a,
      status: 'closed',
      closedAt: at,
      closedBy: 'system',
      escalation: { ...a.escalation, state: 'stopped' },
    };
    delete next.escalation.nextAt;
    this.#alerts.set(a.id, next);
    this.#transitions
      .get(a.id)
      ?.push({ alertId: a.id, at, from: a.status, to: 'closed', actor: 'system', note: 'condition cleared' });
    this.#emit({ type: 'cleared', alert: next });
  }

  async list(filter: AlertFilter): Promise<AlertPage> {
    const all = [...this.#alerts.values()]
      .filter(
        (a) =>
          (filter.institution === undefined || a.institution === filter.institution) &&
          (filter.status === undefined || filter.status.includes(a.status)) &&
          (filter.severity === undefined || a.severity === filter.severity) &&
          (filter.kind === undefined || a.deviceKind === filter.kind) &&
          (filter.drill === undefined || a.drill === filter.drill) &&
          (filter.from === undefined || a.openedAt >= filter.from) &&
          (filter.to === undefined || a.openedAt < filter.to),
      )
      .sort((x, y) => y.openedAt - x.openedAt || (x.id < y.id ? -1 : 1));
    const offset = filter.cursor ? Number(Buffer.from(filter.cursor, 'base64url').toString()) || 0 : 0;
    const limit = filter.limit ?? 100;
    const alerts = all.slice(offset, offset + limit);
    const more = offset + limit < all.length;
    return more ? { alerts, nextCursor: Buffer.from(String(offset + limit)).toString('base64url') } : { alerts };
  }

  async get(id: string): Promise<AlertDetail | undefined> {
    const alert = this.#alerts.get(id);
    if (!alert) return undefined;
    return {
      alert,
      transitions: [...(this.#transitions.get(id) ?? [])],
      deliveries: [...(this.#deliveries.get(id) ?? [])],
    };
  }

  async acknowledge(id: string, actor: string, note?: string): Promise<Alert> {
    const a = this.#need(id);
    if (a.status !== 'open') throw this.#invalid(a, 'acknowledged');
    const at = this.#clock();
    const escalation = { level: a.escalation.level, state: 'stopped' as const };
    return this.#transition(
      a,
      { ...a, status: 'acknowledged', acknowledgedAt: at, acknowledgedBy: actor, escalation },
      actor,
      at,
      note,
    );
  }

  async verify(id: string, actor: string, verdict: AlertVerdict, note?: string): Promise<Alert> {
    const a = this.#need(id);
    if (a.status !== 'open' && a.status !== 'acknowledged') throw this.#invalid(a, 'verified');
    const at = this.#clock();
    const escalation = { level: a.escalation.level, state: 'stopped' as const };
    const next: Alert = {
      ...a,
      status: 'verified',
      verdict,
      verifiedAt: at,
      acknowledgedAt: a.acknowledgedAt ?? at,
      acknowledgedBy: a.acknowledgedBy ?? actor,
      escalation,
    };
    return this.#transition(a, next, actor, at, note, verdict);
  }

  async close(id: string, actor: string, note?: string): Promise<Alert> {
    const a = this.#need(id);
    if (a.status === 'closed') throw this.#invalid(a, 'closed');
    // GB 25201: a fire alarm is confirmed by a person (verified) before it is closed.
    if (a.severity === 'critical' && a.status !== 'verified') throw this.#invalid(a, 'closed');
    const at = this.#clock();
    this.#openByKey.delete(a.key);
    const escalation = { level: a.escalation.level, state: 'done' as const };
    return this.#transition(a, { ...a, status: 'closed', closedAt: at, closedBy: actor, escalation }, actor, at, note);
  }

  async summary(county: string, since: number): Promise<AlertSummary> {
    const openByKind: Record<string, number> = { fire: 0, extinguisher: 0, kitchen: 0, camera: 0, gateway: 0 };
    let alarmsToday = 0;
    let ackSum = 0;
    let ackN = 0;
    for (const a of this.#alerts.values()) {
      if (a.county !== county || a.drill) continue;
      if (a.status !== 'closed')
        openByKind[a.deviceKind ?? 'gateway'] = (openByKind[a.deviceKind ?? 'gateway'] ?? 0) + 1;
      if (a.openedAt >= since) {
        alarmsToday++;
        if (a.acknowledgedAt !== undefined) {
          ackSum += a.acknowledgedAt - a.openedAt;
          ackN++;
        }
      }
    }
    return { openByKind, alarmsToday, meanTimeToAcknowledgeMs: ackN > 0 ? Math.round(ackSum / ackN) : null };
  }

  async listSilences(): Promise<Silence[]> {
    return [...this.#silences.values()].sort((a, b) => b.createdAt - a.createdAt);
  }

  async createSilence(s: NewSilence): Promise<Silence> {
    const silence: Silence = { id: randomUUID(), ...s, createdAt: this.#clock() };
    this.#silences.set(silence.id, silence);
    return silence;
  }

  async expireSilence(id: string, _actor: string): Promise<Silence> {
    const s = this.#silences.get(id);
    if (!s) throw new AlertLifecycleError('ANL_ALERT_NOT_FOUND', `silence ${id} not found`, 404);
    const next = { ...s, expiredAt: this.#clock() };
    this.#silences.set(id, next);
    return next;
  }

  async listDrills(): Promise<Drill[]> {
    return [...this.#drills.values()].sort((a, b) => b.startsAt - a.startsAt);
  }

  async createDrill(d: NewDrill): Promise<Drill> {
    const drill: Drill = { id: randomUUID(), ...d, createdAt: this.#clock() };
    this.#drills.set(drill.id, drill);
    return drill;
  }

  async endDrill(id: string, _actor: string): Promise<Drill> {
    const d = this.#drills.get(id);
    if (!d) throw new AlertLifecycleError('ANL_ALERT_NOT_FOUND', `drill ${id} not found`, 404);
    const next = { ...d, endedAt: this.#clock() };
    this.#drills.set(id, next);
    return next;
  }

  async drillReport(id: string): Promise<DrillReport> {
    const d = this.#drills.get(id);
    if (!d) throw new AlertLifecycleError('ANL_ALERT_NOT_FOUND', `drill ${id} not found`, 404);
    const alerts = [...this.#alerts.values()].filter((a) => a.drillId === id);
    const rows = alerts.map((a) => ({
      institution: a.institution,
      alert: a.id,
      rule: a.rule,
      openedAt: a.openedAt,
      acknowledgeS: a.acknowledgedAt !== undefined ? (a.acknowledgedAt - a.openedAt) / 1000 : null,
    }));
    const csv = [
      'institution,alert,rule,openedAt,acknowledgeS',
      ...rows.map((r) => `${r.institution},${r.alert},${r.rule},${r.openedAt},${r.acknowledgeS ?? ''}`),
    ].join('\n');
    return { json: { drill: d, alerts: rows }, csv };
  }

  async getPolicy(institution: string): Promise<EscalationPolicy> {
    return this.#policies.get(institution) ?? DEFAULT_POLICY;
  }

  async setPolicy(institution: string, policy: EscalationPolicy): Promise<EscalationPolicy> {
    this.#policies.set(institution, policy);
    return policy;
  }

  onChange(listener: (change: AlertChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(change: AlertChange): void {
    for (const l of this.#listeners) l(change);
  }

  #need(id: string): Alert {
    const a = this.#alerts.get(id);
    if (!a) throw new AlertLifecycleError('ANL_ALERT_NOT_FOUND', `alert ${id} not found`, 404);
    return a;
  }

  #invalid(a: Alert, to: string): AlertLifecycleError {
    return new AlertLifecycleError(
      'ANL_ALERT_TRANSITION_INVALID',
      `alert ${a.id} is ${a.status}; it cannot become ${to}`,
      409,
    );
  }

  #transition(prev: Alert, next: Alert, actor: string, at: number, note?: string, verdict?: AlertVerdict): Alert {
    this.#alerts.set(next.id, next);
    this.#transitions.get(next.id)?.push({
      alertId: next.id,
      at,
      from: prev.status,
      to: next.status,
      actor,
      ...(note !== undefined ? { note } : {}),
      ...(verdict !== undefined ? { verdict } : {}),
    });
    this.#emit({ type: next.status === 'closed' ? 'cleared' : 'updated', alert: next });
    return next;
  }

  #activeDrill(institution: string, at: number): Drill | undefined {
    for (const d of this.#drills.values()) {
      if (d.institutions.includes(institution) && d.startsAt <= at && at < d.endsAt && d.endedAt === undefined)
        return d;
    }
    return undefined;
  }

  #silenced(a: { institution: string; gateway: string; device?: string; rule: string }, at: number): boolean {
    for (const s of this.#silences.values()) {
      if (s.expiredAt !== undefined || at < s.startsAt || at >= s.endsAt) continue;
      const sc = s.scope;
      if (
        (sc.institution === undefined || sc.institution === a.institution) &&
        (sc.gateway === undefined || sc.gateway === a.gateway) &&
        (sc.device === undefined || sc.device === a.device) &&
        (sc.rule === undefined || sc.rule === a.rule)
      ) {
        return true;
      }
    }
    return false;
  }
}
