import type { IngestEvent } from '@anlian/protocol';
import { type LeaseChange, type PartitionLeases, partitionOf, SoleLeases } from '@anlian/store';
import type { LineStore } from '@anlian/timeseries';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Notice } from '../api/alerting-contract.js';
import type { GatewayCommands } from '../commands/gateway-commands.js';
import { type Drill, drillActive, NewDrill } from '../drills/drill.js';
import { DrillCommander } from '../drills/drill-commander.js';
import { buildDrillReport, type DrillReport, drillReportCsv } from '../drills/drill-report.js';
import type { AlertSignal, AlertSubject } from '../engine/alert-signal.js';
import { RuleEngine } from '../engine/rule-engine.js';
import { AlertingError, AlertingErrorCode } from '../errors.js';
import {
  atLeast,
  DEFAULT_ESCALATION_POLICY,
  dueStep,
  EscalationPolicy,
  type EscalationPolicyInput,
  type EscalationStep,
  nextDueAt,
  rolesAt,
} from '../escalation/escalation-policy.js';
import { ShadowSignals } from '../ha/shadow-signals.js';
import type { BulkLane } from '../lane/bulk-lane.js';
import { type Alert, type AlertChange, type AlertTransition, SYSTEM_ACTOR, type Verdict } from '../lifecycle/alert.js';
import { type AlertAction, applyAction } from '../lifecycle/alert-lifecycle.js';
import type { DeliveryRecord } from '../notify/delivery-log.js';
import type { AlertNotification, NotificationKind, Recipient } from '../notify/notification.js';
import { isFireRule, type Rule, type RuleSet } from '../rules/rule-schema.js';
import { NewSilence, type Silence, silenceActive, silenceCovers } from '../silences/silence.js';
import { type AlertFilter, AlertStore, type AlertWrite } from '../store/alert-store.js';
import type { AlertingDatabase } from '../store/alerting-schema.js';
import { AlertEventTimes, alertEventLine } from './alert-event-line.js';
import { AlertingDirectory } from './alerting-directory.js';
import { DeferredWrites } from './deferred-writes.js';
import { newId } from './new-id.js';
import { SerialWriter } from './serial-writer.js';

/** What the service needs of the notification dispatcher (`NotificationDispatcher`). */
export interface NotificationSink {
  start(): void | Promise<void>;
  stop(): Promise<void>;
  dispatch(n: AlertNotification): void;
  /** Drops pending retries of an alert's notifications (acknowledged: stop escalating). */
  cancel(alertId: string): void;
  /**
   * Learns what the delivery log says was already sent for alerts this node takes over from
   * another, so that re-dispatching them skips those deliveries.
   */
  adopt?(alertIds: readonly string[]): Promise<void>;
}

export interface AlertingServiceDeps {
  db: Kysely<AlertingDatabase>;
  logger: Logger;
  metrics: Registry;
  rules: RuleSet;
  notifier: NotificationSink;
  /** `alert_event` points go here (ingest's InfluxDB writer); none are written without it. */
  events?: LineStore | undefined;
  /** InfluxDB retention policy for `alert_event` (1.x: `events_1y`). */
  eventsRetentionPolicy?: string | undefined;
  clock?: () => number;
  /** How often time-based rules and escalations are evaluated. Default 1000 ms. */
  tickMs?: number;
  /**
   * How often the engine's state is saved when it changed. Default 30 s: a county's snapshot
   * holds every device and costs tens of ms on the event loop; open alerts and escalations do
   * not depend on it (they are in the store as they change).
   */
  snapshotMs?: number;
  /** How often devices, institutions and contacts are reloaded from the registry. Default 60 s. */
  directoryRefreshMs?: number;
  /** The county-wide escalation policy when the store has none (`*`). */
  defaultPolicy?: EscalationPolicy;
  /** Base URL of the manager view, for links in pushes (`…/m/alerts/<id>`). */
  publicUrl?: string | undefined;
  /**
   * Which institutions this node acts for (issue 12): partitions of institutions held through
   * leases in the store. Every node evaluates every message; only the holder of an institution's
   * partition raises, pushes and escalates its alerts, and a standby takes over what it saw when
   * the holder dies. Default: this node holds everything (one node, `anlian up`).
   */
  leases?: PartitionLeases;
  /** This node's name: its saved engine state is its own. Unset: the single node's. */
  nodeId?: string | undefined;
  /** Silences, drills or policies changed here: tell the other nodes (the alert bus). */
  publishConfigChanged?: ((what: 'silences' | 'drills' | 'policies') => void) | undefined;
  /** Longest silence the API accepts. Default 7 days (`DEFAULT_SILENCE_MAX_MS`). */
  silenceMaxMs?: number;
  /**
   * County → gateway commands: drills are started and stopped at their gateways through it
   * (`cmd/drill-start`, `cmd/drill-stop`). Without it, drills are not announced to gateways.
   */
  commands?: GatewayCommands | undefined;
  /** How long a gateway has to answer a drill command. Default 10 s. */
  commandTimeoutMs?: number;
  /**
   * The bulk lane on a thread of its own (issue 12; `src/lane/bulk-lane.ts`): then this service's
   * engine evaluates only the event rules of the alarm lane's messages (`handle`), forwards those
   * messages to the bulk lane as presence, and takes the bulk lane's signals through `signal`.
   * Unset: one engine for every rule and message (`anlian up`, tests).
   */
  bulkLane?: BulkLane | undefined;
}

/** A silence is a maintenance window, not a way to switch a site off: 7 days at most by default. */
export const DEFAULT_SILENCE_MAX_MS = 7 * 24 * 3600_000;

export interface AlertDetail {
  alert: Alert;
  transitions: AlertTransition[];
  deliveries: DeliveryRecord[];
}

export interface AlertSummary {
  /** Open alerts (drills excluded) by severity and by device kind (`gateway` for gateway alerts). */
  openBySeverity: Record<string, number>;
  openByKind: Record<string, number>;
  openTotal: number;
  /** Alerts opened since `since` (drills excluded). */
  openedSince: number;
  meanToAcknowledgeS?: number;
}

const ENGINE_STATE = 'rule-engine';

/**
 * The name a node's engine state is saved under (`alerting_state`): each node's is its own (it
 * saw the same messages, not the same moments), and a node's bulk lane thread has its own too.
 */
export function engineStateName(nodeId: string | undefined, lane?: 'bulk'): string {
  const name = nodeId ? `${ENGINE_STATE}:${nodeId}` : ENGINE_STATE;
  return lane ? `${name}:${lane}` : name;
}
const COUNTY_POLICY = '*';

/**
 * The alerting service: ingest events in, alerts out — kept in memory while open, pushed at
 * once, escalated until acknowledged, and written behind to the store and InfluxDB.
 *
 * The alarm path (`handle`): rule engine → (new alert) notification dispatched → change emitted
 * → store and `alert_event` writes enqueued at the end of the turn, once the push's request is on
 * its socket (`DeferredWrites`). Nothing on it awaits I/O (ARCHITECTURE.md: the alarm path never
 * waits on the storage path). Restart-safe: open alerts and their escalation schedule come back from
 * the store, the engine's timers and latches from its saved state.
 */
export class AlertingService {
  readonly store: AlertStore;
  readonly directory: AlertingDirectory;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #writer: SerialWriter;
  /** Store and spool writes wait for the end of the turn: the pushes of this turn go first. */
  readonly #deferred: DeferredWrites;
  readonly #engine: RuleEngine;
  readonly #commander: DrillCommander;
  /** Open (not closed) alerts by key. */
  readonly #open = new Map<string, Alert>();
  readonly #byId = new Map<string, Alert>();
  readonly #seq = new Map<string, number>();
  #pending = new Map<string, AlertWrite>();
  /** Distinct InfluxDB times for `alert_event` points of one series. */
  readonly #eventTimes = new AlertEventTimes();
  #flushQueued = false;
  #policies = new Map<string, EscalationPolicy>();
  #silences: Silence[] = [];
  #drills: Drill[] = [];
  readonly #listeners = new Set<(change: AlertChange) => void>();
  #timers: NodeJS.Timeout[] = [];
  #engineDirty = false;
  #started = false;
  readonly #leases: PartitionLeases;
  /** What this node saw for institutions another node acts for (or that it is taking over). */
  readonly #shadow = new ShadowSignals();
  /** Partitions being taken over: their signals wait in the shadow until the store is read. */
  readonly #loading = new Set<number>();
  #unsubscribeLeases: (() => void) | undefined;
  readonly #m: {
    signals: Counter<'type' | 'severity'>;
    raiseToDispatch: Histogram;
    open: Gauge<'severity'>;
    writeDepth: Gauge;
    listenerErrors: Counter;
  };

  constructor(private readonly deps: AlertingServiceDeps) {
    this.#log = deps.logger.child({ module: 'alerting' });
    this.#clock = deps.clock ?? Date.now;
    this.store = new AlertStore(deps.db);
    this.directory = new AlertingDirectory(deps.db);
    this.#writer = new SerialWriter(this.#log);
    this.#deferred = new DeferredWrites((err) => this.#log.error({ err }, 'deferred store write failed to start'));
    this.#engine = new RuleEngine({
      rules: deps.rules,
      devices: this.directory.device,
      clock: this.#clock,
      isDrill: (institution, drillId, at) => this.#drillsOf(institution, at).some((d) => d.id === drillId),
      ...(deps.bulkLane ? { lane: 'alarm' as const } : {}),
    });
    this.#commander = new DrillCommander({
      commands: deps.commands,
      gateways: (institution) => this.directory.gateways(institution),
      record: (drillId, answer) => {
        // An answer arriving after shutdown is not recorded; its `sent` is, and is not resent.
        if (this.#started) this.#enqueue('drill gateway', () => this.store.recordDrillGateway(drillId, answer));
      },
      logger: this.#log,
      clock: this.#clock,
      // A gateway in the field answers a drill's start in seconds, or is not there.
      timeoutMs: deps.commandTimeoutMs ?? 10_000,
      actsFor: (institution) => this.#acts(institution),
    });
    this.#leases = deps.leases ?? new SoleLeases();
    const registers = [deps.metrics];
    this.#m = {
      signals: new Counter({
        name: 'anlian_alert_signals_total',
        help: 'Alert signals from the rule engine, by type (raise, repeat, clear) and severity',
        labelNames: ['type', 'severity'],
        registers,
      }),
      raiseToDispatch: new Histogram({
        name: 'anlian_alert_received_to_dispatch_seconds',
        help: 'From the message reaching the county to its alert being handed to the dispatcher',
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
        registers,
      }),
      open: new Gauge({
        name: 'anlian_alerts_open',
        help: 'Open (not closed) alerts by severity',
        labelNames: ['severity'],
        registers,
        collect: () => this.#collectOpen(),
      }),
      writeDepth: new Gauge({
        name: 'anlian_alert_store_queue',
        help: 'Alert store writes waiting',
        registers,
        collect: () => this.#m.writeDepth.set(this.#writer.depth),
      }),
      listenerErrors: new Counter({
        name: 'anlian_alert_listener_errors_total',
        help: 'Errors thrown by alert change listeners (dashboard)',
        registers,
      }),
    };
  }

  async start(): Promise<void> {
    if (this.#started) return;
    const now = this.#clock();
    await this.directory.refresh();
    await this.#reloadPolicies();
    this.#silences = await this.store.silences(now);
    this.#drills = await this.store.drills();
    // Which institutions this node acts for, before anything is loaded: a takeover announced
    // now is handled by the load below; later ones by `#onLeases`.
    await this.#leases.start();
    this.#commander.load(await this.store.drillGateways());
    const seqs = await this.store.openTransitionSeqs();
    for (const alert of await this.store.openAlerts()) {
      if (!this.#owns(alert.institution)) continue;
      this.#open.set(alert.key, alert);
      this.#byId.set(alert.id, alert);
      this.#seq.set(alert.id, seqs.get(alert.id) ?? 0);
    }
    const saved = await this.store.loadState(this.#engineStateName);
    if (saved !== undefined) {
      try {
        this.#engine.restore(saved, now);
      } catch (err) {
        // A state from an incompatible version: start the engine afresh, the store's alerts stand.
        this.#log.error({ err }, 'rule engine state could not be restored; starting it fresh');
      }
    }
    this.#engine.watch(this.directory.devices(), now);
    // The store is the record of which alerts are open: the engine forgets any it thinks open
    // that a person closed after its state was saved, and re-learns the rest as they repeat.
    for (const state of this.#engine.openAlerts()) {
      if (!this.#open.has(state.key)) this.#engine.closed(state.key);
    }
    await this.deps.notifier.start();
    this.#started = true;
    try {
      await this.deps.bulkLane?.start({
        openKeys: () => [...this.#open.keys()],
        onSignals: (signals) => {
          for (const s of signals) this.signal(s);
        },
      });
    } catch (err) {
      this.#started = false;
      await this.deps.notifier.stop();
      throw err;
    }
    this.#unsubscribeLeases = this.#leases.onChange((c) => void this.#onLeases(c));
    const tickMs = this.deps.tickMs ?? 1000;
    this.#every(tickMs, () => this.tick());
    this.#every(this.deps.snapshotMs ?? 30_000, () => this.#saveEngine(false));
    this.#every(this.deps.directoryRefreshMs ?? 60_000, () => {
      void this.#refreshDirectory();
    });
    // Escalations that fell due while the service was down go out now.
    this.tick();
    this.#log.info(
      { open: this.#open.size, partitions: this.#leases.describe(), ...this.directory.counts },
      'alerting started',
    );
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.#unsubscribeLeases?.();
    // Its thread saves its own engine state on its own store connection.
    await this.deps.bulkLane?.stop();
    this.#saveEngine(true);
    await this.deps.notifier.stop();
    this.#deferred.flush();
    await this.#writer.stop();
    // Given up last: another node takes the institutions once this one's writes are in the store.
    await this.#leases.stop();
    this.#log.info('alerting stopped');
  }

  /** The ingest listener: synchronous, never throws at ingest. */
  readonly handle = (event: IngestEvent): void => {
    if (!this.#started) return;
    let signals: AlertSignal[];
    try {
      signals = this.#engine.handle(event);
    } catch (err) {
      this.#log.error({ err, type: event.type, gateway: event.gateway }, 'rule engine failed on an event');
      return;
    }
    if (signals.length > 0) this.#engineDirty = true;
    for (const s of signals) this.#onSignal(s, event.receivedAt);
    // After the alarm is on its way: the bulk lane's absence rules count it as presence.
    this.deps.bulkLane?.forward(event);
  };

  /** Time-based rules (absence, durations) and due escalations. Called by the service's timer. */
  tick(now: number = this.#clock()): void {
    try {
      const signals = this.#engine.tick(now);
      if (signals.length > 0) this.#engineDirty = true;
      for (const s of signals) this.#onSignal(s);
    } catch (err) {
      this.#log.error({ err }, 'rule engine tick failed');
    }
    for (const alert of this.#open.values()) {
      const next = alert.escalation.nextAt;
      if (alert.escalation.state === 'active' && next !== undefined && next <= now) this.#escalate(alert, now);
    }
    this.#shadow.expire(now);
    // Drills that began or ended by their window: their gateways are told.
    this.#commander.sync(this.#drills, now);
  }

  /**
   * A condition found outside the rule engine (an unanswered duty check): raised, repeated or
   * cleared exactly as the engine's signals are — pushed, escalated, silenced, drilled, stored.
   */
  signal(s: AlertSignal): void {
    if (!this.#started) return;
    this.#onSignal(s, s.type === 'raise' ? s.at : undefined);
  }

  onChange(listener: (change: AlertChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Waits until every change so far is in the store. */
  flushed(): Promise<void> {
    this.#deferred.flush();
    return this.#writer.idle();
  }

  // ——— the alarm path ———

  #onSignal(s: AlertSignal, receivedAt?: number): void {
    if (!this.#acts(s.subject.institution)) {
      // Another node acts for this institution (or this one is taking it over): remember, do not act.
      this.#shadow.note(s);
      return;
    }
    this.#m.signals.inc({ type: s.type, severity: s.severity });
    const open = this.#open.get(s.key);
    if (s.type === 'clear') {
      if (open) this.#resolve(open, s);
      return;
    }
    if (open) {
      // A drill alert's device now alarming without the drill's mark is a real alarm (issue 13).
      if (open.drill && s.drillId !== open.drillId) this.#undrill(open, s, receivedAt);
      else this.#repeat(open, s);
      return;
    }
    this.#raise(s, receivedAt);
  }

  /** The drill ids running at `at` for an institution. */
  #drillsOf(institution: string, at: number): Drill[] {
    return this.#drills.filter((d) => drillActive(d, at) && d.institutions.includes(institution));
  }

  /**
   * The drill a signal belongs to: one running for its institution whose id the message carries
   * (protocol `drillId`). Nothing else makes an alert a drill — a fire during a drill is real. A
   * `drillId` that names no such drill is treated as real, and logged: a gateway left in drill
   * mode, or a drill ended early, must not swallow a fire.
   */
  #drillOf(s: AlertSignal): Drill | undefined {
    if (s.drillId === undefined) return undefined;
    const drill = this.#drillsOf(s.subject.institution, s.at).find((d) => d.id === s.drillId);
    if (!drill) {
      this.#log.warn(
        { drillId: s.drillId, institution: s.subject.institution, key: s.key, rule: s.rule },
        'signal marked with a drill that is not running for its institution: treated as real',
      );
    }
    return drill;
  }

  #raise(s: AlertSignal, receivedAt?: number): void {
    const at = s.at;
    const subject = s.subject;
    const drill = this.#drillOf(s);
    // A real alarm while a drill runs there: said so in its push (非演练).
    const during = drill ? undefined : this.#drillsOf(subject.institution, at)[0];
    // Issue 13: no silence covers a fire alarm — not one stored before the API refused them, not
    // one scoped to the whole institution or device (it mutes the other alerts there).
    const silence = s.fireRule
      ? undefined
      : this.#silences.find((x) => silenceActive(x, at) && silenceCovers(x, s.rule, subject));
    const policy = this.policyFor(subject.institution);
    const alert: Alert = {
      id: newId('al', at),
      key: s.key,
      rule: s.rule,
      name: s.name,
      severity: s.severity,
      resolve: s.resolve,
      status: 'open',
      drill: drill !== undefined,
      silenced: silence !== undefined,
      county: subject.county,
      institution: subject.institution,
      gateway: subject.gateway,
      reason: s.reason,
      occurrences: 1,
      openedAt: at,
      lastSeenAt: at,
      escalation: { level: 0, round: 0, state: 'done' },
    };
    if (drill) alert.drillId = drill.id;
    if (during) alert.duringDrillId = during.id;
    if (silence) alert.silenceId = silence.id;
    if (s.deviceDisabled) alert.deviceDisabled = true;
    if (subject.type === 'device') {
      alert.device = subject.device;
      alert.deviceKind = subject.kind;
    }
    if (s.value !== undefined) alert.value = s.value;

    const notify = !silence && atLeast(alert.severity, policy.notifyMinSeverity);
    if (notify) {
      const step = { level: 0, round: 0 };
      const escalates = atLeast(alert.severity, policy.escalateMinSeverity);
      const nextAt = escalates ? nextDueAt(policy, alert.openedAt, step) : undefined;
      alert.escalation = scheduled(step, nextAt);
      // GB 26875.1 (10 s to the center) — the first push goes before anything is stored.
      this.#dispatch(alert, policy, step, 'raised');
      if (receivedAt !== undefined) this.#m.raiseToDispatch.observe((this.#clock() - receivedAt) / 1000);
    }
    this.#open.set(alert.key, alert);
    this.#byId.set(alert.id, alert);
    const transition: AlertTransition = {
      alertId: alert.id,
      seq: 1,
      at,
      from: null,
      to: 'open',
      actor: SYSTEM_ACTOR,
      note: s.reason,
    };
    this.#seq.set(alert.id, 1);
    this.#emit({ type: 'raised', alert, transition });
    this.#persist(alert, true, transition);
    this.#log.info(
      { alert: alert.id, key: alert.key, severity: alert.severity, drill: alert.drill, silenced: alert.silenced },
      'alert raised',
    );
  }

  /**
   * An open drill alert's device alarming again without that drill's mark: a real alarm. The
   * drill's alert closes (`supersede`, kept in the drill's score as it was) and a real alert opens
   * under the same key, pushed and escalated from now, its push saying it is not the drill.
   */
  #undrill(drillAlert: Alert, s: AlertSignal, receivedAt?: number): void {
    this.#log.warn(
      { alert: drillAlert.id, key: drillAlert.key, drill: drillAlert.drillId },
      'real alarm on a drill alert',
    );
    const seq = (this.#seq.get(drillAlert.id) ?? 0) + 1;
    const note = `同一设备报警且不带本次演练标记：按真实报警处理（${s.reason}）`;
    const { alert: closed, transition } = applyAction(drillAlert, { type: 'supersede', note }, s.at, seq);
    this.deps.notifier.cancel(drillAlert.id);
    // The engine keeps its latch for the key: the real alert below takes the key over.
    this.#open.delete(drillAlert.key);
    this.#byId.delete(drillAlert.id);
    this.#seq.delete(drillAlert.id);
    this.#emit({ type: 'closed', alert: closed, transition });
    this.#persist(closed, false, transition);
    this.#raise({ ...s, type: 'raise' }, receivedAt);
  }

  #repeat(alert: Alert, s: AlertSignal): void {
    alert.occurrences += 1;
    alert.lastSeenAt = Math.max(alert.lastSeenAt, s.at);
    alert.reason = s.reason;
    if (s.value !== undefined) alert.value = s.value;
    delete alert.clearedAt;
    this.#emit({ type: 'updated', alert });
    this.#persist(alert, false);
  }

  #resolve(alert: Alert, s: AlertSignal): void {
    if (alert.resolve !== 'auto') {
      // The condition is gone, the alert is not: a person closes it (DOMAIN.md).
      alert.clearedAt = s.at;
      this.#emit({ type: 'updated', alert });
      this.#persist(alert, false);
      return;
    }
    this.#transition(alert, { type: 'resolve', note: s.reason }, s.at);
  }

  #escalate(alert: Alert, now: number): void {
    const policy = this.policyFor(alert.institution);
    const from: EscalationStep = { level: alert.escalation.level, round: alert.escalation.round };
    const step = dueStep(policy, alert.openedAt, from, now);
    const nextAt = nextDueAt(policy, alert.openedAt, step);
    alert.escalation = scheduled(step, nextAt);
    // No step further (the policy changed under the alert): only rescheduled, nobody notified again.
    if (step.level !== from.level || step.round !== from.round) {
      this.#dispatch(alert, policy, step, step.round > 0 ? 'reminder' : 'escalated');
      this.#log.warn({ alert: alert.id, level: step.level, round: step.round }, 'alert escalated: not acknowledged');
    }
    this.#emit({ type: 'updated', alert });
    this.#persist(alert, false);
  }

  #recipients(institution: string, wanted: (c: { id: string; role: string }) => boolean): Recipient[] {
    return this.directory
      .contacts(institution)
      .filter(wanted)
      .map((c) => {
        const r: Recipient = { contactId: c.id, name: c.name, role: c.role, phone: c.phone };
        if (c.wecomUserId) r.wecomUserId = c.wecomUserId;
        if (c.dingtalkUserId) r.dingtalkUserId = c.dingtalkUserId;
        return r;
      });
  }

  /**
   * Pushes another service's notice through this county's channels (the hazard ledger's overdue
   * escalations and deadline reminders, issue 16): recipients from the institution's contacts by
   * role or id, never critical, delivered once per notice id.
   */
  sendNotice(notice: Notice): { id: string; recipients: number } {
    const institution = this.directory.institution(notice.institution);
    if (!institution) {
      throw new AlertingError(AlertingErrorCode.NOT_FOUND, `no institution ${notice.institution}`);
    }
    const roles = new Set(notice.to.roles);
    const ids = new Set(notice.to.contacts);
    const recipients = this.#recipients(notice.institution, (c) => roles.has(c.role) || ids.has(c.id));
    const n: AlertNotification = {
      notificationId: notice.id,
      alertId: notice.subject,
      kind: notice.kind,
      severity: 'major',
      rule: notice.kind,
      title: { zh: notice.title, en: notice.title },
      reason: notice.reason,
      drill: false,
      county: institution.county,
      institution: { id: notice.institution, name: institution.name },
      gateway: '',
      at: notice.at,
      level: notice.round,
      recipients,
      ...(notice.link ? { link: notice.link } : {}),
    };
    this.deps.notifier.dispatch(n);
    this.#log.info({ notice: notice.id, kind: notice.kind, recipients: recipients.length }, 'notice dispatched');
    return { id: notice.id, recipients: recipients.length };
  }

  #dispatch(alert: Alert, policy: EscalationPolicy, step: EscalationStep, kind: NotificationKind): void {
    const roles = new Set<string>(rolesAt(policy, step));
    const recipients = this.#recipients(alert.institution, (c) => roles.has(c.role));
    const institution = this.directory.institution(alert.institution);
    const n: AlertNotification = {
      notificationId: `${alert.id}/L${step.level}R${step.round}`,
      alertId: alert.id,
      kind,
      severity: alert.severity,
      rule: alert.rule,
      title: alert.name,
      reason: alert.reason,
      drill: alert.drill,
      ...(alert.deviceDisabled ? { deviceDisabled: true } : {}),
      ...(alert.duringDrillId !== undefined && !alert.drill ? { realDuringDrill: true } : {}),
      county: alert.county,
      institution: { id: alert.institution, name: institution?.name ?? alert.institution },
      gateway: alert.gateway,
      at: alert.openedAt,
      level: step.level,
      recipients,
      occurrences: alert.occurrences,
    };
    if (alert.device !== undefined) {
      const d = this.directory.device(alert.gateway, alert.device);
      n.device = { id: alert.device, kind: alert.deviceKind ?? d?.kind ?? 'fire', ...(d ? { name: d.name } : {}) };
      if (d) n.location = { building: d.building, floor: d.floor, room: d.room };
    }
    if (alert.drillId !== undefined) {
      const drill = this.#drills.find((d) => d.id === alert.drillId);
      if (drill?.recipients === 'drill-channels') n.drillChannelsOnly = true;
    }
    if (this.deps.publicUrl) n.link = `${this.deps.publicUrl.replace(/\/$/, '')}/m/alerts/${alert.id}`;
    try {
      this.deps.notifier.dispatch(n);
    } catch (err) {
      this.#log.error({ err, alert: alert.id }, 'notification dispatch failed');
    }
  }

  // ——— people's actions ———

  async acknowledge(id: string, actor: string, note?: string): Promise<Alert> {
    return this.act(id, { type: 'acknowledge', actor, note });
  }

  async verify(id: string, actor: string, verdict: Verdict, note?: string): Promise<Alert> {
    return this.act(id, { type: 'verify', actor, verdict, note });
  }

  async close(id: string, actor: string, note?: string): Promise<Alert> {
    return this.act(id, { type: 'close', actor, note });
  }

  /** Applies a person's action and returns once it is in the store. */
  async act(id: string, action: Exclude<AlertAction, { type: 'resolve' | 'supersede' }>): Promise<Alert> {
    const alert = this.#byId.get(id) ?? (await this.store.get(id));
    if (!alert) throw this.#missing(id);
    if (!this.#acts(alert.institution)) {
      // The node that acts for the institution changes it (the API client tries the next node).
      throw new AlertingError(
        AlertingErrorCode.NOT_OWNER,
        `another alerting node acts for institution ${alert.institution}; ask it`,
      );
    }
    const changed = this.#transition(alert, action, this.#clock());
    await this.flushed();
    return changed;
  }

  #transition(alert: Alert, action: AlertAction, at: number): Alert {
    const seq = (this.#seq.get(alert.id) ?? 0) + 1;
    const { alert: next, transition } = applyAction(alert, action, at, seq);
    this.#seq.set(alert.id, seq);
    if (next.escalation.state !== 'active') this.deps.notifier.cancel(alert.id);
    if (next.status === 'closed') {
      this.#open.delete(alert.key);
      this.#byId.delete(alert.id);
      this.#seq.delete(alert.id);
      this.#engine.closed(alert.key);
      this.deps.bulkLane?.closed(alert.key);
      this.#engineDirty = true;
    } else {
      this.#open.set(next.key, next);
      this.#byId.set(next.id, next);
    }
    this.#emit({ type: next.status === 'closed' ? 'closed' : 'updated', alert: next, transition });
    this.#persist(next, false, transition);
    this.#log.info(
      { alert: alert.id, from: transition.from, to: transition.to, actor: transition.actor },
      'alert transition',
    );
    return next;
  }

  // ——— reads ———

  async list(filter: AlertFilter = {}): Promise<Alert[]> {
    await this.flushed();
    const rows = await this.store.list(filter);
    return rows.map((a) => this.#byId.get(a.id) ?? a);
  }

  async get(id: string): Promise<AlertDetail> {
    await this.flushed();
    const stored = await this.store.get(id);
    if (!stored) throw this.#missing(id);
    const [transitions, deliveries] = await Promise.all([this.store.transitions(id), this.store.deliveries(id)]);
    return { alert: this.#byId.get(id) ?? stored, transitions, deliveries };
  }

  /**
   * Open alerts held in memory — those of the institutions this node acts for (all of them on a
   * single node) — optionally of one institution.
   */
  openAlerts(institution?: string): Alert[] {
    const all = [...this.#open.values()];
    return institution === undefined ? all : all.filter((a) => a.institution === institution);
  }

  /** Every open alert of the county: this node's from memory, the other nodes' from the store. */
  async allOpenAlerts(): Promise<Alert[]> {
    const own = this.openAlerts();
    if (this.#actsForAll()) return own;
    await this.flushed();
    const others = (await this.store.openAlerts()).filter((a) => !this.#acts(a.institution));
    return [...own, ...others];
  }

  /** Whether this node acts for the institution now (it holds its partition). */
  actsFor(institution: string): boolean {
    return this.#acts(institution);
  }

  /** Which partitions this node holds, for health output and tests. */
  partitions(): ReturnType<PartitionLeases['describe']> {
    return this.#leases.describe();
  }

  async summary(since: number, county?: string): Promise<AlertSummary> {
    const openBySeverity: Record<string, number> = {};
    const openByKind: Record<string, number> = {};
    let openTotal = 0;
    for (const a of await this.allOpenAlerts()) {
      if (a.drill || (county !== undefined && a.county !== county)) continue;
      openTotal++;
      openBySeverity[a.severity] = (openBySeverity[a.severity] ?? 0) + 1;
      const kind = a.deviceKind ?? 'gateway';
      openByKind[kind] = (openByKind[kind] ?? 0) + 1;
    }
    await this.flushed();
    const opened = await this.store.openedSince(since, county);
    return {
      openBySeverity,
      openByKind,
      openTotal,
      openedSince: opened.opened,
      ...(opened.meanToAcknowledgeS !== undefined ? { meanToAcknowledgeS: opened.meanToAcknowledgeS } : {}),
    };
  }

  // ——— escalation policies ———

  policyFor(institution: string): EscalationPolicy {
    return (
      this.#policies.get(institution) ??
      this.#policies.get(COUNTY_POLICY) ??
      this.deps.defaultPolicy ??
      DEFAULT_ESCALATION_POLICY
    );
  }

  /** Sets an institution's policy (`*`: the county default); open alerts follow it from their next step. */
  async setPolicy(institution: string, input: EscalationPolicyInput, author: string): Promise<EscalationPolicy> {
    const parsed = EscalationPolicy.safeParse(input);
    if (!parsed.success) throw requestError('escalation policy', parsed.error.issues);
    await this.store.setPolicy(institution, parsed.data, author, this.#clock());
    this.#policies.set(institution, parsed.data);
    this.deps.publishConfigChanged?.('policies');
    return parsed.data;
  }

  async resetPolicy(institution: string): Promise<void> {
    await this.store.deletePolicy(institution);
    this.#policies.delete(institution);
    this.deps.publishConfigChanged?.('policies');
  }

  // ——— silences ———

  /**
   * Records a silence. Refused (`ANL_ALERT_REQUEST_INVALID`, HTTP 400, the reason in Chinese and
   * English): a rule that does not exist, a fire rule (`isFireRule`: fire alarms are never
   * silenced), an end before the start, or a window longer than `silenceMaxMs`.
   */
  async createSilence(input: unknown, author: string): Promise<Silence> {
    const parsed = NewSilence.safeParse(input);
    if (!parsed.success) throw requestError('silence', parsed.error.issues);
    const now = this.#clock();
    const startsAt = parsed.data.startsAt ?? now;
    refuseSilence(parsed.data.scope.rule, startsAt, parsed.data.endsAt, {
      rules: this.deps.rules.rules,
      maxMs: this.deps.silenceMaxMs ?? DEFAULT_SILENCE_MAX_MS,
    });
    const silence: Silence = {
      id: newId('si', now),
      scope: parsed.data.scope,
      startsAt,
      endsAt: parsed.data.endsAt,
      reason: parsed.data.reason,
      author,
      createdAt: now,
    };
    await this.store.insertSilence(silence);
    this.#silences.push(silence);
    this.deps.publishConfigChanged?.('silences');
    this.#log.info({ silence: silence.id, scope: silence.scope, author }, 'silence created');
    return silence;
  }

  async expireSilence(id: string, by: string): Promise<void> {
    const now = this.#clock();
    if (!(await this.store.expireSilence(id, now, by))) {
      throw new AlertingError(AlertingErrorCode.NOT_FOUND, `no active silence ${id}`);
    }
    const s = this.#silences.find((x) => x.id === id);
    if (s) {
      s.expiredAt = now;
      s.expiredBy = by;
    }
    this.deps.publishConfigChanged?.('silences');
  }

  listSilences(includeOver = false): Promise<Silence[]> {
    return this.store.silences(this.#clock(), includeOver);
  }

  // ——— drills ———

  async createDrill(input: unknown, author: string): Promise<Drill> {
    const parsed = NewDrill.safeParse(input);
    if (!parsed.success) throw requestError('drill', parsed.error.issues);
    const now = this.#clock();
    const startsAt = parsed.data.startsAt ?? now;
    if (parsed.data.endsAt <= startsAt) {
      throw new AlertingError(AlertingErrorCode.REQUEST_INVALID, 'a drill must end after it starts');
    }
    const drill: Drill = {
      id: newId('dr', now),
      name: parsed.data.name,
      institutions: [...new Set(parsed.data.institutions)],
      startsAt,
      endsAt: parsed.data.endsAt,
      recipients: parsed.data.recipients,
      author,
      createdAt: now,
    };
    await this.store.insertDrill(drill);
    this.#drills.unshift(drill);
    this.deps.publishConfigChanged?.('drills');
    this.#log.info({ drill: drill.id, institutions: drill.institutions.length, author }, 'drill started');
    // Its gateways start stamping their events with its id (answers come in behind).
    this.#commander.sync([drill], now);
    return this.#withGateways(drill);
  }

  async endDrill(id: string, by: string): Promise<Drill> {
    const now = this.#clock();
    if (!(await this.store.endDrill(id, now, by))) {
      throw new AlertingError(AlertingErrorCode.NOT_FOUND, `no running drill ${id}`);
    }
    const d = this.#drills.find((x) => x.id === id);
    if (!d) throw new AlertingError(AlertingErrorCode.NOT_FOUND, `no drill ${id}`);
    d.endedAt = now;
    d.endedBy = by;
    this.deps.publishConfigChanged?.('drills');
    this.#commander.sync([d], now);
    return this.#withGateways(d);
  }

  /** Drills, newest first, each with what its gateways answered to start and stop. */
  listDrills(): Drill[] {
    return this.#drills.map((d) => this.#withGateways(d));
  }

  /** Resolves when every drill command sent so far is answered or timed out. */
  drillCommandsSettled(): Promise<void> {
    return this.#commander.idle();
  }

  #withGateways(d: Drill): Drill {
    return { ...d, gateways: this.#commander.answers(d.id) };
  }

  async drillReport(id: string): Promise<{ report: DrillReport; csv: string }> {
    const drill = this.#drills.find((d) => d.id === id);
    if (!drill) throw new AlertingError(AlertingErrorCode.NOT_FOUND, `no drill ${id}`);
    const alerts = await this.list({ drillId: id, limit: 1000 });
    const report = buildDrillReport(this.#withGateways(drill), alerts, this.#clock());
    return { report, csv: drillReportCsv(report) };
  }

  // ——— several nodes (issue 12) ———

  /**
   * Another node changed silences, drills or policies in the store: read them again now, not at
   * the next poll — a drill must be known before its gateways start sending drill alarms.
   */
  async reloadConfig(what: 'silences' | 'drills' | 'policies'): Promise<void> {
    try {
      if (what === 'silences') this.#silences = await this.store.silences(this.#clock());
      else if (what === 'drills') this.#drills = await this.store.drills();
      else await this.#reloadPolicies();
    } catch (err) {
      this.#log.warn({ err, what }, 'reloading alerting configuration from the store failed; kept the previous');
    }
  }

  #owns(institution: string): boolean {
    return this.#leases.holds(partitionOf(institution, this.#leases.partitions));
  }

  /** This node acts for the institution now: it holds its partition and has loaded it. */
  #acts(institution: string): boolean {
    const p = partitionOf(institution, this.#leases.partitions);
    return this.#leases.holds(p) && !this.#loading.has(p);
  }

  /**
   * An alert id neither in memory nor in the store. Only a node that acts for every institution
   * knows it does not exist: another node may have raised it and published it (a wall screen shows
   * it, a person acknowledges it) before its write-behind reached the store — then the API client
   * must ask that node, not report "no such alert" on a fire alarm someone is looking at.
   */
  #missing(id: string): AlertingError {
    return this.#actsForAll()
      ? new AlertingError(AlertingErrorCode.NOT_FOUND, `no alert ${id}`)
      : new AlertingError(
          AlertingErrorCode.NOT_OWNER,
          `no alert ${id} in the store yet; the node that acts for its institution may hold it unwritten: ask it`,
        );
  }

  #actsForAll(): boolean {
    return this.#loading.size === 0 && this.#leases.held().length === this.#leases.partitions;
  }

  async #onLeases(change: LeaseChange): Promise<void> {
    if (!this.#started) return;
    const n = this.#leases.partitions;
    if (change.lost.length > 0) {
      const lost = new Set(change.lost);
      let dropped = 0;
      for (const a of [...this.#open.values()]) {
        if (!lost.has(partitionOf(a.institution, n))) continue;
        this.#open.delete(a.key);
        this.#byId.delete(a.id);
        this.#seq.delete(a.id);
        // The node that took them pushes and escalates from here on.
        this.deps.notifier.cancel(a.id);
        dropped++;
      }
      this.#log.warn({ lost: change.lost, alerts: dropped }, 'institutions handed to another alerting node');
    }
    if (change.acquired.length > 0) await this.#takeOver(change.acquired);
  }

  /**
   * Takes institutions over from a node that died or gave them up: their open alerts from the
   * store, every condition this node saw for them that the store does not show as handled raised
   * now, and the pushes of their open alerts that the log does not show as sent sent again.
   */
  async #takeOver(partitions: readonly number[]): Promise<void> {
    const n = this.#leases.partitions;
    const taking = new Set(partitions);
    const inTaken = (institution: string) => taking.has(partitionOf(institution, n));
    for (const p of partitions) this.#loading.add(p);
    const t0 = this.#clock();
    let alerts: Alert[] = [];
    let seqs = new Map<string, number>();
    let storeOk = true;
    try {
      [alerts, seqs] = await Promise.all([this.store.openAlerts(), this.store.openTransitionSeqs()]);
    } catch (err) {
      // Still ours: act on what this node saw, even without the store ("duplicates rather than miss").
      storeOk = false;
      this.#log.error({ err, partitions }, 'taking institutions over: the store could not be read');
    }
    const adopted: Alert[] = [];
    for (const a of alerts) {
      if (!inTaken(a.institution) || this.#open.has(a.key)) continue;
      this.#open.set(a.key, a);
      this.#byId.set(a.id, a);
      this.#seq.set(a.id, seqs.get(a.id) ?? 0);
      adopted.push(a);
    }
    await this.deps.notifier.adopt?.(adopted.map((a) => a.id)).catch((err: unknown) => {
      this.#log.warn({ err }, 'delivery log not read: pushes already sent may go out again');
    });
    for (const p of partitions) this.#loading.delete(p);

    // What this node saw while the other node acted: raised unless the store shows it handled.
    const seen = this.#shadow.take(inTaken);
    let latest = new Map<string, { status: string; closedAt?: number }>();
    if (storeOk) {
      latest = await this.store
        .latestByKeys(seen.filter((s) => !this.#open.has(s.key)).map((s) => s.key))
        .catch(() => new Map());
    }
    let raised = 0;
    for (const s of seen) {
      if (this.#open.has(s.key)) continue;
      const last = latest.get(s.key);
      // A person closed it after this was seen: handled.
      if (last?.closedAt !== undefined && last.closedAt >= s.at) continue;
      this.#onSignal({ ...s, type: 'raise' }, s.at);
      raised++;
    }
    // Pushes the other node may not have made: the dispatcher skips what the log says was sent.
    let redispatched = 0;
    for (const a of adopted) {
      if (a.status !== 'open' || a.silenced) continue;
      const policy = this.policyFor(a.institution);
      if (!atLeast(a.severity, policy.notifyMinSeverity)) continue;
      const step = { level: a.escalation.level, round: a.escalation.round };
      this.#dispatch(a, policy, step, step.level === 0 && step.round === 0 ? 'raised' : 'escalated');
      redispatched++;
    }
    this.#log.warn(
      { partitions, adopted: adopted.length, raisedFromShadow: raised, redispatched, ms: this.#clock() - t0 },
      'institutions taken over from another alerting node',
    );
  }

  // ——— internals ———

  #persist(alert: Alert, insert: boolean, transition?: AlertTransition): void {
    // The alert itself, not a copy: a flush writes whatever its latest state is by then, and a
    // later change of the same alert only replaces the entry (a flood of repeats, one row write).
    const snapshot = alert;
    const pending = this.#pending.get(alert.id);
    if (pending) {
      pending.alert = snapshot;
      if (transition) pending.transitions.push(transition);
    } else {
      this.#pending.set(alert.id, { alert: snapshot, insert, transitions: transition ? [transition] : [] });
    }
    const events = this.deps.events;
    if (transition && events) {
      const line = alertEventLine(snapshot, transition, this.#eventTimes.at(snapshot, transition));
      // After this turn's pushes: the spool's append writes synchronously (writeSync).
      this.#deferred.defer(() => {
        events
          .write([line], {
            priority: 'event',
            ...(this.deps.eventsRetentionPolicy ? { retentionPolicy: this.deps.eventsRetentionPolicy } : {}),
          })
          .catch((err: unknown) => this.#log.error({ err, alert: alert.id }, 'alert_event not written to InfluxDB'));
      });
    }
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    this.#enqueue('alerts', async () => {
      this.#flushQueued = false;
      const batch = [...this.#pending.values()];
      this.#pending = new Map();
      const { duplicates } = await this.store.writeChanges(batch, this.#clock());
      for (const id of new Set(duplicates)) await this.#adoptStored(id);
    });
  }

  /**
   * Another node's alert stood for the key of one this node raised (two nodes acting for the
   * same institution for a moment, issue 12): this node drops its own and takes the stored one.
   */
  async #adoptStored(id: string): Promise<void> {
    const mine = this.#byId.get(id);
    if (!mine) return;
    const stored = await this.store.openByKey(mine.key);
    this.#byId.delete(id);
    this.#seq.delete(id);
    this.deps.notifier.cancel(id);
    if (stored) {
      this.#open.set(stored.key, stored);
      this.#byId.set(stored.id, stored);
      this.#seq.set(stored.id, (await this.store.openTransitionSeqs()).get(stored.id) ?? 0);
      this.#emit({ type: 'updated', alert: stored });
    } else {
      this.#open.delete(mine.key);
    }
    this.#log.warn({ dropped: id, kept: stored?.id, key: mine.key }, 'another node’s alert stands for this key');
  }

  /**
   * A store write, in order with every other, started at the end of this event-loop turn so the
   * pushes dispatched in it reach their sockets first (`DeferredWrites`).
   */
  #enqueue(what: string, run: () => Promise<void>): void {
    this.#deferred.defer(() => this.#writer.enqueue(what, run));
  }

  #emit(change: AlertChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (err) {
        this.#m.listenerErrors.inc();
        this.#log.error({ err, alert: change.alert.id }, 'alert change listener failed');
      }
    }
  }

  get #engineStateName(): string {
    return engineStateName(this.deps.nodeId);
  }

  #saveEngine(force: boolean): void {
    if (!force && !this.#engineDirty) return;
    this.#engineDirty = false;
    const now = this.#clock();
    // Serialised now (in slices), written in turn with the alert changes.
    const state = this.#engine.snapshotJson(now);
    this.#enqueue('engine state', async () => this.store.saveState(this.#engineStateName, await state, now));
  }

  async #reloadPolicies(): Promise<void> {
    this.#policies = await this.store.policies();
  }

  async #refreshDirectory(): Promise<void> {
    try {
      if (await this.directory.refresh()) this.#engine.watch(this.directory.devices(), this.#clock());
      this.#silences = await this.store.silences(this.#clock());
    } catch (err) {
      this.#log.warn({ err }, 'registry reload for alerting failed; keeping the previous one');
    }
  }

  #every(ms: number, fn: () => void): void {
    const t = setInterval(fn, ms);
    t.unref();
    this.#timers.push(t);
  }

  #collectOpen(): void {
    const counts: Record<string, number> = { critical: 0, major: 0, minor: 0, info: 0 };
    for (const a of this.#open.values()) counts[a.severity] = (counts[a.severity] ?? 0) + 1;
    for (const [severity, n] of Object.entries(counts)) this.#m.open.set({ severity }, n);
  }
}

/** An alert's escalation on `step`: active until `nextAt`, or done when nothing follows. */
function scheduled(step: EscalationStep, nextAt: number | undefined): Alert['escalation'] {
  return nextAt === undefined ? { ...step, state: 'done' } : { ...step, state: 'active', nextAt };
}

/**
 * Why a silence cannot be recorded, as a 400 whose message says it in Chinese first (operators
 * read it), English after, with the field it is about. Throws; returns when the silence is fine.
 */
function refuseSilence(
  ruleId: string | undefined,
  startsAt: number,
  endsAt: number,
  o: { rules: readonly Rule[]; maxMs: number },
): void {
  const refuse = (path: string, zh: string, en: string): never => {
    throw new AlertingError(AlertingErrorCode.REQUEST_INVALID, `${zh}（${en}）`, [{ path, message: en }]);
  };
  if (ruleId !== undefined) {
    const rule = o.rules.find((r) => r.id === ruleId);
    if (!rule) {
      refuse(
        'scope.rule',
        `没有规则 “${ruleId}”，静默须指明已有的规则`,
        `no rule "${ruleId}": a silence names an existing rule`,
      );
    } else if (rule.kind !== 'inhibition' && isFireRule(rule)) {
      refuse(
        'scope.rule',
        `火警永不静默：规则 “${ruleId}”（${rule.name.zh}）是火警规则，静默不能覆盖它；设备维护期间请让设备上报“屏蔽”（disabled）事件`,
        `fire alarms are never silenced: rule "${ruleId}" (${rule.name.en}) raises fire alarms; for maintenance, disable the device (a disabled event)`,
      );
    }
  }
  if (endsAt <= startsAt) refuse('endsAt', '静默的结束时间须晚于开始时间', 'a silence must end after it starts');
  if (endsAt - startsAt > o.maxMs) {
    const hours = Math.round(o.maxMs / 3600_000);
    refuse('endsAt', `静默最长 ${hours} 小时`, `a silence lasts at most ${hours} hours`);
  }
}

function requestError(what: string, issues: readonly { path: PropertyKey[]; message: string }[]): AlertingError {
  const detail = issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
  return new AlertingError(AlertingErrorCode.REQUEST_INVALID, `invalid ${what}: ${detail}`);
}

export type { AlertSubject };
