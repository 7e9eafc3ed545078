import { type Kysely, type SelectQueryBuilder, sql } from 'kysely';
import { ReportError, ReportErrorCode } from '../errors.js';
import type { ReportDrillsTable, ReportReadDatabase } from './report-tables.js';

export interface ScopeFilter {
  county: string;
  /** Only this institution (an institution's report). */
  institution?: string | undefined;
  /** A simulation run's records; undefined: live records (`sim_run` null). */
  simRun?: string | undefined;
}

export interface CountyRow {
  id: string;
  name: string;
  timezone: string;
  createdAt: number;
}

export interface InstitutionRow {
  id: string;
  name: string;
}

export interface DeviceRow {
  institution: string;
  gateway: string;
  id: string;
  kind: string;
  name: string;
  createdAt: number;
}

export interface AlertRow {
  id: string;
  rule: string;
  severity: string;
  status: string;
  verdict: string | null;
  drillId: string | null;
  institution: string;
  gateway: string;
  device: string | null;
  deviceKind: string | null;
  openedAt: number;
  clearedAt: number | null;
  acknowledgedAt: number | null;
  verifiedAt: number | null;
  closedAt: number | null;
  escalationLevel: number;
}

/** Deliveries counted by channel and the status of their last record. */
export interface DeliveryOutcomeRow {
  channelType: string;
  /** The status of each delivery's last record. */
  status: string;
  deliveries: number;
  /** Their records of an attempt (> 0) that were not skipped. */
  attempts: number;
}

export interface DrillRow {
  id: string;
  name: string;
  institutions: string[];
  startsAt: number;
  endsAt: number;
}

export interface SimRunRow {
  id: string;
  county: string;
  kind: string;
  seed: number;
  startsAt: number;
  endsAt: number;
  description: string;
  completedAt: number | null;
}

const ALERT_COLUMNS = [
  'id',
  'rule',
  'severity',
  'status',
  'verdict',
  'drill_id',
  'institution_id',
  'gateway_id',
  'device_id',
  'device_kind',
  'opened_at',
  'cleared_at',
  'acknowledged_at',
  'verified_at',
  'closed_at',
  'escalation_level',
] as const;

/**
 * The reports' read model over the operational store: the registry and alerting's tables,
 * read with plain SQL through kysely (SQLite and PostgreSQL alike).
 */
export class StoreReader {
  constructor(private readonly db: Kysely<ReportReadDatabase>) {}

  async county(id: string): Promise<CountyRow> {
    const row = await this.db
      .selectFrom('counties')
      .select(['id', 'name', 'timezone', 'created_at as createdAt'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) throw new ReportError(ReportErrorCode.NOT_FOUND, `no county ${id}`);
    return { ...row, createdAt: Number(row.createdAt) };
  }

  /** The first county of the store (a county's store holds one). */
  async onlyCounty(): Promise<CountyRow | undefined> {
    const row = await this.db
      .selectFrom('counties')
      .select(['id', 'name', 'timezone', 'created_at as createdAt'])
      .orderBy('id')
      .executeTakeFirst();
    return row ? { ...row, createdAt: Number(row.createdAt) } : undefined;
  }

  async institutions(f: ScopeFilter): Promise<InstitutionRow[]> {
    let q = this.db.selectFrom('institutions').select(['id', 'name']).where('county_id', '=', f.county);
    if (f.institution !== undefined) q = q.where('id', '=', f.institution);
    return q.orderBy('id').execute();
  }

  async devices(f: ScopeFilter): Promise<DeviceRow[]> {
    let q = this.db
      .selectFrom('devices')
      .innerJoin('institutions', 'institutions.id', 'devices.institution_id')
      .select([
        'devices.institution_id as institution',
        'devices.gateway_id as gateway',
        'devices.id as id',
        'devices.kind as kind',
        'devices.name as name',
        'devices.created_at as createdAt',
      ])
      .where('institutions.county_id', '=', f.county)
      .where('devices.confirmed', '=', 1);
    if (f.institution !== undefined) q = q.where('devices.institution_id', '=', f.institution);
    return q.orderBy('devices.institution_id').orderBy('devices.gateway_id').orderBy('devices.id').execute();
  }

  async gateways(f: ScopeFilter): Promise<{ id: string; institution: string; createdAt: number }[]> {
    let q = this.db
      .selectFrom('gateways')
      .innerJoin('institutions', 'institutions.id', 'gateways.institution_id')
      .select(['gateways.id as id', 'gateways.institution_id as institution', 'gateways.created_at as createdAt'])
      .where('institutions.county_id', '=', f.county);
    if (f.institution !== undefined) q = q.where('gateways.institution_id', '=', f.institution);
    return q.orderBy('gateways.id').execute();
  }

  async simRun(id: string): Promise<SimRunRow | undefined> {
    const r = await this.db.selectFrom('sim_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? simRunRow(r) : undefined;
  }

  async simRuns(county: string): Promise<SimRunRow[]> {
    const rows = await this.db
      .selectFrom('sim_runs')
      .selectAll()
      .where('county_id', '=', county)
      .where('completed_at', 'is not', null)
      .orderBy('starts_at', 'desc')
      .execute();
    return rows.map(simRunRow);
  }

  #alerts(f: ScopeFilter) {
    let q = this.db.selectFrom('alerts').select(ALERT_COLUMNS).where('county_id', '=', f.county);
    if (f.institution !== undefined) q = q.where('institution_id', '=', f.institution);
    return simFilter(q, f.simRun);
  }

  /** Every alert opened in `[from, to)` (drills included; the figures tell them apart). */
  async alertsOpenedIn(f: ScopeFilter, fromMs: number, toMs: number): Promise<AlertRow[]> {
    const rows = await this.#alerts(f).where('opened_at', '>=', fromMs).where('opened_at', '<', toMs).execute();
    return rows.map(alertRow);
  }

  /** Alerts of these rules whose condition overlapped `[from, to)`: open before `to`, not cleared before `from`. */
  async conditionsOverlapping(f: ScopeFilter, rules: readonly string[], fromMs: number, toMs: number) {
    if (rules.length === 0) return [];
    const rows = await this.#alerts(f)
      .where('rule', 'in', [...rules])
      .where('opened_at', '<', toMs)
      .where((eb) =>
        eb.or([
          eb('cleared_at', '>', fromMs),
          eb.and([eb('cleared_at', 'is', null), eb.or([eb('closed_at', 'is', null), eb('closed_at', '>', fromMs)])]),
        ]),
      )
      .execute();
    return rows.map(alertRow);
  }

  /** Alerts of these drills. */
  async drillAlerts(f: ScopeFilter, drillIds: readonly string[]): Promise<AlertRow[]> {
    if (drillIds.length === 0) return [];
    const rows = await this.#alerts(f)
      .where('drill_id', 'in', [...drillIds])
      .execute();
    return rows.map(alertRow);
  }

  /**
   * The deliveries of the scope's alerts with records in `[from, to)`, each taken by its last record
   * there — the latest, then the highest attempt, then sent before failed or given up before
   * retrying before skipped — counted per channel and that record's status, with their attempts.
   * Counted in the database: a county's month is ~20,000 records. (A delivery is one recipient on
   * one channel, alerting's deliveryId, so its records share their channel; records tied on all
   * three keys are failed and given up, which count alike.)
   */
  async deliveryOutcomes(f: ScopeFilter, fromMs: number, toMs: number): Promise<DeliveryOutcomeRow[]> {
    const run = f.simRun === undefined ? sql`a.sim_run IS NULL` : sql`a.sim_run = ${f.simRun}`;
    const inst = f.institution === undefined ? sql`` : sql`AND a.institution_id = ${f.institution}`;
    const { rows } = await sql<{ channel_type: string; status: string; deliveries: unknown; attempts: unknown }>`
      SELECT channel_type, status, COUNT(*) AS deliveries, SUM(attempts) AS attempts
      FROM (
        SELECT d.channel_type, d.status,
          ROW_NUMBER() OVER (
            PARTITION BY d.delivery_id
            ORDER BY d.at DESC, d.attempt DESC,
              CASE d.status WHEN 'sent' THEN 3 WHEN 'failed' THEN 2 WHEN 'gave_up' THEN 2 WHEN 'retrying' THEN 1 ELSE 0 END DESC
          ) AS nth_last,
          SUM(CASE WHEN d.attempt > 0 AND d.status <> 'skipped' THEN 1 ELSE 0 END) OVER (PARTITION BY d.delivery_id) AS attempts
        FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id
        WHERE a.county_id = ${f.county} AND d.at >= ${fromMs} AND d.at < ${toMs} AND ${run} ${inst}
      ) last_records
      WHERE nth_last = 1
      GROUP BY channel_type, status`.execute(this.db);
    return rows.map((r) => ({
      channelType: r.channel_type,
      status: r.status,
      // PostgreSQL answers COUNT and SUM as strings (bigint, numeric).
      deliveries: Number(r.deliveries),
      attempts: Number(r.attempts),
    }));
  }

  /** Drills that started in `[from, to)` and involve an institution of the scope. */
  async drills(f: ScopeFilter, institutions: ReadonlySet<string>, fromMs: number, toMs: number): Promise<DrillRow[]> {
    let q = this.db
      .selectFrom('drills')
      .select(['id', 'name', 'institutions_json', 'starts_at', 'ends_at', 'ended_at'])
      .where('starts_at', '>=', fromMs)
      .where('starts_at', '<', toMs);
    q = f.simRun === undefined ? q.where('sim_run', 'is', null) : q.where('sim_run', '=', f.simRun);
    const rows = await q.orderBy('starts_at').execute();
    return rows.flatMap((r) => {
      const inScope = parseInstitutions(r).filter((i) => institutions.has(i));
      return inScope.length === 0
        ? []
        : [{ id: r.id, name: r.name, institutions: inScope, startsAt: r.starts_at, endsAt: r.ended_at ?? r.ends_at }];
    });
  }

  /** Whether the store has these tables (the supervision workspace's, once it has landed). */
  async hasTables(names: readonly string[]): Promise<boolean> {
    const tables = new Set((await this.db.introspection.getTables()).map((t) => t.name));
    return names.every((n) => tables.has(n));
  }
}

function simFilter<QB extends SelectQueryBuilder<ReportReadDatabase, 'alerts', object>>(
  q: QB,
  simRun: string | undefined,
): QB {
  return (simRun === undefined ? q.where('sim_run', 'is', null) : q.where('sim_run', '=', simRun)) as QB;
}

function parseInstitutions(r: Pick<ReportDrillsTable, 'institutions_json' | 'id'>): string[] {
  try {
    const v: unknown = JSON.parse(r.institutions_json);
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch (err) {
    throw new ReportError(ReportErrorCode.BAD_REQUEST, `drill ${r.id}: unreadable institutions`, { cause: err });
  }
}

function alertRow(r: {
  id: string;
  rule: string;
  severity: string;
  status: string;
  verdict: string | null;
  drill_id: string | null;
  institution_id: string;
  gateway_id: string;
  device_id: string | null;
  device_kind: string | null;
  opened_at: number;
  cleared_at: number | null;
  acknowledged_at: number | null;
  verified_at: number | null;
  closed_at: number | null;
  escalation_level: number;
}): AlertRow {
  return {
    id: r.id,
    rule: r.rule,
    severity: r.severity,
    status: r.status,
    verdict: r.verdict,
    drillId: r.drill_id,
    institution: r.institution_id,
    gateway: r.gateway_id,
    device: r.device_id,
    deviceKind: r.device_kind,
    openedAt: Number(r.opened_at),
    clearedAt: r.cleared_at === null ? null : Number(r.cleared_at),
    acknowledgedAt: r.acknowledged_at === null ? null : Number(r.acknowledged_at),
    verifiedAt: r.verified_at === null ? null : Number(r.verified_at),
    closedAt: r.closed_at === null ? null : Number(r.closed_at),
    escalationLevel: Number(r.escalation_level),
  };
}

function simRunRow(r: {
  id: string;
  county_id: string;
  kind: string;
  seed: number;
  starts_at: number;
  ends_at: number;
  description: string;
  completed_at: number | null;
}): SimRunRow {
  return {
    id: r.id,
    county: r.county_id,
    kind: r.kind,
    seed: Number(r.seed),
    startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at),
    description: r.description,
    completedAt: r.completed_at === null ? null : Number(r.completed_at),
  };
}
