import { randomUUID } from 'node:crypto';
import {
  type AlertAction,
  AlertingErrorCode,
  applyAction,
  atLeast,
  buildDrillReport,
  DEFAULT_ESCALATION_POLICY,
  drillReportCsv,
  type ResolvePolicy,
} from '@anlian/alerting';
import { AlertLifecycleError, Notice, type NoticeInput, type NoticeReceipt } from '@anlian/alerting/client';
import type { IngestEvent } from '@anlian/protocol';
import {
  type Alert,
  type AlertChange,
  type AlertDelivery,
  type AlertDetail,
  type AlertDeviceKind,
  type AlertFilter,
  type AlertPage,
  type AlertSeverity,
  type AlertSummary,
  type AlertsPort,
  type AlertTransition,
  type AlertVerdict,
  type Drill,
  type DrillReportDocument,
  EscalationPolicy,
  type EscalationPolicyInput,
  type NewDrill,
  type NewSilence,
  type Silence,
} from '../src/alerts/alerts-port.js';

export interface InMemoryAlertsOptions {
  clock?: () => number;
  /** Feeds the fake from ingest's events: device events raise alerts, restores clear them. */
  subscribe?: (listener: (event: IngestEvent) => void) => () => void;
}

interface RuleShape {
  rule: string;
  severity: AlertSeverity;
  resolve: ResolvePolicy;
  zh: string;
  en: string;
}

/**
 * What each device event means in the fake: the ids, severities and resolve policies of
 * alerting's default event rules (alerting/src/rules/default-rules.ts); the real rules live there.
 */
const EVENT_RULES: Record<string, RuleShape | undefined> = {
  'fire/fire': { rule: 'fire-alarm', severity: 'critical', resolve: 'manual', zh: '火警', en: 'Fire alarm' },
  'fire/supervisory': {
    rule: 'fire-supervisory',
    severity: 'minor',
    resolve: 'auto',
    zh: '监管报警',
    en: 'Supervisory signal',
  },
  'fire/fault': { rule: 'device-fault', severity: 'major', resolve: 'auto', zh: '设备故障', en: 'Device fault' },
  'extinguisher/low_pressure': {
    rule: 'extinguisher-low-pressure-event',
    severity: 'major',
    resolve: 'auto',
    zh: '灭火器压力异常',
    en: 'Extinguisher pressure out of range',
  },
  'extinguisher/moved': {
    rule: 'extinguisher-moved',
    severity: 'minor',
    resolve: 'auto',
    zh: '灭火器移位',
    en: 'Extinguisher moved',
  },
  'kitchen/overheat': {
    rule: 'kitchen-device-alarm',
    severity: 'critical',
    resolve: 'manual',
    zh: '厨房探测器报警',
    en: 'Kitchen detector alarm',
  },
  'kitchen/gas': {
    rule: 'kitchen-device-alarm',
    severity: 'critical',
    resolve: 'manual',
    zh: '厨房探测器报警',
    en: 'Kitchen detector alarm',
  },
  'camera/signal_loss': {
    rule: 'camera-signal-loss',
    severity: 'major',
    resolve: 'auto',
    zh: '视频信号丢失',
    en: 'Camera signal loss',
  },
  'camera/frozen': {
    rule: 'camera-picture-fault',
    severity: 'minor',
    resolve: 'auto',
    zh: '视频画面异常',
    en: 'Camera picture fault',
  },
  'camera/black': {
    rule: 'camera-picture-fault',
    severity: 'minor',
    resolve: 'auto',
    zh: '视频画面异常',
    en: 'Camera picture fault',
  },
  'camera/occlusion': {
    rule: 'camera-picture-fault',
    severity: 'minor',
    resolve: 'auto',
    zh: '视频画面异常',
    en: 'Camera picture fault',
  },
  'camera/too_dark': {
    rule: 'camera-picture-fault',
    severity: 'minor',
    resolve: 'auto',
    zh: '视频画面异常',
    en: 'Camera picture fault',
  },
  'camera/too_bright': {
    rule: 'camera-picture-fault',
    severity: 'minor',
    resolve: 'auto',
    zh: '视频画面异常',
    en: 'Camera picture fault',
  },
  'camera/blurred': {
    rule: 'camera-picture-fault',
    severity: 'minor',
    resolve: 'auto',
    zh: '视频画面异常',
    en: 'Camera picture fault',
  },
};

/**
 * An in-memory alert service that fits `AlertsPort`, for unit tests and the dashboard bench:
 * alerting's model and its lifecycle rules (`applyAction`: acknowledge only open alerts; a manual
 * alert such as a fire alarm is verified before it is closed — GB 25201), its escalation
 * defaults, drill reports, silences and policies. No rule engine, no pushes, not durable.
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
          severity: 'critical',
          resolve: 'auto',
          name: { zh: '网关离线（机构失联）', en: 'Gateway offline: institution blind' },
          county: event.county,
          institution: event.institution,
          gateway: event.gateway,
          reason: '网关离线',
          at: event.receivedAt,
        });
      } else this.clear(key, event.receivedAt);
      return;
    }
    if (event.type !== 'event') return;
    const p = event.payload;
    if (p.event === 'restore') {
      for (const [key, id] of this.#openByKey) {
        const a = this.#alerts.get(id);
        if (a && a.gateway === event.gateway && a.device === event.device) this.clear(key, event.receivedAt);
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
      resolve: shape.resolve,
      name: { zh: shape.zh, en: shape.en },
      county: event.county,
      institution: event.institution,
      gateway: event.gateway,
      device: event.device,
      deviceKind: p.kind,
      reason: where || shape.zh,
      at: event.receivedAt,
    });
  }

  /** Raises an alert, or counts one more occurrence of the open alert with the same key. */
  raise(input: {
    key: string;
    rule: string;
    severity: AlertSeverity;
    /** Default: manual for critical alerts (a person closes them), else auto. */
    resolve?: ResolvePolicy;
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
      delete next.clearedAt;
      this.#alerts.set(next.id, next);
      this.#emit({ type: 'updated', alert: next });
      return next;
    }
    const drill = this.#activeDrill(input.institution, at);
    const silence = this.#silence(input, at);
    const policy = this.#policyFor(input.institution);
    // As alerting does: pushed from `notifyMinSeverity`, escalated from `escalateMinSeverity`.
    const notify = !silence && atLeast(input.severity, policy.notifyMinSeverity);
    const second = policy.levels[1];
    const escalates = notify && atLeast(input.severity, policy.escalateMinSeverity) && second !== undefined;
    const id = randomUUID();
    const alert: Alert = {
      id,
      key: input.key,
      rule: input.rule,
      name: input.name,
      severity: input.severity,
      resolve: input.resolve ?? (input.severity === 'critical' ? 'manual' : 'auto'),
      status: 'open',
      drill: drill !== undefined,
      ...(drill ? { drillId: drill.id } : {}),
      silenced: silence !== undefined,
      ...(silence ? { silenceId: silence.id } : {}),
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
      escalation:
        escalates && second
          ? { level: 0, round: 0, state: 'active', nextAt: at + second.afterS * 1000 }
          : { level: 0, round: 0, state: 'done' },
    };
    this.#alerts.set(id, alert);
    this.#openByKey.set(alert.key, id);
    const transition: AlertTransition = {
      alertId: id,
      seq: 1,
      at,
      from: null,
      to: 'open',
      actor: 'system',
      note: input.reason,
    };
    this.#transitions.set(id, [transition]);
    this.#deliveries.set(
      id,
      notify
        ? [
            {
              deliveryId: `${id}/L0R0:dashboard`,
              notificationId: `${id}/L0R0`,
              alertId: id,
              channelId: 'dashboard',
              channelType: 'stream',
              attempt: 1,
              status: 'sent',
              at,
              ...(alert.drill ? { drill: true } : {}),
            },
          ]
        : [],
    );
    this.#emit({ type: 'raised', alert, transition });
    return alert;
  }

  /** The condition went away: an auto alert closes itself; a manual one (fire) waits for a person. */
  clear(key: string, at = this.#clock()): void {
    const id = this.#openByKey.get(key);
    const a = id ? this.#alerts.get(id) : undefined;
    if (!a) return;
    if (a.resolve === 'manual') {
      const next: Alert = { ...a, clearedAt: at };
      this.#alerts.set(a.id, next);
      this.#emit({ type: 'updated', alert: next });
      return;
    }
    this.#act(a, { type: 'resolve', note: 'condition cleared' }, at);
  }

  async list(filter: AlertFilter): Promise<AlertPage> {
    const all = [...this.#alerts.values()]
      .filter(
        (a) =>
          (filter.institution === undefined || a.institution === filter.institution) &&
          (filter.status === undefined || filter.status.includes(a.status)) &&
          (filter.severity === undefined || filter.severity.includes(a.severity)) &&
          (filter.verdict === undefined || (a.verdict !== undefined && filter.verdict.includes(a.verdict))) &&
          (filter.kind === undefined ||
            (filter.kind === 'gateway' ? a.deviceKind === undefined : a.deviceKind === filter.kind)) &&
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

  async openAlerts(): Promise<Alert[]> {
    return [...this.#openByKey.values()].flatMap((id) => this.#alerts.get(id) ?? []);
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
    return this.#act(this.#need(id), { type: 'acknowledge', actor, note });
  }

  async verify(id: string, actor: string, verdict: AlertVerdict, note?: string): Promise<Alert> {
    return this.#act(this.#need(id), { type: 'verify', actor, verdict, note });
  }

  async close(id: string, actor: string, note?: string): Promise<Alert> {
    return this.#act(this.#need(id), { type: 'close', actor, note });
  }

  async summary(county: string, since: number): Promise<AlertSummary> {
    const openByKind: Record<string, number> = {};
    let alarmsToday = 0;
    let ackSum = 0;
    let ackN = 0;
    for (const a of this.#alerts.values()) {
      if (a.county !== county || a.drill) continue;
      if (a.status !== 'closed') {
        const kind = a.deviceKind ?? 'gateway';
        openByKind[kind] = (openByKind[kind] ?? 0) + 1;
      }
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

  async expireSilence(id: string, actor: string): Promise<Silence> {
    const s = this.#silences.get(id);
    if (!s || s.expiredAt !== undefined) throw notFound(`no active silence ${id}`);
    const next = { ...s, expiredAt: this.#clock(), expiredBy: actor };
    this.#silences.set(id, next);
    return next;
  }

  async listDrills(): Promise<Drill[]> {
    return [...this.#drills.values()].sort((a, b) => b.startsAt - a.startsAt);
  }

  async createDrill({ recipients, ...d }: NewDrill): Promise<Drill> {
    const drill: Drill = { id: randomUUID(), ...d, recipients: recipients ?? 'marker', createdAt: this.#clock() };
    this.#drills.set(drill.id, drill);
    return drill;
  }

  async endDrill(id: string, actor: string): Promise<Drill> {
    const d = this.#drills.get(id);
    if (!d || d.endedAt !== undefined) throw notFound(`no running drill ${id}`);
    const next = { ...d, endedAt: this.#clock(), endedBy: actor };
    this.#drills.set(id, next);
    return next;
  }

  async drillReport(id: string): Promise<DrillReportDocument> {
    const d = this.#drills.get(id);
    if (!d) throw notFound(`no drill ${id}`);
    const alerts = [...this.#alerts.values()].filter((a) => a.drillId === id);
    const report = buildDrillReport(d, alerts, this.#clock());
    return { report, csv: drillReportCsv(report) };
  }

  async getPolicy(institution: string): Promise<EscalationPolicy> {
    return this.#policyFor(institution);
  }

  async setPolicy(institution: string, input: EscalationPolicyInput, _author: string): Promise<EscalationPolicy> {
    const parsed = EscalationPolicy.safeParse(input);
    if (!parsed.success) {
      throw new AlertLifecycleError(
        AlertingErrorCode.REQUEST_INVALID,
        `invalid escalation policy: ${parsed.error.message}`,
      );
    }
    this.#policies.set(institution, parsed.data);
    return parsed.data;
  }

  /** Notices asked for (hazard escalations), parsed as alerting would; nothing is pushed. */
  readonly notices: Notice[] = [];

  async sendNotice(input: NoticeInput): Promise<NoticeReceipt> {
    const notice = Notice.parse(input);
    this.notices.push(notice);
    return { id: notice.id, recipients: notice.to.roles.length + notice.to.contacts.length };
  }

  onChange(listener: (change: AlertChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #policyFor(institution: string): EscalationPolicy {
    return this.#policies.get(institution) ?? this.#policies.get('*') ?? DEFAULT_ESCALATION_POLICY;
  }

  #emit(change: AlertChange): void {
    for (const l of this.#listeners) l(change);
  }

  #need(id: string): Alert {
    const a = this.#alerts.get(id);
    if (!a) throw notFound(`no alert ${id}`);
    return a;
  }

  /** alerting's lifecycle rules (`applyAction`), its errors in the port's form. */
  #act(prev: Alert, action: AlertAction, at = this.#clock()): Alert {
    const transitions = this.#transitions.get(prev.id) ?? [];
    let applied: ReturnType<typeof applyAction>;
    try {
      applied = applyAction(prev, action, at, transitions.length + 1);
    } catch (err) {
      throw AlertLifecycleError.from(err);
    }
    const { alert: next, transition } = applied;
    this.#alerts.set(next.id, next);
    transitions.push(transition);
    this.#transitions.set(next.id, transitions);
    if (next.status === 'closed') this.#openByKey.delete(next.key);
    this.#emit({ type: next.status === 'closed' ? 'cleared' : 'updated', alert: next, transition });
    return next;
  }

  #activeDrill(institution: string, at: number): Drill | undefined {
    for (const d of this.#drills.values()) {
      if (d.institutions.includes(institution) && d.startsAt <= at && at < (d.endedAt ?? d.endsAt)) return d;
    }
    return undefined;
  }

  #silence(
    a: { institution: string; gateway: string; device?: string; rule: string },
    at: number,
  ): Silence | undefined {
    for (const s of this.#silences.values()) {
      if (s.expiredAt !== undefined || at < s.startsAt || at >= s.endsAt) continue;
      const sc = s.scope;
      if (
        (sc.institution === undefined || sc.institution === a.institution) &&
        (sc.gateway === undefined || sc.gateway === a.gateway) &&
        (sc.device === undefined || sc.device === a.device) &&
        (sc.rule === undefined || sc.rule === a.rule)
      ) {
        return s;
      }
    }
    return undefined;
  }
}

function notFound(message: string): AlertLifecycleError {
  return new AlertLifecycleError(AlertingErrorCode.NOT_FOUND, message);
}
