import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { SupervisionError, SupervisionErrorCode } from '../errors.js';
import { Grade } from '../grading/grading-policy.js';
import type { InstitutionGrader } from '../grading/institution-grader.js';
import type { Actor } from '../hazards/hazard.js';
import { newId } from '../new-id.js';
import { seededRandom } from '../seeded-random.js';
import type { SupervisionSettings } from '../settings/supervision-settings.js';
import type { SupervisionDatabase } from '../store/supervision-schema.js';

export const DrawnInstitution = z.object({
  institution: z.string(),
  grade: Grade,
  weight: z.number(),
  inspectors: z.array(z.string()),
});

export const InspectionDraw = z.object({
  id: z.string(),
  county: z.string(),
  at: z.number(),
  drawnBy: z.string(),
  count: z.number(),
  seed: z.string(),
  weights: z.record(Grade, z.number()),
  drawn: z.array(DrawnInstitution),
  pool: z.array(z.string()),
  note: z.string().nullable(),
});
export type InspectionDraw = z.infer<typeof InspectionDraw>;

/**
 * The random inspection draw (双随机、一公开, seeds 000/001): institutions drawn at random with
 * chances weighted by their grade (seeds 003/004: higher risk, more checks), inspectors drawn at
 * random from the pool for each. Recorded with its seed, weights and the grades at the time, so
 * that the draw can be published and anyone can replay it (`replayDraw`).
 */
export class InspectionDraws {
  constructor(
    private readonly db: Kysely<SupervisionDatabase>,
    private readonly grader: InstitutionGrader,
    private readonly settings: SupervisionSettings,
    private readonly clock: () => number = Date.now,
  ) {}

  async draw(
    county: string,
    d: {
      count: number;
      inspectors?: readonly string[];
      inspectorsPerInstitution?: number;
      seed?: string;
      note?: string;
    },
    actor: Actor,
  ): Promise<InspectionDraw> {
    const institutions = await this.db
      .selectFrom('institutions')
      .select('id')
      .where('county_id', '=', county)
      .orderBy('id')
      .execute();
    if (d.count < 1 || d.count > institutions.length) {
      throw new SupervisionError(
        SupervisionErrorCode.INVALID,
        `draw between 1 and ${institutions.length} institutions (the county has ${institutions.length})`,
      );
    }
    const pool = [...new Set(d.inspectors ?? [])].sort();
    const perInstitution = Math.min(d.inspectorsPerInstitution ?? 2, pool.length);
    const policy = await this.settings.get(county, 'grading');
    const grades = new Map((await this.grader.current(county)).map((g) => [g.institution, g.grade]));
    // An institution not graded yet draws as blue (the lowest weight), never as zero.
    const candidates = institutions.map((i) => {
      const grade = grades.get(i.id) ?? 'blue';
      return { institution: i.id, grade, weight: policy.drawWeights[grade] };
    });
    const seed = d.seed ?? randomBytes(8).toString('hex');
    const drawn = replayDraw(candidates, d.count, pool, perInstitution, seed);
    const at = this.clock();
    const record: InspectionDraw = {
      id: newId('draw', at),
      county,
      at,
      drawnBy: actor.name,
      count: d.count,
      seed,
      weights: policy.drawWeights,
      drawn,
      pool,
      note: d.note ?? null,
    };
    await this.db
      .insertInto('inspection_draws')
      .values({
        id: record.id,
        county_id: county,
        at,
        drawn_by: actor.name,
        count: d.count,
        seed,
        weights_json: JSON.stringify(record.weights),
        drawn_json: JSON.stringify(drawn),
        pool_json: JSON.stringify(pool),
        note: record.note,
      })
      .execute();
    return record;
  }

  async list(county: string, limit = 50): Promise<InspectionDraw[]> {
    const rows = await this.db
      .selectFrom('inspection_draws')
      .selectAll()
      .where('county_id', '=', county)
      .orderBy('at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) =>
      InspectionDraw.parse({
        id: r.id,
        county: r.county_id,
        at: r.at,
        drawnBy: r.drawn_by,
        count: r.count,
        seed: r.seed,
        weights: JSON.parse(r.weights_json),
        drawn: JSON.parse(r.drawn_json),
        pool: JSON.parse(r.pool_json),
        note: r.note,
      }),
    );
  }
}

/**
 * The draw itself, a pure function of its inputs: weighted sampling without replacement
 * (Efraimidis–Spirakis: each candidate's key is u^(1/weight), the largest keys win), candidates
 * in id order; then inspectors for each drawn institution, uniformly without replacement.
 */
export function replayDraw(
  candidates: readonly { institution: string; grade: Grade; weight: number }[],
  count: number,
  pool: readonly string[],
  perInstitution: number,
  seed: string,
): { institution: string; grade: Grade; weight: number; inspectors: string[] }[] {
  const random = seededRandom(seed);
  const keyed = [...candidates]
    .sort((a, b) => (a.institution < b.institution ? -1 : a.institution > b.institution ? 1 : 0))
    .map((c) => {
      const u = random();
      return { c, key: c.weight > 0 ? Math.log(u > 0 ? u : Number.MIN_VALUE) / c.weight : Number.NEGATIVE_INFINITY };
    });
  keyed.sort((a, b) => b.key - a.key);
  return keyed.slice(0, count).map(({ c }) => {
    const left = [...pool];
    const inspectors: string[] = [];
    for (let k = 0; k < perInstitution && left.length > 0; k++) {
      const i = Math.floor(random() * left.length);
      inspectors.push(left.splice(i, 1)[0] as string);
    }
    return { institution: c.institution, grade: c.grade, weight: c.weight, inspectors };
  });
}
