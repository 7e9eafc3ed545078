import type { Kysely } from 'kysely';
import type { Logger } from 'pino';

/** Unanswered duty checks (查岗, GB/T 26875.3 type 91) per institution. */
export interface DutyCheckReadModel {
  /** Checks requested in [from, to) that went unanswered, per institution; `undefined` when not recorded on this store. */
  unansweredCounts(from: number, to: number, county?: string): Promise<Map<string, number> | undefined>;
}

/** For a store without duty checks (and tests): "no data". */
export const NO_DUTY_CHECKS: DutyCheckReadModel = Object.freeze({
  unansweredCounts: async () => undefined,
});

/** The columns of alerting's `duty_checks` (migration `2026-12-03-215-duty-checks`) read here. */
interface DutyChecksView {
  duty_checks: { county_id: string; institution_id: string; requested_at: number; status: string };
}

/**
 * Duty checks as alerting's `DutyCheckService` records them (issue 15): a check nobody answered,
 * or that could not reach the fire control room, is a missed one (GB 25506: the room is staffed
 * around the clock); pending and not-applicable ones (no fire panel) are not. Plain SQL over the
 * shared store, like the alerting read model; absent table → "no data", asked again a minute later.
 */
export class StoreDutyChecks implements DutyCheckReadModel {
  #available: boolean | undefined;
  #checkedAt: number | undefined;

  private constructor(
    private readonly db: Kysely<DutyChecksView>,
    private readonly log: Logger,
  ) {}

  static over<DB>(db: Kysely<DB>, logger: Logger): StoreDutyChecks {
    return new StoreDutyChecks(
      db as unknown as Kysely<DutyChecksView>,
      logger.child({ module: 'duty-check-read-model' }),
    );
  }

  async #isAvailable(): Promise<boolean> {
    if (this.#available) return true;
    if (this.#checkedAt !== undefined && performance.now() - this.#checkedAt < 60_000) return false;
    const tables = await this.db.introspection.getTables();
    this.#available = tables.some((t) => t.name === 'duty_checks');
    this.#checkedAt = performance.now();
    if (!this.#available) this.log.debug('duty_checks absent: the duty-check source and factor have no data');
    return this.#available;
  }

  async unansweredCounts(from: number, to: number, county?: string): Promise<Map<string, number> | undefined> {
    if (!(await this.#isAvailable())) return undefined;
    const rows = await this.db
      .selectFrom('duty_checks')
      .select((eb) => ['institution_id', eb.fn.countAll<number>().as('n')])
      .where('status', 'in', ['unanswered', 'unreachable'])
      .where('requested_at', '>=', from)
      .where('requested_at', '<', to)
      .$if(county !== undefined, (q) => q.where('county_id', '=', county ?? ''))
      .groupBy('institution_id')
      .execute();
    return new Map(rows.map((r) => [r.institution_id, Number(r.n)]));
  }
}
