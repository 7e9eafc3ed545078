import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { InstitutionGrader } from '../grading/institution-grader.js';
import { type Hazard, WORK_PENDING } from '../hazards/hazard.js';
import type { HazardLedger } from '../hazards/hazard-ledger.js';
import { escalateEveryMs, remindBeforeMs } from '../hazards/ledger-policy.js';
import type { SupervisionNotifier } from '../hazards/supervision-notifier.js';
import type { AlertingReadModel } from '../read-model/alerting-read-model.js';
import type { SupervisionSettings } from '../settings/supervision-settings.js';
import type { AutoHazardReconciler } from '../sources/auto-hazard-reconciler.js';
import type { SupervisionDatabase } from '../store/supervision-schema.js';
import { StoreLease } from './store-lease.js';

const MINUTE_MS = 60_000;

export interface SupervisionSchedulerOptions {
  db: Kysely<SupervisionDatabase>;
  ledger: HazardLedger;
  reconciler: AutoHazardReconciler;
  grader: InstitutionGrader;
  settings: SupervisionSettings;
  alerts: AlertingReadModel;
  notifier: SupervisionNotifier;
  logger: Logger;
  metrics?: Registry;
  clock?: () => number;
  /** This node's name in the lease; default host:pid:random. */
  holder?: string;
  /** Default 30 s: deadlines are checked this often, changed inputs regraded. */
  tickMs?: number;
  /** Default three ticks: a node that stops renewing loses the county after this. */
  leaseTtlMs?: number;
}

/** What one tick did for one county (tests and logs). */
export interface TickReport {
  county: string;
  held: boolean;
  escalated: number;
  reminded: number;
  scanned: boolean;
  graded: number;
  /** The next escalation or reminder due in this county, if any. */
  nextDueAt?: number;
}

interface CountyState {
  lastScanAt: number;
  lastFullGradeAt: number;
  lastInputCheckAt: number;
}

/**
 * The supervision work that runs on a schedule, once per county however many dashboard nodes run
 * it: a lease per county in the store (`supervision-scheduler:<county>`) decides which node works.
 * Each tick the holder escalates overdue hazards to the county duty officer and reminds owners of
 * near deadlines (at the deadline, not a scan later), scans the automatic sources every few
 * minutes, regrades institutions whose inputs changed and every institution on the policy's period.
 */
export class SupervisionScheduler {
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #holder: string;
  readonly #tickMs: number;
  readonly #ttlMs: number;
  readonly #counties = new Map<string, CountyState>();
  readonly #leases = new Map<string, StoreLease>();
  readonly #dirty = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #nudgeTimer: NodeJS.Timeout | undefined;
  /** Ticks run one after another, never two at once. */
  #chain: Promise<void> = Promise.resolve();
  #started = false;
  #metrics:
    | { escalations: Counter; reminders: Counter; opened: Counter; grading: Histogram; failures: Counter<'step'> }
    | undefined;

  constructor(private readonly o: SupervisionSchedulerOptions) {
    this.#log = o.logger.child({ module: 'supervision-scheduler' });
    this.#clock = o.clock ?? Date.now;
    this.#holder = o.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.#tickMs = o.tickMs ?? 30_000;
    this.#ttlMs = o.leaseTtlMs ?? 3 * this.#tickMs;
  }

  get holder(): string {
    return this.#holder;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.o.metrics && !this.#metrics) this.#metrics = createMetrics(this.o.metrics);
    this.#schedule(0);
    this.#log.info({ holder: this.#holder, tickMs: this.#tickMs }, 'supervision scheduler started');
  }

  /** Stops the timers, waits for a tick in flight, and gives up the leases so another node takes over at once. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    clearTimeout(this.#timer);
    clearTimeout(this.#nudgeTimer);
    this.#timer = undefined;
    this.#nudgeTimer = undefined;
    await this.#chain;
    for (const lease of this.#leases.values()) {
      await lease.release().catch((err: unknown) => this.#log.warn({ err }, 'could not release the lease'));
    }
    this.#leases.clear();
    this.#counties.clear();
    this.#log.info('supervision scheduler stopped');
  }

  /** An input of these institutions changed in this process: regrade them within a second. */
  nudge(institutions: readonly string[] = []): void {
    for (const i of institutions) this.#dirty.add(i);
    if (!this.#started || this.#nudgeTimer) return;
    this.#nudgeTimer = setTimeout(() => {
      this.#nudgeTimer = undefined;
      void this.#run();
    }, 1000);
  }

  /** One round for every county (public for tests and for a first run at start-up). */
  async tick(now = this.#clock()): Promise<TickReport[]> {
    const counties = await this.o.db.selectFrom('counties').select('id').orderBy('id').execute();
    const reports: TickReport[] = [];
    for (const { id } of counties) reports.push(await this.#countyTick(id, now));
    return reports;
  }

  #schedule(delayMs: number): void {
    if (!this.#started) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, delayMs);
  }

  /**
   * Runs a tick (after the one in flight, if any), then sleeps until the next tick — or until the
   * next deadline or reminder falls due if that is sooner, so escalation happens at the deadline.
   */
  #run(): Promise<void> {
    this.#chain = this.#chain.then(async () => {
      if (!this.#started) return;
      let delay = this.#tickMs;
      try {
        const reports = await this.tick();
        const due = Math.min(...reports.map((r) => r.nextDueAt ?? Number.POSITIVE_INFINITY));
        // At least a second apart, so a due item that cannot be claimed does not spin.
        delay = Math.max(1000, Math.min(this.#tickMs, due - this.#clock()));
      } catch (err) {
        this.#log.error({ err }, 'supervision tick failed');
      }
      this.#schedule(delay);
    });
    return this.#chain;
  }

  async #countyTick(county: string, now: number): Promise<TickReport> {
    const report: TickReport = { county, held: false, escalated: 0, reminded: 0, scanned: false, graded: 0 };
    let lease = this.#leases.get(county);
    if (!lease) {
      lease = new StoreLease(this.o.db, `supervision-scheduler:${county}`, this.#holder, this.#ttlMs);
      this.#leases.set(county, lease);
    }
    if (!(await lease.acquire(now))) {
      // Another node works this county; start afresh if the lease comes back here.
      this.#counties.delete(county);
      return report;
    }
    report.held = true;
    let state = this.#counties.get(county);
    if (!state) {
      state = {
        lastScanAt: Number.NEGATIVE_INFINITY,
        lastFullGradeAt: Number.NEGATIVE_INFINITY,
        lastInputCheckAt: now,
      };
      this.#counties.set(county, state);
    }
    const ledgerPolicy = await this.o.settings.get(county, 'ledger');
    await this.#step('escalations', async () => {
      const claimed = await this.o.ledger.claimEscalations(escalateEveryMs(ledgerPolicy), now);
      for (const h of claimed) await this.#notify('overdue', h, now);
      report.escalated = claimed.length;
      this.#metrics?.escalations.inc(claimed.length);
    });
    await this.#step('reminders', async () => {
      const claimed = await this.o.ledger.claimReminders(remindBeforeMs(ledgerPolicy), now);
      for (const h of claimed) await this.#notify('due-soon', h, now);
      report.reminded = claimed.length;
      this.#metrics?.reminders.inc(claimed.length);
    });
    const sources = await this.o.settings.get(county, 'sources');
    if (now - state.lastScanAt >= sources.scanEveryMinutes * MINUTE_MS) {
      await this.#step('sources', async () => {
        const r = await this.o.reconciler.reconcile(county, now);
        this.#metrics?.opened.inc(r.opened);
        report.scanned = true;
      });
      state.lastScanAt = now;
    }
    const grading = await this.o.settings.get(county, 'grading');
    await this.#step('grades', async () => {
      const t0 = performance.now();
      if (now - state.lastFullGradeAt >= grading.recomputeEveryMinutes * MINUTE_MS) {
        report.graded = (
          await this.o.grader.recompute(county, { at: now, reason: 'schedule', policy: grading })
        ).length;
        state.lastFullGradeAt = now;
        state.lastInputCheckAt = now;
        this.#dirty.clear();
      } else {
        const since = state.lastInputCheckAt;
        state.lastInputCheckAt = now;
        const changed = await this.#changedSince(county, since);
        if (changed.length > 0) {
          report.graded = (
            await this.o.grader.recompute(county, { at: now, institutions: changed, reason: 'inputs', policy: grading })
          ).length;
        }
      }
      if (report.graded > 0) this.#metrics?.grading.observe((performance.now() - t0) / 1000);
    });
    await this.#step('next due', async () => {
      report.nextDueAt = await this.#nextDue(county, now, remindBeforeMs(ledgerPolicy));
    });
    return report;
  }

  /** The earliest escalation or reminder still to come in the county. */
  async #nextDue(county: string, now: number, remindBefore: number): Promise<number | undefined> {
    const row = await this.o.db
      .selectFrom('hazards')
      .select((eb) => [
        eb.fn.min('next_escalation_at').as('escalation'),
        eb.fn
          .min(eb.case().when('reminded_at', 'is', null).then(eb.ref('deadline_at')).else(null).end())
          .as('deadline'),
      ])
      .where('county_id', '=', county)
      .where('status', 'in', [...WORK_PENDING])
      .executeTakeFirst();
    const candidates = [
      row?.escalation === null || row?.escalation === undefined ? undefined : Number(row.escalation),
      row?.deadline === null || row?.deadline === undefined ? undefined : Number(row.deadline) - remindBefore,
    ].filter((x): x is number => x !== undefined && x > now);
    return candidates.length > 0 ? Math.min(...candidates) : undefined;
  }

  /** Institutions whose grade inputs changed since `since`, and those never graded. */
  async #changedSince(county: string, since: number): Promise<string[]> {
    const db = this.o.db;
    const out = new Set<string>(this.#dirty);
    this.#dirty.clear();
    const queries = await Promise.all([
      db
        .selectFrom('hazards')
        .select('institution_id')
        .distinct()
        .where('county_id', '=', county)
        .where('updated_at', '>', since)
        .execute(),
      db
        .selectFrom('county_inputs')
        .select('institution_id')
        .distinct()
        .where('county_id', '=', county)
        .where('recorded_at', '>', since)
        .execute(),
      db
        .selectFrom('inspections')
        .select('institution_id')
        .distinct()
        .where('county_id', '=', county)
        .where('updated_at', '>', since)
        .execute(),
    ]);
    for (const rows of queries) for (const r of rows) out.add(r.institution_id);
    for (const i of (await this.o.alerts.institutionsChangedSince(since, county)) ?? []) out.add(i);
    for (const i of await this.o.grader.ungraded(county)) out.add(i);
    return [...out];
  }

  async #notify(kind: 'overdue' | 'due-soon', hazard: Hazard, now: number): Promise<void> {
    const inst = await this.o.db
      .selectFrom('institutions')
      .select('name')
      .where('id', '=', hazard.institution)
      .executeTakeFirst();
    const notice = {
      kind,
      hazard,
      institutionName: inst?.name ?? hazard.institution,
      round: kind === 'overdue' ? hazard.escalationCount : 0,
      at: now,
    };
    try {
      if (kind === 'overdue') await this.o.notifier.notifyCountyDutyOfficer(notice);
      else await this.o.notifier.remindOwner(notice);
    } catch (err) {
      // The escalation is in the ledger either way; a channel failure is the channels' to retry.
      this.#log.error({ err, hazard: hazard.id, kind }, 'hazard notification failed');
    }
  }

  async #step(step: string, run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (err) {
      this.#metrics?.failures.inc({ step });
      this.#log.error({ err, step }, 'supervision step failed; the next tick tries again');
    }
  }
}

function createMetrics(registry: Registry) {
  return {
    escalations: new Counter({
      name: 'anlian_supervision_escalations_total',
      help: 'Overdue hazards sent to the county duty officer',
      registers: [registry],
    }),
    reminders: new Counter({
      name: 'anlian_supervision_reminders_total',
      help: 'Deadline reminders sent to hazard owners',
      registers: [registry],
    }),
    opened: new Counter({
      name: 'anlian_supervision_auto_hazards_opened_total',
      help: 'Hazards opened by the automatic sources',
      registers: [registry],
    }),
    grading: new Histogram({
      name: 'anlian_supervision_grading_seconds',
      help: 'Time to regrade institutions of a county',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    failures: new Counter({
      name: 'anlian_supervision_step_failures_total',
      help: 'Scheduler steps that failed (retried next tick)',
      labelNames: ['step'],
      registers: [registry],
    }),
  };
}
