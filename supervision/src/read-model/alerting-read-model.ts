import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import type { AlertMatch } from '../sources/source-config.js';

/**
 * The columns of alerting's tables this read model uses, as alerting's migration
 * `2026-11-23-201-alerting` created them. Declared here rather than imported: supervision reads
 * alerting's data through SQL over the shared store, never through alerting's internals.
 */
interface AlertsView {
  id: string;
  key: string;
  rule: string;
  name_zh: string;
  status: string;
  verdict: string | null;
  drill_id: string | null;
  county_id: string;
  institution_id: string;
  gateway_id: string;
  device_id: string | null;
  device_kind: string | null;
  value: number | null;
  reason: string;
  opened_at: number;
  cleared_at: number | null;
  closed_at: number | null;
  updated_at: number;
}
interface DrillsView {
  id: string;
  institutions_json: string;
  starts_at: number;
  ends_at: number;
  ended_at: number | null;
}
interface DevicesView {
  gateway_id: string;
  id: string;
  institution_id: string;
  kind: string;
  name: string;
  building: string;
  floor: string;
  room: string;
}
interface ReadTables {
  alerts: AlertsView;
  drills: DrillsView;
  devices: DevicesView;
}

/** An alert alerting holds open, as the automatic sources see it. */
export interface OpenAlertRecord {
  id: string;
  key: string;
  rule: string;
  nameZh: string;
  county: string;
  institution: string;
  gateway: string;
  device: string | null;
  deviceKind: string | null;
  value: number | null;
  reason: string;
  openedAt: number;
  /** The device's name and place (`主楼 2F 201`), when it is in the registry. */
  deviceName: string | null;
  location: string | null;
}

/** Fire alarms of one institution in a window (drills left out). */
export interface FireAlarmCounts {
  /** Every fire alarm. */
  total: number;
  /** Verified as a false alarm. */
  falseAlarms: number;
  /** Verified as a real fire, or not verified (yet): an alarm nobody showed to be false. */
  realOrUnverified: number;
}

const FIRE_RULES = ['fire-alarm'];
/** Absence rules: a device (or, for gateways, every device behind it) does not report. */
const DEVICE_OFFLINE_RULES = ['device-offline', 'camera-offline'];
const GATEWAY_OFFLINE_RULE = 'gateway-offline';

/**
 * Reads alerting's tables (`alerts`, `drills`) and the registry's devices with plain SQL. When
 * alerting has not created its tables on this store (a dashboard beside an ingest without
 * alerting), every read says so by returning `undefined`, and callers note the gap.
 */
export class AlertingReadModel {
  readonly #db: Kysely<ReadTables>;
  readonly #log: Logger;
  #available: boolean | undefined;
  #checkedAt: number | undefined;

  private constructor(db: Kysely<ReadTables>, logger: Logger) {
    this.#db = db;
    this.#log = logger.child({ module: 'alerting-read-model' });
  }

  /** Over any kysely instance of the operational store (its declared tables do not matter here). */
  static over<DB>(db: Kysely<DB>, logger: Logger): AlertingReadModel {
    return new AlertingReadModel(db as unknown as Kysely<ReadTables>, logger);
  }

  /**
   * Whether alerting's tables exist: once they do, for good; while they do not, asked again at
   * most once a minute (alerting may migrate after us; introspection is not free).
   */
  async available(): Promise<boolean> {
    if (this.#available) return true;
    if (this.#checkedAt !== undefined && performance.now() - this.#checkedAt < 60_000) return false;
    const tables = await this.#db.introspection.getTables();
    const names = new Set(tables.map((t) => t.name));
    this.#available = names.has('alerts') && names.has('drills');
    this.#checkedAt = performance.now();
    if (!this.#available) this.#log.debug('alerting tables absent: alert-based sources and factors are skipped');
    return this.#available;
  }

  /** Alerts of `match` not closed, not cleared, not drills, opened at or before `openedBefore`. */
  async openAlerts(
    match: readonly AlertMatch[],
    openedBefore: number,
    county?: string,
  ): Promise<OpenAlertRecord[] | undefined> {
    if (!(await this.available())) return undefined;
    if (match.length === 0) return [];
    const rules = [...new Set(match.map((m) => m.rule))];
    const rows = await this.#db
      .selectFrom('alerts as a')
      .leftJoin('devices as d', (j) => j.onRef('d.gateway_id', '=', 'a.gateway_id').onRef('d.id', '=', 'a.device_id'))
      .select([
        'a.id',
        'a.key',
        'a.rule',
        'a.name_zh',
        'a.county_id',
        'a.institution_id',
        'a.gateway_id',
        'a.device_id',
        'a.device_kind',
        'a.value',
        'a.reason',
        'a.opened_at',
        'd.name as device_name',
        'd.building',
        'd.floor',
        'd.room',
      ])
      .where('a.status', '!=', 'closed')
      .where('a.cleared_at', 'is', null)
      .where('a.drill_id', 'is', null)
      .where('a.rule', 'in', rules)
      .where('a.opened_at', '<=', openedBefore)
      .$if(county !== undefined, (q) => q.where('a.county_id', '=', county ?? ''))
      .execute();
    return rows
      .filter((r) =>
        match.some((m) => m.rule === r.rule && (m.deviceKind === undefined || m.deviceKind === r.device_kind)),
      )
      .map((r) => ({
        id: r.id,
        key: r.key,
        rule: r.rule,
        nameZh: r.name_zh,
        county: r.county_id,
        institution: r.institution_id,
        gateway: r.gateway_id,
        device: r.device_id,
        deviceKind: r.device_kind,
        value: r.value,
        reason: r.reason,
        openedAt: r.opened_at,
        deviceName: r.device_name ?? null,
        location:
          r.building === null || r.building === undefined
            ? null
            : [r.building, r.floor, r.room].filter((x) => x !== null && x !== undefined && x !== '').join(' '),
      }));
  }

  /** Fire alarms per institution opened in [from, to), drills left out. */
  async fireAlarmCounts(
    from: number,
    to: number,
    opts: { county?: string; institution?: string; rules?: readonly string[] } = {},
  ): Promise<Map<string, FireAlarmCounts> | undefined> {
    if (!(await this.available())) return undefined;
    const rules = opts.rules ?? FIRE_RULES;
    const rows = await this.#db
      .selectFrom('alerts')
      .select((eb) => [
        'institution_id',
        eb.fn.countAll<number>().as('total'),
        eb.fn.sum<number>(sql`case when verdict = 'false_alarm' then 1 else 0 end`).as('false_alarms'),
        eb.fn.sum<number>(sql`case when verdict is null or verdict = 'real_fire' then 1 else 0 end`).as('real'),
      ])
      .where('rule', 'in', [...rules])
      .where('drill_id', 'is', null)
      .where('opened_at', '>=', from)
      .where('opened_at', '<', to)
      .$if(opts.county !== undefined, (q) => q.where('county_id', '=', opts.county ?? ''))
      .$if(opts.institution !== undefined, (q) => q.where('institution_id', '=', opts.institution ?? ''))
      .groupBy('institution_id')
      .execute();
    return new Map(
      rows.map((r) => [
        r.institution_id,
        { total: Number(r.total), falseAlarms: Number(r.false_alarms ?? 0), realOrUnverified: Number(r.real ?? 0) },
      ]),
    );
  }

  /**
   * The share of device-time offline per institution in [from, to): offline device alerts count
   * their device, an offline gateway every device behind it, for the part of the window they were
   * open. Overlaps of a gateway outage and its devices' own alerts count once per alert (alerting
   * inhibits device-offline while the gateway is offline, so they rarely overlap).
   */
  async offlineShares(
    from: number,
    to: number,
    opts: { county?: string; institution?: string } = {},
  ): Promise<Map<string, number> | undefined> {
    if (!(await this.available())) return undefined;
    const span = to - from;
    if (span <= 0) return new Map();
    const devices = await this.#db
      .selectFrom('devices')
      .select((eb) => ['gateway_id', 'institution_id', eb.fn.countAll<number>().as('n')])
      .$if(opts.institution !== undefined, (q) => q.where('institution_id', '=', opts.institution ?? ''))
      .groupBy(['gateway_id', 'institution_id'])
      .execute();
    const perInstitution = new Map<string, number>();
    const perGateway = new Map<string, number>();
    for (const d of devices) {
      perInstitution.set(d.institution_id, (perInstitution.get(d.institution_id) ?? 0) + Number(d.n));
      perGateway.set(d.gateway_id, Number(d.n));
    }
    const alerts = await this.#db
      .selectFrom('alerts')
      .select(['institution_id', 'gateway_id', 'rule', 'opened_at', 'cleared_at', 'closed_at'])
      .where('rule', 'in', [...DEVICE_OFFLINE_RULES, GATEWAY_OFFLINE_RULE])
      .where('drill_id', 'is', null)
      .where('opened_at', '<', to)
      .where((eb) => eb.or([eb('closed_at', 'is', null), eb('closed_at', '>', from)]))
      .$if(opts.county !== undefined, (q) => q.where('county_id', '=', opts.county ?? ''))
      .$if(opts.institution !== undefined, (q) => q.where('institution_id', '=', opts.institution ?? ''))
      .execute();
    const offlineMs = new Map<string, number>();
    for (const a of alerts) {
      const end = Math.min(to, a.cleared_at ?? a.closed_at ?? to);
      const overlap = end - Math.max(from, a.opened_at);
      if (overlap <= 0) continue;
      const weight = a.rule === GATEWAY_OFFLINE_RULE ? (perGateway.get(a.gateway_id) ?? 0) : 1;
      offlineMs.set(a.institution_id, (offlineMs.get(a.institution_id) ?? 0) + overlap * weight);
    }
    const shares = new Map<string, number>();
    for (const [institution, n] of perInstitution) {
      const ms = offlineMs.get(institution) ?? 0;
      shares.set(institution, n === 0 ? 0 : Math.min(1, ms / (n * span)));
    }
    return shares;
  }

  /** The last drill that started at or before `at`, per institution. */
  async lastDrills(at: number): Promise<Map<string, number> | undefined> {
    if (!(await this.available())) return undefined;
    const rows = await this.#db
      .selectFrom('drills')
      .select(['institutions_json', 'starts_at'])
      .where('starts_at', '<=', at)
      .execute();
    const last = new Map<string, number>();
    for (const r of rows) {
      let institutions: unknown;
      try {
        institutions = JSON.parse(r.institutions_json);
      } catch (err) {
        this.#log.warn({ err }, 'a drill with unreadable institutions is skipped');
        continue;
      }
      if (!Array.isArray(institutions)) continue;
      for (const i of institutions) {
        if (typeof i === 'string' && r.starts_at > (last.get(i) ?? Number.NEGATIVE_INFINITY)) last.set(i, r.starts_at);
      }
    }
    return last;
  }

  /** Latest change of any alert since `since`, per institution: an input of the grade changed. */
  async institutionsChangedSince(since: number, county?: string): Promise<string[] | undefined> {
    if (!(await this.available())) return undefined;
    const rows = await this.#db
      .selectFrom('alerts')
      .select('institution_id')
      .distinct()
      .where('updated_at', '>', since)
      .$if(county !== undefined, (q) => q.where('county_id', '=', county ?? ''))
      .execute();
    return rows.map((r) => r.institution_id);
  }
}
