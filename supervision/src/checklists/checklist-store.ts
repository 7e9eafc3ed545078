import type { Kysely } from 'kysely';
import { SupervisionError, SupervisionErrorCode } from '../errors.js';
import type { SupervisionDatabase } from '../store/supervision-schema.js';
import { builtinChecklists } from './builtin-checklists.js';
import { Checklist, type StoredChecklist } from './checklist.js';

/**
 * A county's checklists: the shipped ones until the county edits them, and any it adds. An edit
 * bumps the version; inspections record the version they were filled against.
 */
export class ChecklistStore {
  readonly #db: Kysely<SupervisionDatabase>;
  readonly #clock: () => number;

  constructor(db: Kysely<SupervisionDatabase>, clock: () => number = Date.now) {
    this.#db = db;
    this.#clock = clock;
  }

  async list(county: string): Promise<StoredChecklist[]> {
    const rows = await this.#db.selectFrom('checklists').selectAll().where('county_id', '=', county).execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    const out: StoredChecklist[] = builtinChecklists().map((c) => {
      const r = byId.get(c.id);
      byId.delete(c.id);
      return r ? stored(r) : { checklist: c, version: 0, builtin: true, updatedAt: null, updatedBy: null };
    });
    for (const r of byId.values()) out.push(stored(r));
    return out;
  }

  async get(county: string, id: string): Promise<StoredChecklist> {
    const r = await this.#db
      .selectFrom('checklists')
      .selectAll()
      .where('county_id', '=', county)
      .where('id', '=', id)
      .executeTakeFirst();
    if (r) return stored(r);
    const builtin = builtinChecklists().find((c) => c.id === id);
    if (!builtin) throw new SupervisionError(SupervisionErrorCode.NOT_FOUND, `no checklist ${id}`);
    return { checklist: builtin, version: 0, builtin: true, updatedAt: null, updatedBy: null };
  }

  /** Stores the county's version (validated); the id is the document's. */
  async save(county: string, input: unknown, by: string): Promise<StoredChecklist> {
    const parsed = Checklist.safeParse(input);
    if (!parsed.success) {
      throw new SupervisionError(
        SupervisionErrorCode.CONFIG_INVALID,
        `checklist: ${parsed.error.issues.map((i) => `${i.path.join('.') || '/'} ${i.message}`).join('; ')}`,
      );
    }
    const c = parsed.data;
    const now = this.#clock();
    const prev = await this.#db
      .selectFrom('checklists')
      .select('version')
      .where('county_id', '=', county)
      .where('id', '=', c.id)
      .executeTakeFirst();
    const version = (prev?.version ?? 0) + 1;
    const checklist_json = JSON.stringify(c);
    await this.#db
      .insertInto('checklists')
      .values({ county_id: county, id: c.id, checklist_json, version, updated_at: now, updated_by: by })
      .onConflict((oc) =>
        oc.columns(['county_id', 'id']).doUpdateSet({ checklist_json, version, updated_at: now, updated_by: by }),
      )
      .execute();
    return { checklist: c, version, builtin: false, updatedAt: now, updatedBy: by };
  }
}

function stored(r: {
  checklist_json: string;
  version: number;
  updated_at: number;
  updated_by: string;
}): StoredChecklist {
  return {
    checklist: Checklist.parse(JSON.parse(r.checklist_json)),
    version: r.version,
    builtin: false,
    updatedAt: r.updated_at,
    updatedBy: r.updated_by,
  };
}
