import type { Kysely } from 'kysely';
import { chinaDateTime } from '../china-time.js';
import type { AlertingReadModel } from '../read-model/alerting-read-model.js';
import type { DutyCheckReadModel } from '../read-model/duty-check-read-model.js';
import type { SupervisionDatabase } from '../store/supervision-schema.js';
import type {
  AlertOpenSource,
  DrillMissedSource,
  DutyCheckSource,
  FalseAlarmSource,
  SourceConfig,
} from './source-config.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** A cause an automatic source sees now: one hazard per cause while it is not closed. */
export interface CauseObservation {
  /** Unique across sources: `<source id>:<what>`, e.g. `camera-down:camera-offline:gw-1/cam-3`. */
  cause: string;
  county: string;
  institution: string;
  description: string;
  evidence: Record<string, unknown>;
  location: string | null;
  /** When the cause began, as far as the data says. */
  since: number;
}

/** One automatic source: what it sees now. */
export interface AutomaticSource {
  readonly config: SourceConfig;
  /**
   * The causes active at `now` in `county`. `undefined` when the data the source reads is not on
   * this store: the reconciler then leaves this source's hazards as they are (clearing them all
   * because a table is missing would close real hazards).
   */
  scan(now: number, county: string): Promise<CauseObservation[] | undefined>;
}

export interface SourceDeps {
  db: Kysely<SupervisionDatabase>;
  alerts: AlertingReadModel;
  dutyChecks: DutyCheckReadModel;
}

/**
 * The source of each configured kind. A new kind of source is a schema in `source-config.ts`,
 * a class here and a line in this switch (the duty-check source shows the shape).
 */
export function createSource(config: SourceConfig, deps: SourceDeps): AutomaticSource {
  switch (config.kind) {
    case 'alert-open':
      return new AlertOpenHazardSource(config, deps.alerts);
    case 'false-alarms':
      return new FalseAlarmHazardSource(config, deps.alerts);
    case 'drill-missed':
      return new DrillMissedHazardSource(config, deps);
    case 'duty-check-missed':
      return new DutyCheckHazardSource(config, deps.dutyChecks);
    default: {
      const unknown: never = config;
      throw new Error(`unknown source kind ${JSON.stringify(unknown)}`);
    }
  }
}

function hoursText(ms: number): string {
  const h = Math.floor(ms / HOUR_MS);
  return h >= 48 ? `${Math.floor(h / 24)} 天` : `${h} 小时`;
}

/** An alert alerting keeps open longer than the source allows (gauge out of range, camera dark, …). */
export class AlertOpenHazardSource implements AutomaticSource {
  constructor(
    readonly config: AlertOpenSource,
    private readonly alerts: AlertingReadModel,
  ) {}

  async scan(now: number, county: string): Promise<CauseObservation[] | undefined> {
    const open = await this.alerts.openAlerts(this.config.match, now - this.config.minOpenHours * HOUR_MS, county);
    if (open === undefined) return undefined;
    return open.map((a) => ({
      cause: `${this.config.id}:${a.key}`,
      county: a.county,
      institution: a.institution,
      description: `${a.nameZh}${a.deviceName ? `（${a.deviceName}）` : ''}：${a.reason}；自 ${chinaDateTime(a.openedAt)} 起已持续 ${hoursText(now - a.openedAt)}，超过 ${this.config.minOpenHours} 小时未恢复。`,
      evidence: {
        alert: a.id,
        rule: a.rule,
        gateway: a.gateway,
        ...(a.device !== null ? { device: a.device } : {}),
        ...(a.value !== null ? { value: a.value } : {}),
        reason: a.reason,
        openedAt: a.openedAt,
      },
      location: a.location,
      since: a.openedAt,
    }));
  }
}

/** GB 50440: more than N false fire alarms at one institution within the window. */
export class FalseAlarmHazardSource implements AutomaticSource {
  constructor(
    readonly config: FalseAlarmSource,
    private readonly alerts: AlertingReadModel,
  ) {}

  async scan(now: number, county: string): Promise<CauseObservation[] | undefined> {
    const counts = await this.alerts.fireAlarmCounts(now - this.config.windowHours * HOUR_MS, now, {
      county,
      rules: this.config.rules,
    });
    if (counts === undefined) return undefined;
    const out: CauseObservation[] = [];
    for (const [institution, c] of counts) {
      if (c.falseAlarms <= this.config.maxPerWindow) continue;
      out.push({
        cause: `${this.config.id}:${institution}`,
        county,
        institution,
        description: `近 ${this.config.windowHours} 小时内火灾报警 ${c.total} 次，其中核实为误报 ${c.falseAlarms} 次，超过 ${this.config.maxPerWindow} 次（GB 50440：误报频繁须跟踪处理），请排查探测器选型、安装位置、污染老化及维护保养情况。`,
        evidence: {
          falseAlarms: c.falseAlarms,
          fireAlarms: c.total,
          windowHours: this.config.windowHours,
          limit: this.config.maxPerWindow,
        },
        location: null,
        since: now,
      });
    }
    return out;
  }
}

/** Seed 001: every institution holds at least one drill a year. */
export class DrillMissedHazardSource implements AutomaticSource {
  constructor(
    readonly config: DrillMissedSource,
    private readonly deps: Pick<SourceDeps, 'db' | 'alerts'>,
  ) {}

  async scan(now: number, county: string): Promise<CauseObservation[] | undefined> {
    const last = await this.deps.alerts.lastDrills(now);
    if (last === undefined) return undefined;
    const within = this.config.withinDays * DAY_MS;
    const institutions = await this.deps.db
      .selectFrom('institutions')
      .select(['id', 'created_at'])
      .where('county_id', '=', county)
      .execute();
    const out: CauseObservation[] = [];
    for (const i of institutions) {
      const lastDrill = last.get(i.id);
      // The year runs from the last drill, or from registration for an institution that never had one.
      const dueAt = (lastDrill ?? i.created_at) + within;
      if (dueAt > now) continue;
      out.push({
        cause: `${this.config.id}:${i.id}`,
        county,
        institution: i.id,
        description:
          lastDrill === undefined
            ? `登记 ${this.config.withinDays} 天以来平台无应急演练记录（每年至少开展 1 次应急演练）。`
            : `上次应急演练在 ${chinaDateTime(lastDrill)}，已超过 ${this.config.withinDays} 天（每年至少开展 1 次应急演练）。`,
        evidence: { lastDrillAt: lastDrill ?? null, withinDays: this.config.withinDays },
        location: null,
        since: dueAt,
      });
    }
    return out;
  }
}

/** GB 25506: the fire control room answers the centre's duty checks (查岗). */
export class DutyCheckHazardSource implements AutomaticSource {
  constructor(
    readonly config: DutyCheckSource,
    private readonly dutyChecks: DutyCheckReadModel,
  ) {}

  async scan(now: number, county: string): Promise<CauseObservation[] | undefined> {
    const counts = await this.dutyChecks.unansweredCounts(now - this.config.windowHours * HOUR_MS, now, county);
    if (counts === undefined) return undefined;
    const out: CauseObservation[] = [];
    for (const [institution, n] of counts) {
      if (n <= this.config.maxUnanswered) continue;
      out.push({
        cause: `${this.config.id}:${institution}`,
        county,
        institution,
        description: `近 ${this.config.windowHours} 小时内消防控制室 ${n} 次查岗未应答（消防控制室应24小时有人值班）。`,
        evidence: { unanswered: n, windowHours: this.config.windowHours },
        location: null,
        since: now,
      });
    }
    return out;
  }
}
