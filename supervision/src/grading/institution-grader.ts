import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { chinaStartOfDay } from '../china-time.js';
import type { AlertingReadModel } from '../read-model/alerting-read-model.js';
import type { DutyCheckReadModel } from '../read-model/duty-check-read-model.js';
import type { SupervisionSettings } from '../settings/supervision-settings.js';
import type { SupervisionDatabase } from '../store/supervision-schema.js';
import { explainGrade, GradeExplanation } from './grade-explanation.js';
import { readGradeInputs } from './grade-inputs.js';
import { Grade, type GradingPolicy } from './grading-policy.js';

/** Why a grade was recomputed. */
export type GradeReason = 'schedule' | 'inputs' | 'policy' | 'request' | 'demo';

/** An institution's grade as stored: the latest, or one point of its history. */
export interface GradeRecord {
  institution: string;
  county: string;
  grade: Grade;
  score: number;
  at: number;
  explanation: GradeExplanation;
}

export interface CurrentGrade extends GradeRecord {
  reason: string;
}

export interface InstitutionGraderOptions {
  db: Kysely<SupervisionDatabase>;
  alerts: AlertingReadModel;
  dutyChecks: DutyCheckReadModel;
  settings: SupervisionSettings;
  logger: Logger;
  clock?: () => number;
}

/**
 * Grades institutions (风险分级) and keeps their grades: the latest per institution
 * (`institution_grades`) and a history (`institution_grade_history`) with a point whenever the
 * grade changes and at least one a day, so the screen can draw it and reports can ask what an
 * institution's grade was on a date (`gradeAt`).
 */
export class InstitutionGrader {
  readonly #db: Kysely<SupervisionDatabase>;
  readonly #log: Logger;
  readonly #clock: () => number;

  constructor(private readonly opts: InstitutionGraderOptions) {
    this.#db = opts.db;
    this.#log = opts.logger.child({ module: 'grader' });
    this.#clock = opts.clock ?? Date.now;
  }

  /** Grades without storing (what the grade would be at `at`, e.g. under a policy being edited). */
  async explain(
    county: string,
    opts: { at?: number; institutions?: readonly string[]; policy?: GradingPolicy } = {},
  ): Promise<GradeExplanation[]> {
    const at = opts.at ?? this.#clock();
    const policy = opts.policy ?? (await this.opts.settings.get(county, 'grading'));
    const { inputs, dataGaps } = await readGradeInputs(this.opts, county, at, policy.windowDays, opts.institutions);
    return [...inputs].map(([institution, i]) => explainGrade(i, policy, { institution, county, at, dataGaps }));
  }

  /** Grades and stores: the current grade of each, and a history point where the grade changed or a day began. */
  async recompute(
    county: string,
    opts: { at?: number; institutions?: readonly string[]; reason: GradeReason; policy?: GradingPolicy },
  ): Promise<GradeExplanation[]> {
    const t0 = performance.now();
    const at = opts.at ?? this.#clock();
    const explanations = await this.explain(county, { ...opts, at });
    if (explanations.length === 0) return explanations;
    const last = await this.#lastHistory(
      county,
      explanations.map((e) => e.institution),
    );
    const rows = explanations.map((e) => ({ e, explanation_json: JSON.stringify(e) }));
    const points = rows.filter(({ e }) => {
      const prev = last.get(e.institution);
      const newDay = prev === undefined || chinaStartOfDay(prev.at) !== chinaStartOfDay(at);
      return prev === undefined || (at > prev.at && (prev.grade !== e.grade || newDay));
    });
    // Two statements for the whole county (multi-row upsert and insert), in chunks that stay
    // under SQLite's bound-parameter limit: a 250-institution county regrades in one pass.
    await this.#db.transaction().execute(async (tx) => {
      for (let i = 0; i < rows.length; i += 100) {
        await tx
          .insertInto('institution_grades')
          .values(
            rows.slice(i, i + 100).map(({ e, explanation_json }) => ({
              institution_id: e.institution,
              county_id: county,
              grade: e.grade,
              score: e.score,
              computed_at: at,
              explanation_json,
              reason: opts.reason,
            })),
          )
          .onConflict((oc) =>
            oc.column('institution_id').doUpdateSet((eb) => ({
              county_id: eb.ref('excluded.county_id'),
              grade: eb.ref('excluded.grade'),
              score: eb.ref('excluded.score'),
              computed_at: eb.ref('excluded.computed_at'),
              explanation_json: eb.ref('excluded.explanation_json'),
              reason: eb.ref('excluded.reason'),
            })),
          )
          .execute();
      }
      for (let i = 0; i < points.length; i += 100) {
        await tx
          .insertInto('institution_grade_history')
          .values(
            points.slice(i, i + 100).map(({ e, explanation_json }) => ({
              institution_id: e.institution,
              at,
              county_id: county,
              grade: e.grade,
              score: e.score,
              explanation_json,
            })),
          )
          .onConflict((oc) => oc.columns(['institution_id', 'at']).doNothing())
          .execute();
      }
    });
    const changed = explanations.filter((e) => last.get(e.institution)?.grade !== e.grade).length;
    this.#log.info(
      {
        county,
        institutions: explanations.length,
        changed,
        reason: opts.reason,
        ms: Math.round(performance.now() - t0),
      },
      'grades recomputed',
    );
    return explanations;
  }

  /** The latest grade of every institution of the county that has one. */
  async current(county: string): Promise<CurrentGrade[]> {
    const rows = await this.#db
      .selectFrom('institution_grades')
      .selectAll()
      .where('county_id', '=', county)
      .orderBy('institution_id')
      .execute();
    return rows.map((r) => ({
      institution: r.institution_id,
      county: r.county_id,
      grade: Grade.parse(r.grade),
      score: r.score,
      at: r.computed_at,
      reason: r.reason,
      explanation: GradeExplanation.parse(JSON.parse(r.explanation_json)),
    }));
  }

  async currentOf(institution: string): Promise<CurrentGrade | undefined> {
    const r = await this.#db
      .selectFrom('institution_grades')
      .selectAll()
      .where('institution_id', '=', institution)
      .executeTakeFirst();
    return r
      ? {
          institution: r.institution_id,
          county: r.county_id,
          grade: Grade.parse(r.grade),
          score: r.score,
          at: r.computed_at,
          reason: r.reason,
          explanation: GradeExplanation.parse(JSON.parse(r.explanation_json)),
        }
      : undefined;
  }

  /** History points in [from, to), oldest first. */
  async history(institution: string, from: number, to: number): Promise<GradeRecord[]> {
    const rows = await this.#db
      .selectFrom('institution_grade_history')
      .selectAll()
      .where('institution_id', '=', institution)
      .where('at', '>=', from)
      .where('at', '<', to)
      .orderBy('at')
      .execute();
    return rows.map(historyRecord);
  }

  /** The grade an institution had at `at`: the last history point at or before it. */
  async gradeAt(institution: string, at: number): Promise<GradeRecord | undefined> {
    const r = await this.#db
      .selectFrom('institution_grade_history')
      .selectAll()
      .where('institution_id', '=', institution)
      .where('at', '<=', at)
      .orderBy('at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ? historyRecord(r) : undefined;
  }

  /** The grade of every institution of the county at `at` (those graded by then). */
  async gradesAt(county: string, at: number): Promise<GradeRecord[]> {
    const latest = this.#db
      .selectFrom('institution_grade_history')
      .select((eb) => ['institution_id', eb.fn.max('at').as('last_at')])
      .where('county_id', '=', county)
      .where('at', '<=', at)
      .groupBy('institution_id')
      .as('l');
    const rows = await this.#db
      .selectFrom('institution_grade_history as h')
      .innerJoin(latest, (j) => j.onRef('l.institution_id', '=', 'h.institution_id').onRef('l.last_at', '=', 'h.at'))
      .selectAll('h')
      .orderBy('h.institution_id')
      .execute();
    return rows.map(historyRecord);
  }

  /** Institutions of the county never graded (new ones). */
  async ungraded(county: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('institutions as i')
      .leftJoin('institution_grades as g', 'g.institution_id', 'i.id')
      .select('i.id')
      .where('i.county_id', '=', county)
      .where('g.institution_id', 'is', null)
      .execute();
    return rows.map((r) => r.id);
  }

  async #lastHistory(
    county: string,
    institutions: readonly string[],
  ): Promise<Map<string, { at: number; grade: string }>> {
    const rows = await this.#db
      .selectFrom('institution_grade_history as h')
      .select(['h.institution_id', 'h.at', 'h.grade'])
      .where('h.county_id', '=', county)
      .where(
        'h.at',
        '=',
        sql<number>`(select max(x.at) from institution_grade_history x where x.institution_id = h.institution_id)`,
      )
      .$if(institutions.length <= 500, (q) => q.where('h.institution_id', 'in', [...institutions]))
      .execute();
    return new Map(rows.map((r) => [r.institution_id, { at: r.at, grade: r.grade }]));
  }
}

function historyRecord(r: {
  institution_id: string;
  county_id: string;
  grade: string;
  score: number;
  at: number;
  explanation_json: string;
}): GradeRecord {
  return {
    institution: r.institution_id,
    county: r.county_id,
    grade: Grade.parse(r.grade),
    score: r.score,
    at: r.at,
    explanation: GradeExplanation.parse(JSON.parse(r.explanation_json)),
  };
}
