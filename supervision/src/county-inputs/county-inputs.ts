import type { Kysely } from 'kysely';
import { z } from 'zod';
import { SupervisionError, SupervisionErrorCode } from '../errors.js';
import type { Actor } from '../hazards/hazard.js';
import { newId } from '../new-id.js';
import type { SupervisionDatabase } from '../store/supervision-schema.js';

/** Seeds 003/004: complaints and reports (投诉举报), and records of violations (违法违规记录). */
export const CountyInputKind = z.enum(['complaint', 'violation']);
export type CountyInputKind = z.infer<typeof CountyInputKind>;

export const CountyInput = z.object({
  id: z.string(),
  county: z.string(),
  institution: z.string(),
  kind: CountyInputKind,
  /** When it happened (the complaint came in, the violation was recorded). */
  at: z.number(),
  note: z.string(),
  recordedBy: z.string(),
  recordedAt: z.number(),
  generated: z.string().nullable(),
});
export type CountyInput = z.infer<typeof CountyInput>;

/** The county's own inputs to the grades, entered by county staff. */
export class CountyInputs {
  constructor(
    private readonly db: Kysely<SupervisionDatabase>,
    private readonly clock: () => number = Date.now,
  ) {}

  async record(
    input: { institution: string; kind: CountyInputKind; at?: number; note: string; generated?: string },
    actor: Actor,
  ): Promise<CountyInput> {
    const now = this.clock();
    const at = input.at ?? now;
    if (at > now + 60_000)
      throw new SupervisionError(SupervisionErrorCode.INVALID, 'a complaint or violation cannot be in the future');
    const inst = await this.db
      .selectFrom('institutions')
      .select('county_id')
      .where('id', '=', input.institution)
      .executeTakeFirst();
    if (!inst) throw new SupervisionError(SupervisionErrorCode.NOT_FOUND, `no institution ${input.institution}`);
    const row = {
      id: newId('ci', at),
      county_id: inst.county_id,
      institution_id: input.institution,
      kind: input.kind,
      at,
      note: input.note,
      recorded_by: actor.name,
      recorded_at: now,
      generated: input.generated ?? null,
    };
    await this.db.insertInto('county_inputs').values(row).execute();
    return fromRow(row);
  }

  async list(f: { county: string; institution?: string; from?: number; to?: number }): Promise<CountyInput[]> {
    const rows = await this.db
      .selectFrom('county_inputs')
      .selectAll()
      .where('county_id', '=', f.county)
      .$if(f.institution !== undefined, (q) => q.where('institution_id', '=', f.institution ?? ''))
      .$if(f.from !== undefined, (q) => q.where('at', '>=', f.from ?? 0))
      .$if(f.to !== undefined, (q) => q.where('at', '<', f.to ?? 0))
      .orderBy('at', 'desc')
      .limit(1000)
      .execute();
    return rows.map(fromRow);
  }
}

function fromRow(r: {
  id: string;
  county_id: string;
  institution_id: string;
  kind: string;
  at: number;
  note: string;
  recorded_by: string;
  recorded_at: number;
  generated: string | null;
}): CountyInput {
  return {
    id: r.id,
    county: r.county_id,
    institution: r.institution_id,
    kind: CountyInputKind.parse(r.kind),
    at: r.at,
    note: r.note,
    recordedBy: r.recorded_by,
    recordedAt: r.recorded_at,
    generated: r.generated,
  };
}
