import type { Kysely } from 'kysely';
import { GRADES, type Grade } from '../grading/grading-policy.js';
import type { GradeRecord, InstitutionGrader } from '../grading/institution-grader.js';
import type { HazardSeverity, HazardSource } from '../hazards/hazard.js';
import type { SupervisionDatabase } from '../store/supervision-schema.js';

export interface SeverityFigures {
  found: number;
  closed: number;
  openAtEnd: number;
}

/** The ledger's figures for a period (seed 000: 监管效能评估 — figures per institution and county). */
export interface HazardFigures {
  county: string;
  institution: string | null;
  from: number;
  to: number;
  /** Found in [from, to). */
  found: number;
  /** Closed (销号) in [from, to), withdrawn ones not counted. */
  closed: number;
  /** Of those closed, closed by their deadline (or with none). */
  closedOnTime: number;
  /** Withdrawn in [from, to) (entered by mistake). */
  withdrawn: number;
  /** Not closed at `to`. */
  openAtEnd: number;
  /** Past the deadline with the work owed at `to`. */
  overdueAtEnd: number;
  /** Went overdue in [from, to) (first escalation to the county duty officer). */
  becameOverdue: number;
  bySeverity: Record<HazardSeverity, SeverityFigures>;
  /** Found in [from, to), by source and by category. */
  bySource: Record<HazardSource, number>;
  byCategory: Record<string, number>;
  /** Mean days from found to closed, of those closed in [from, to); null when none. */
  meanDaysToClose: number | null;
}

/**
 * The clean read API other parts read supervision through (issue 17's reports): figures of the
 * hazard ledger for a period and the grades at a time, computed from the store alone.
 */
export class SupervisionFigures {
  constructor(
    private readonly db: Kysely<SupervisionDatabase>,
    private readonly grader: InstitutionGrader,
  ) {}

  async hazardFigures(f: { county: string; institution?: string; from: number; to: number }): Promise<HazardFigures> {
    const { county, from, to } = f;
    const base = () =>
      this.db
        .selectFrom('hazards')
        .where('county_id', '=', county)
        .$if(f.institution !== undefined, (q) => q.where('institution_id', '=', f.institution ?? ''));
    const [found, closedRows, open, escalatedIds, withdrawnIds] = await Promise.all([
      base()
        .select(['severity', 'source', 'category'])
        .where('found_at', '>=', from)
        .where('found_at', '<', to)
        .execute(),
      base()
        .select(['id', 'severity', 'found_at', 'closed_at', 'deadline_at', 'submitted_at'])
        .where('closed_at', '>=', from)
        .where('closed_at', '<', to)
        .execute(),
      base()
        .select(['severity', 'deadline_at', 'submitted_at', 'reviewed_at'])
        .where('found_at', '<', to)
        .where((eb) => eb.or([eb('closed_at', 'is', null), eb('closed_at', '>=', to)]))
        .execute(),
      this.#eventIds(county, f.institution, 'escalated', from, to, true),
      this.#eventIds(county, f.institution, 'withdrawn', from, to, false),
    ]);
    const withdrawn = new Set(withdrawnIds);
    const closed = closedRows.filter((r) => !withdrawn.has(r.id));
    const sev = (): Record<HazardSeverity, SeverityFigures> => ({
      general: { found: 0, closed: 0, openAtEnd: 0 },
      major: { found: 0, closed: 0, openAtEnd: 0 },
    });
    const bySeverity = sev();
    const bySource: Record<HazardSource, number> = { auto: 0, inspection: 0, manual: 0 };
    const byCategory: Record<string, number> = {};
    for (const h of found) {
      bySeverity[h.severity as HazardSeverity].found++;
      bySource[h.source as HazardSource]++;
      byCategory[h.category] = (byCategory[h.category] ?? 0) + 1;
    }
    let closedOnTime = 0;
    let daysSum = 0;
    for (const h of closed) {
      bySeverity[h.severity as HazardSeverity].closed++;
      // On time: the work went in by the deadline (the county's review may come later).
      const doneAt = h.submitted_at ?? h.closed_at ?? 0;
      if (h.deadline_at === null || doneAt <= h.deadline_at) closedOnTime++;
      daysSum += ((h.closed_at ?? 0) - h.found_at) / 86_400_000;
    }
    let overdueAtEnd = 0;
    for (const h of open) {
      bySeverity[h.severity as HazardSeverity].openAtEnd++;
      if (
        h.deadline_at !== null &&
        h.deadline_at <= to &&
        (h.submitted_at === null || h.submitted_at > to) &&
        (h.reviewed_at === null || h.reviewed_at > to)
      ) {
        overdueAtEnd++;
      }
    }
    return {
      county,
      institution: f.institution ?? null,
      from,
      to,
      found: found.length,
      closed: closed.length,
      closedOnTime,
      withdrawn: withdrawn.size,
      openAtEnd: open.length,
      overdueAtEnd,
      becameOverdue: escalatedIds.length,
      bySeverity,
      bySource,
      byCategory,
      meanDaysToClose: closed.length === 0 ? null : Math.round((daysSum / closed.length) * 10) / 10,
    };
  }

  /** An institution's grade at `at` (its history's last point by then). */
  gradeAt(institution: string, at: number): Promise<GradeRecord | undefined> {
    return this.grader.gradeAt(institution, at);
  }

  /** Every institution's grade at `at`. */
  gradesAt(county: string, at: number): Promise<GradeRecord[]> {
    return this.grader.gradesAt(county, at);
  }

  gradeHistory(institution: string, from: number, to: number): Promise<GradeRecord[]> {
    return this.grader.history(institution, from, to);
  }

  /** How many institutions had each grade at `at`. */
  async gradeDistribution(county: string, at: number): Promise<Record<Grade, number>> {
    const out = Object.fromEntries(GRADES.map((g) => [g, 0])) as Record<Grade, number>;
    for (const g of await this.gradesAt(county, at)) out[g.grade]++;
    return out;
  }

  /** Hazards with an `event` transition in [from, to); `firstOnly`: counted at their first such event. */
  async #eventIds(
    county: string,
    institution: string | undefined,
    event: string,
    from: number,
    to: number,
    firstOnly: boolean,
  ): Promise<string[]> {
    const rows = await this.db
      .selectFrom('hazard_transitions as t')
      .innerJoin('hazards as h', 'h.id', 't.hazard_id')
      .select((eb) => ['t.hazard_id', eb.fn.min('t.at').as('first_at')])
      .where('h.county_id', '=', county)
      .$if(institution !== undefined, (q) => q.where('h.institution_id', '=', institution ?? ''))
      .where('t.event', '=', event)
      .$if(!firstOnly, (q) => q.where('t.at', '>=', from).where('t.at', '<', to))
      .groupBy('t.hazard_id')
      .execute();
    return rows
      .filter((r) => !firstOnly || (Number(r.first_at) >= from && Number(r.first_at) < to))
      .map((r) => r.hazard_id);
  }
}
