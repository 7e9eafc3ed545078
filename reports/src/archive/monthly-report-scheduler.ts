import type { Logger } from 'pino';
import { previousMonth } from '../period.js';
import { LIVE_SOURCE } from '../read/report-source.js';
import type { ReportService } from '../report-service.js';
import { ZonedCalendar } from '../time/zoned-calendar.js';
import type { StoreLease } from './report-archive.js';

export interface MonthlyReportSchedulerOptions {
  service: ReportService;
  lease: StoreLease;
  /** This node's name in the lease (host and process). */
  holder: string;
  logger: Logger;
  clock?: () => number;
  /** How often to look whether last month's reports are due; default 10 min. */
  checkEveryMs?: number;
  /** Local time on the 1st after which they are due (late data from store-and-forward); default 1 h. */
  dueAfterMs?: number;
  /** Also one report per institution; default true. */
  perInstitution?: boolean;
  /** How long a lease holds without renewal; default 30 min (renewed after each report). */
  leaseMs?: number;
}

/**
 * On the 1st of each month (county time), last month's reports — the county's and each
 * institution's, live data — into the archive. Any number of nodes may run one: a store lease lets
 * one generate, the archive's unique schedule key makes a second copy impossible, and a node that
 * was down on the 1st catches up at its next check.
 */
export class MonthlyReportScheduler {
  readonly #o: MonthlyReportSchedulerOptions;
  readonly #clock: () => number;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopping = false;

  constructor(o: MonthlyReportSchedulerOptions) {
    this.#o = o;
    this.#clock = o.clock ?? Date.now;
    this.#log = o.logger.child({ module: 'report-schedule' });
  }

  start(): void {
    if (this.#timer) return;
    this.#stopping = false;
    this.#timer = setInterval(() => {
      void this.check();
    }, this.#o.checkEveryMs ?? 600_000);
    void this.check();
  }

  /** Stops the timer; a generation under way finishes the report it is on and stops there. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One check (what the timer runs); resolves when any generation it started is done. */
  check(): Promise<void> {
    this.#running ??= this.#check()
      .catch((err: unknown) => this.#log.error({ err }, 'monthly reports failed; next check retries'))
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async #check(): Promise<void> {
    const { service, lease, holder } = this.#o;
    const county = await service.county();
    const now = this.#clock();
    const cal = new ZonedCalendar(county.timezone);
    const today = cal.dateOf(now);
    const monthStart = cal.startOfDay(today.year, today.month, 1);
    if (now < monthStart + (this.#o.dueAfterMs ?? 3_600_000)) return;
    // A county registered after last month ended has nothing to report on for it.
    if (county.createdAt >= monthStart) return;
    const month = previousMonth(county.timezone, now);
    const scopes: (string | undefined)[] = [undefined];
    if (this.#o.perInstitution ?? true) {
      for (const i of await service.reader.institutions({ county: county.id })) scopes.push(i.id);
    }
    const keyOf = (scope: string | undefined) => `monthly:${county.id}:${scope ?? '*'}:${month}`;
    const due: (string | undefined)[] = [];
    for (const s of scopes) if (!(await service.archive.hasScheduled(keyOf(s)))) due.push(s);
    if (due.length === 0) return;
    const leaseName = `monthly-reports:${county.id}:${month}`;
    const ttl = this.#o.leaseMs ?? 30 * 60_000;
    if (!(await lease.acquire(leaseName, holder, ttl, this.#clock()))) {
      this.#log.debug({ month }, 'another node is generating the monthly reports');
      return;
    }
    try {
      this.#log.info({ month, reports: due.length }, 'generating the monthly reports');
      for (const scope of due) {
        if (this.#stopping) return;
        // Another node may have finished while this one waited for the lease.
        if (await service.archive.hasScheduled(keyOf(scope))) continue;
        await service.generate({
          county: county.id,
          institution: scope,
          period: { month },
          source: LIVE_SOURCE,
          by: 'schedule',
          scheduleKey: keyOf(scope),
        });
        if (!(await lease.acquire(leaseName, holder, ttl, this.#clock()))) {
          this.#log.warn({ month }, 'lost the monthly reports lease; another node goes on');
          return;
        }
      }
    } finally {
      await lease.release(leaseName, holder);
    }
  }
}
