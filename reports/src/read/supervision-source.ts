import type { Database } from '@anlian/store';
import { type Kysely, sql } from 'kysely';
import type { ReportFigures } from '../figures/report-figures.js';
import type { ScopeFilter, StoreReader } from './store-reader.js';

/** Hazards and risk grades (the supervision workspace, issue 16), when the store has them. */
export interface SupervisionSource {
  read(f: ScopeFilter, fromMs: number, toMs: number, now: number): Promise<ReportFigures['supervision']>;
}

/**
 * The tables this reads, as issue 16 plans them: `hazards` (institution_id, opened_at,
 * deadline_at, closed_at, sim_run) and `risk_grades` (institution_id, grade, graded_at,
 * sim_run). Until they exist in the store the section says "not available"; if the landed
 * schema differs, this is the one place to adapt.
 */
export class StoreSupervisionSource implements SupervisionSource {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reader: StoreReader,
  ) {}

  async read(f: ScopeFilter, fromMs: number, toMs: number, now: number): Promise<ReportFigures['supervision']> {
    if (!(await this.reader.hasTables(['hazards', 'risk_grades']))) return { available: false };
    const inst = f.institution === undefined ? sql`` : sql` AND h.institution_id = ${f.institution}`;
    const sim = f.simRun === undefined ? sql`h.sim_run IS NULL` : sql`h.sim_run = ${f.simRun}`;
    const end = Math.min(toMs, now);
    const hazards = await sql<{ opened: number; closed: number; overdue: number; open: number }>`
      SELECT
        SUM(CASE WHEN h.opened_at >= ${fromMs} AND h.opened_at < ${toMs} THEN 1 ELSE 0 END) AS opened,
        SUM(CASE WHEN h.closed_at >= ${fromMs} AND h.closed_at < ${toMs} THEN 1 ELSE 0 END) AS closed,
        SUM(CASE WHEN h.opened_at < ${end} AND h.deadline_at < ${end}
                  AND (h.closed_at IS NULL OR h.closed_at > h.deadline_at) THEN 1 ELSE 0 END) AS overdue,
        SUM(CASE WHEN h.opened_at < ${end} AND (h.closed_at IS NULL OR h.closed_at >= ${end}) THEN 1 ELSE 0 END) AS open
      FROM hazards h JOIN institutions i ON i.id = h.institution_id
      WHERE i.county_id = ${f.county} AND ${sim}${inst}`.execute(this.db);
    const gradeInst = f.institution === undefined ? sql`` : sql` AND g.institution_id = ${f.institution}`;
    const gradeSim = f.simRun === undefined ? sql`g.sim_run IS NULL` : sql`g.sim_run = ${f.simRun}`;
    // Each institution's latest grade at the end of the period.
    const grades = await sql<{ grade: string; institutions: number }>`
      SELECT g.grade AS grade, COUNT(*) AS institutions
      FROM risk_grades g JOIN institutions i ON i.id = g.institution_id
      WHERE i.county_id = ${f.county} AND ${gradeSim}${gradeInst} AND g.graded_at < ${toMs}
        AND g.graded_at = (SELECT MAX(g2.graded_at) FROM risk_grades g2
                           WHERE g2.institution_id = g.institution_id AND g2.graded_at < ${toMs})
      GROUP BY g.grade ORDER BY g.grade`.execute(this.db);
    const h = hazards.rows[0];
    return {
      available: true,
      hazards: {
        opened: Number(h?.opened ?? 0),
        closed: Number(h?.closed ?? 0),
        overdue: Number(h?.overdue ?? 0),
        open: Number(h?.open ?? 0),
      },
      grades: grades.rows.map((r) => ({ grade: r.grade, institutions: Number(r.institutions) })),
    };
  }
}
