import type { Database } from '@anlian/store';
import { type Kysely, sql } from 'kysely';
import type { HazardCounts, ReportFigures } from '../figures/report-figures.js';
import type { ScopeFilter, StoreReader } from './store-reader.js';

/** Hazards and risk grades (the supervision workspace, issue 16), when the store has them. */
export interface SupervisionSource {
  /**
   * `records`: whose hazards — `null` for live ones, else the marker the demo generator put on
   * the records it made (`supervisionMarker`).
   */
  read(
    f: ScopeFilter,
    fromMs: number,
    toMs: number,
    now: number,
    records: string | null,
  ): Promise<ReportFigures['supervision']>;
}

/**
 * The marker supervision's demo generator puts on the hazards it makes from the simulator's seed
 * (`generated = 'demo-seed-<seed>'`, supervision/src/demo/supervision-demo.ts): a report of a
 * simulation run counts the hazards generated from the same seed, a live report only unmarked ones.
 */
export function supervisionMarker(seed: number): string {
  return `demo-seed-${seed}`;
}

/** The columns of supervision's tables this reads (its schema: supervision/src/store/supervision-schema.ts). */
interface HazardRow {
  id: string;
  institution_id: string;
  severity: string;
  found_at: number | string;
  deadline_at: number | string | null;
  submitted_at: number | string | null;
  reviewed_at: number | string | null;
  closed_at: number | string | null;
  overdue_at: number | string | null;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));
const zero = (): HazardCounts => ({ opened: 0, closed: 0, overdue: 0, open: 0 });
const SEVERITIES = ['major', 'general'] as const;
const GRADE_ORDER = ['red', 'orange', 'yellow', 'blue'];

/**
 * Reads supervision's tables with plain SQL over the shared store (as supervision reads
 * alerting's): the definitions are those of supervision's own `SupervisionFigures.hazardFigures`
 * — opened: found in the period; closed: closed (销号) in it, withdrawn ones not counted, on time
 * when the work went in by the deadline; open and overdue: at the period's end (or now, if
 * earlier), overdue meaning past the deadline with the work not submitted nor reviewed — plus,
 * per institution, the risk grade of its grade history's last point by the end (as `gradesAt`). Grade
 * history carries no marker, so grades are the same for live and simulated reports.
 */
export class StoreSupervisionSource implements SupervisionSource {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reader: StoreReader,
  ) {}

  async read(
    f: ScopeFilter,
    fromMs: number,
    toMs: number,
    now: number,
    records: string | null,
  ): Promise<ReportFigures['supervision']> {
    if (!(await this.reader.hasTables(['hazards', 'hazard_transitions', 'institution_grade_history']))) {
      return { available: false };
    }
    const end = Math.min(toMs, now);
    const inst = f.institution === undefined ? sql`` : sql` AND h.institution_id = ${f.institution}`;
    const marked = records === null ? sql`h.generated IS NULL` : sql`h.generated = ${records}`;
    // Every hazard that touches the period: found before its end and not closed before its start.
    const [hazards, withdrawn, grades] = await Promise.all([
      sql<HazardRow>`
        SELECT h.id, h.institution_id, h.severity, h.found_at, h.deadline_at, h.submitted_at,
               h.reviewed_at, h.closed_at, h.overdue_at
        FROM hazards h
        WHERE h.county_id = ${f.county} AND ${marked}${inst}
          AND h.found_at < ${toMs} AND (h.closed_at IS NULL OR h.closed_at >= ${fromMs})`.execute(this.db),
      sql<{ hazard_id: string }>`
        SELECT DISTINCT t.hazard_id FROM hazard_transitions t JOIN hazards h ON h.id = t.hazard_id
        WHERE h.county_id = ${f.county} AND ${marked}${inst}
          AND t.event = 'withdrawn' AND t.at >= ${fromMs} AND t.at < ${toMs}`.execute(this.db),
      sql<{ institution_id: string; grade: string }>`
        SELECT g.institution_id, g.grade FROM institution_grade_history g
        JOIN (SELECT institution_id, MAX(at) AS at FROM institution_grade_history
              WHERE county_id = ${f.county} AND at <= ${end}
              ${f.institution === undefined ? sql`` : sql`AND institution_id = ${f.institution}`}
              GROUP BY institution_id) m
          ON m.institution_id = g.institution_id AND m.at = g.at`.execute(this.db),
    ]);
    const withdrawnIds = new Set(withdrawn.rows.map((r) => r.hazard_id));
    const total = { ...zero(), closedOnTime: 0, becameOverdue: 0 };
    const bySeverity = new Map<string, HazardCounts>(SEVERITIES.map((s) => [s, zero()]));
    const byInstitution = new Map<string, HazardCounts>();
    let daysToClose = 0;
    const inPeriod = (t: number | null) => t !== null && t >= fromMs && t < toMs;
    for (const r of hazards.rows) {
      const foundAt = Number(r.found_at);
      const closedAt = num(r.closed_at);
      const deadline = num(r.deadline_at);
      const submitted = num(r.submitted_at);
      const reviewed = num(r.reviewed_at);
      const counts = [total, bySeverity.get(r.severity), byInstitution.get(r.institution_id)];
      if (!counts[2]) {
        counts[2] = zero();
        byInstitution.set(r.institution_id, counts[2]);
      }
      const add = (k: keyof HazardCounts) => {
        for (const c of counts) if (c) c[k]++;
      };
      if (inPeriod(foundAt)) add('opened');
      if (inPeriod(closedAt) && !withdrawnIds.has(r.id)) {
        add('closed');
        if (deadline === null || (submitted ?? closedAt ?? 0) <= deadline) total.closedOnTime++;
        daysToClose += ((closedAt ?? 0) - foundAt) / 86_400_000;
      }
      if (foundAt < end && (closedAt === null || closedAt >= end)) {
        add('open');
        if (
          deadline !== null &&
          deadline <= end &&
          (submitted === null || submitted > end) &&
          (reviewed === null || reviewed > end)
        ) {
          add('overdue');
        }
      }
      if (inPeriod(num(r.overdue_at))) total.becameOverdue++;
    }
    const gradeOf = new Map(grades.rows.map((g) => [g.institution_id, g.grade]));
    const gradeCount = new Map<string, number>();
    for (const g of gradeOf.values()) gradeCount.set(g, (gradeCount.get(g) ?? 0) + 1);
    const institutions = await this.reader.institutions(f);
    const { closedOnTime, becameOverdue, ...counts } = total;
    return {
      available: true,
      records,
      hazards: {
        ...counts,
        closedOnTime,
        becameOverdue,
        meanDaysToClose: counts.closed === 0 ? undefined : daysToClose / counts.closed,
      },
      bySeverity: SEVERITIES.map((severity) => ({ severity, ...(bySeverity.get(severity) ?? zero()) })),
      byInstitution: institutions.map((i) => ({
        institution: i.id,
        grade: gradeOf.get(i.id),
        ...(byInstitution.get(i.id) ?? zero()),
      })),
      grades: [...gradeCount]
        .sort((a, b) => GRADE_ORDER.indexOf(a[0]) - GRADE_ORDER.indexOf(b[0]))
        .map(([grade, n]) => ({ grade, institutions: n })),
    };
  }
}
