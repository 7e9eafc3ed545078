import { ReportError, ReportErrorCode } from '../errors.js';
import { field, Select, simRunCondition, where } from '../influxql/influxql.js';

/** One series of an InfluxQL answer (ingest's `queryV1` shape). */
export interface InfluxSeries {
  name: string;
  tags: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Runs InfluxQL (several statements separated by `;`) and returns each statement's series. */
export type InfluxQuery = (q: string) => Promise<{ series: InfluxSeries[]; error?: string }[]>;

export interface InfluxScope {
  county: string;
  institution?: string | undefined;
  simRun?: string | undefined;
}

/** Retention policies the reports read (deploy/influxdb/README.md). */
export interface InfluxPolicies {
  /** Device events and gateway status changes (≥ 1 year). Default `events_1y`. */
  events?: string;
}

export interface StatusPoint {
  at: number;
  state: string;
}

export interface DeviceEventPoint {
  at: number;
  institution: string;
  gateway: string;
  device: string;
  event: string;
}

/**
 * The InfluxDB side of a report: only compact records — gateway status changes and device
 * events, never the raw telemetry — so that a county's month is a few thousand points, whatever
 * the number of devices (design: status history, not telemetry scans).
 */
export class InfluxReader {
  readonly #eventsRp: string;

  constructor(
    private readonly query: InfluxQuery,
    policies: InfluxPolicies = {},
  ) {
    this.#eventsRp = policies.events ?? 'events_1y';
  }

  #scope(s: InfluxScope) {
    const conds = [where.eq('county', s.county), simRunCondition(s.simRun)];
    if (s.institution !== undefined) conds.push(where.eq('institution', s.institution));
    return conds;
  }

  /** The InfluxQL of `gatewayStatus`, for the report's method notes and the tests. */
  gatewayStatusQueries(s: InfluxScope, fromMs: number, toMs: number): [string, string] {
    const base = Select.fields(field('state'))
      .from('gateway', this.#eventsRp)
      .where(...this.#scope(s), where.eq('type', 'status'));
    const before = Select.fields('last("state") AS "state"')
      .from('gateway', this.#eventsRp)
      .where(...this.#scope(s), where.eq('type', 'status'), where.before(fromMs))
      .groupBy('gateway');
    return [before.toString(), base.where(where.timeRange(fromMs, toMs)).groupBy('gateway').toString()];
  }

  /**
   * Each gateway's status changes in `[from, to)`, preceded by its last status before `from`
   * (stamped `from`), in time order.
   */
  async gatewayStatus(s: InfluxScope, fromMs: number, toMs: number): Promise<Map<string, StatusPoint[]>> {
    const [before, during] = this.gatewayStatusQueries(s, fromMs, toMs);
    const [r0, r1] = await this.#run(`${before}; ${during}`, 2);
    const out = new Map<string, StatusPoint[]>();
    for (const series of r0 ?? []) {
      const gw = series.tags.gateway ?? '';
      const state = series.values[0]?.[1];
      if (typeof state === 'string') out.set(gw, [{ at: fromMs, state }]);
    }
    for (const series of r1 ?? []) {
      const gw = series.tags.gateway ?? '';
      const list = out.get(gw) ?? [];
      for (const row of series.values) {
        if (typeof row[1] === 'string') list.push({ at: Number(row[0]), state: row[1] });
      }
      out.set(gw, list);
    }
    return out;
  }

  deviceEventsQuery(s: InfluxScope, kind: string, events: readonly string[], fromMs: number, toMs: number): string {
    return Select.fields(field('event'))
      .from(kind, this.#eventsRp)
      .where(...this.#scope(s), where.eq('type', 'event'), where.in('event', events), where.timeRange(fromMs, toMs))
      .groupBy('institution', 'gateway', 'device')
      .toString();
  }

  /** Device events of one kind in `[from, to)`, in time order per device. */
  async deviceEvents(
    s: InfluxScope,
    kind: string,
    events: readonly string[],
    fromMs: number,
    toMs: number,
  ): Promise<DeviceEventPoint[]> {
    const [r] = await this.#run(this.deviceEventsQuery(s, kind, events, fromMs, toMs), 1);
    const out: DeviceEventPoint[] = [];
    for (const series of r ?? []) {
      for (const row of series.values) {
        if (typeof row[1] !== 'string') continue;
        out.push({
          at: Number(row[0]),
          institution: series.tags.institution ?? '',
          gateway: series.tags.gateway ?? '',
          device: series.tags.device ?? '',
          event: row[1],
        });
      }
    }
    return out;
  }

  async #run(q: string, statements: number): Promise<InfluxSeries[][]> {
    let results: Awaited<ReturnType<InfluxQuery>>;
    try {
      results = await this.query(q);
    } catch (err) {
      throw new ReportError(ReportErrorCode.INFLUX, `InfluxDB query failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    const out: InfluxSeries[][] = [];
    for (let i = 0; i < statements; i++) {
      const r = results[i];
      if (r?.error !== undefined) throw new ReportError(ReportErrorCode.INFLUX, `InfluxDB: ${r.error}`);
      out.push(r?.series ?? []);
    }
    return out;
  }
}
