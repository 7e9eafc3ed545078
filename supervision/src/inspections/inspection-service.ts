import type { Kysely, Selectable } from 'kysely';
import type { Logger } from 'pino';
import type { ChecklistStore } from '../checklists/checklist-store.js';
import { SupervisionError, SupervisionErrorCode } from '../errors.js';
import type { Actor, Hazard } from '../hazards/hazard.js';
import type { HazardLedger } from '../hazards/hazard-ledger.js';
import { deadlineMs } from '../hazards/ledger-policy.js';
import { newId } from '../new-id.js';
import type { SupervisionSettings } from '../settings/supervision-settings.js';
import type { InspectionsTable, SupervisionDatabase } from '../store/supervision-schema.js';
import { type FindingHazard, Inspection, type InspectionKind, InspectionStatus, ItemResult } from './inspection.js';

export interface InspectionServiceOptions {
  db: Kysely<SupervisionDatabase>;
  ledger: HazardLedger;
  checklists: ChecklistStore;
  settings: SupervisionSettings;
  logger: Logger;
  clock?: () => number;
}

/**
 * Inspections (检查) filled on a phone against a checklist: started, saved as the inspector goes,
 * submitted — and each failed item opens a hazard (one per item: submitting twice opens none twice).
 */
export class InspectionService {
  readonly #db: Kysely<SupervisionDatabase>;
  readonly #log: Logger;
  readonly #clock: () => number;

  constructor(private readonly opts: InspectionServiceOptions) {
    this.#db = opts.db;
    this.#log = opts.logger.child({ module: 'inspections' });
    this.#clock = opts.clock ?? Date.now;
  }

  async start(
    s: { institution: string; checklistId: string; kind: InspectionKind; drawId?: string | null; generated?: string },
    actor: Actor,
    at?: number,
  ): Promise<Inspection> {
    const now = at ?? this.#clock();
    const institution = await this.#db
      .selectFrom('institutions')
      .select(['id', 'county_id'])
      .where('id', '=', s.institution)
      .executeTakeFirst();
    if (!institution) throw new SupervisionError(SupervisionErrorCode.NOT_FOUND, `no institution ${s.institution}`);
    const { version } = await this.opts.checklists.get(institution.county_id, s.checklistId);
    const row: Selectable<InspectionsTable> = {
      id: newId('insp', now),
      county_id: institution.county_id,
      institution_id: s.institution,
      checklist_id: s.checklistId,
      checklist_version: version,
      kind: s.kind,
      draw_id: s.drawId ?? null,
      inspector: actor.name,
      status: 'draft',
      results_json: '{}',
      findings: 0,
      summary: null,
      started_at: now,
      submitted_at: null,
      generated: s.generated ?? null,
      updated_at: now,
    };
    await this.#db.insertInto('inspections').values(row).execute();
    return fromRow(row);
  }

  /** Saves results while the inspection is a draft (the inspector's phone saves as they go). */
  async save(
    id: string,
    s: { results?: Record<string, unknown>; summary?: string | null },
    actor: Actor,
  ): Promise<Inspection> {
    const row = await this.#draft(id);
    const results = s.results === undefined ? parseResults(row.results_json) : await this.#validResults(row, s.results);
    const now = this.#clock();
    await this.#db
      .updateTable('inspections')
      .set({
        results_json: JSON.stringify(results),
        findings: countFindings(results),
        ...(s.summary !== undefined ? { summary: s.summary } : {}),
        updated_at: now,
      })
      .where('id', '=', id)
      .where('status', '=', 'draft')
      .execute();
    this.#log.debug({ inspection: id, by: actor.name }, 'inspection saved');
    return this.getOrThrow(id);
  }

  /**
   * Submits: the results are final and every failed item opens a hazard of the checklist item's
   * severity, owned by the institution's manager with the ledger's default deadline, unless
   * `hazards` says otherwise for that item.
   */
  async submit(
    id: string,
    s: { results?: Record<string, unknown>; summary?: string | null; hazards?: readonly FindingHazard[] },
    actor: Actor,
    at?: number,
  ): Promise<{ inspection: Inspection; hazards: Hazard[] }> {
    const row = await this.#draft(id);
    const now = at ?? this.#clock();
    const results = s.results === undefined ? parseResults(row.results_json) : await this.#validResults(row, s.results);
    const { checklist } = await this.opts.checklists.get(row.county_id, row.checklist_id);
    const policy = await this.opts.settings.get(row.county_id, 'ledger');
    const manager = await this.opts.ledger.ownerFor(row.institution_id, 'manager');
    const overrides = new Map((s.hazards ?? []).map((h) => [h.itemId, h]));
    const r = await this.#db
      .updateTable('inspections')
      .set({
        status: 'submitted',
        results_json: JSON.stringify(results),
        findings: countFindings(results),
        ...(s.summary !== undefined ? { summary: s.summary } : {}),
        submitted_at: now,
        updated_at: now,
      })
      .where('id', '=', id)
      .where('status', '=', 'draft')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) {
      throw new SupervisionError(SupervisionErrorCode.INSPECTION_SUBMITTED, `inspection ${id} was submitted already`);
    }
    const hazards: Hazard[] = [];
    for (const item of checklist.items) {
      const res = results[item.id];
      if (res?.result !== 'fail') continue;
      const o = overrides.get(item.id);
      const severity = o?.severity ?? item.severity;
      const ownerContactId = o?.ownerContactId ?? manager?.contactId;
      const { hazard } = await this.opts.ledger.open(
        {
          institution: row.institution_id,
          category: item.category,
          severity,
          source: 'inspection',
          sourceRule: checklist.id,
          // One hazard per inspection item, whatever happens to a retried submit.
          causeKey: `inspection:${id}:${item.id}`,
          itemRef: item.id,
          inspectionId: id,
          title: item.text.length > 60 ? `${item.text.slice(0, 59)}…` : item.text,
          description: o?.description ?? (res.note || item.text),
          evidence: {
            checklist: checklist.id,
            item: item.id,
            itemText: item.text,
            basis: item.basis,
            note: res.note,
            photos: res.photos,
          },
          location: o?.location ?? null,
          ...(ownerContactId !== undefined
            ? { ownerContactId, deadlineAt: o?.deadlineAt ?? now + deadlineMs(policy, severity) }
            : {}),
          supervisor: actor.name,
          note: `检查发现（${checklist.name.zh} ${item.id}）`,
          foundAt: now,
          ...(row.generated ? { generated: row.generated } : {}),
        },
        actor,
      );
      hazards.push(hazard);
    }
    this.#log.info({ inspection: id, findings: hazards.length, by: actor.name }, 'inspection submitted');
    return { inspection: await this.getOrThrow(id), hazards };
  }

  async get(id: string): Promise<Inspection | undefined> {
    const r = await this.#db.selectFrom('inspections').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  async getOrThrow(id: string): Promise<Inspection> {
    const i = await this.get(id);
    if (!i) throw new SupervisionError(SupervisionErrorCode.NOT_FOUND, `no inspection ${id}`);
    return i;
  }

  async list(f: {
    county: string;
    institution?: string;
    from?: number;
    to?: number;
    limit?: number;
  }): Promise<Inspection[]> {
    const rows = await this.#db
      .selectFrom('inspections')
      .selectAll()
      .where('county_id', '=', f.county)
      .$if(f.institution !== undefined, (q) => q.where('institution_id', '=', f.institution ?? ''))
      .$if(f.from !== undefined, (q) => q.where('started_at', '>=', f.from ?? 0))
      .$if(f.to !== undefined, (q) => q.where('started_at', '<', f.to ?? 0))
      .orderBy('started_at', 'desc')
      .limit(Math.min(Math.max(1, f.limit ?? 100), 1000))
      .execute();
    return rows.map(fromRow);
  }

  /** The last submitted inspection of each institution of the county. */
  async lastInspections(county: string): Promise<Map<string, number>> {
    const rows = await this.#db
      .selectFrom('inspections')
      .select((eb) => ['institution_id', eb.fn.max('submitted_at').as('last')])
      .where('county_id', '=', county)
      .where('status', '=', 'submitted')
      .groupBy('institution_id')
      .execute();
    return new Map(rows.filter((r) => r.last !== null).map((r) => [r.institution_id, Number(r.last)]));
  }

  async #draft(id: string): Promise<Selectable<InspectionsTable>> {
    const row = await this.#db.selectFrom('inspections').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new SupervisionError(SupervisionErrorCode.NOT_FOUND, `no inspection ${id}`);
    if (row.status !== 'draft') {
      throw new SupervisionError(SupervisionErrorCode.INSPECTION_SUBMITTED, `inspection ${id} was submitted already`);
    }
    return row;
  }

  async #validResults(
    row: Selectable<InspectionsTable>,
    input: Record<string, unknown>,
  ): Promise<Record<string, ItemResult>> {
    const { checklist } = await this.opts.checklists.get(row.county_id, row.checklist_id);
    const items = new Set(checklist.items.map((i) => i.id));
    const out: Record<string, ItemResult> = {};
    for (const [itemId, value] of Object.entries(input)) {
      if (!items.has(itemId)) {
        throw new SupervisionError(SupervisionErrorCode.INVALID, `checklist ${checklist.id} has no item ${itemId}`);
      }
      const parsed = ItemResult.safeParse(value);
      if (!parsed.success) {
        throw new SupervisionError(
          SupervisionErrorCode.INVALID,
          `item ${itemId}: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
        );
      }
      out[itemId] = parsed.data;
    }
    return out;
  }
}

function parseResults(json: string): Record<string, ItemResult> {
  const raw = JSON.parse(json) as Record<string, unknown>;
  const out: Record<string, ItemResult> = {};
  for (const [k, v] of Object.entries(raw)) out[k] = ItemResult.parse(v);
  return out;
}

function countFindings(results: Record<string, ItemResult>): number {
  return Object.values(results).filter((r) => r.result === 'fail').length;
}

function fromRow(r: Selectable<InspectionsTable>): Inspection {
  return Inspection.parse({
    id: r.id,
    county: r.county_id,
    institution: r.institution_id,
    checklistId: r.checklist_id,
    checklistVersion: r.checklist_version,
    kind: r.kind,
    drawId: r.draw_id,
    inspector: r.inspector,
    status: InspectionStatus.parse(r.status),
    results: parseResults(r.results_json),
    findings: r.findings,
    summary: r.summary,
    startedAt: r.started_at,
    submittedAt: r.submitted_at,
    generated: r.generated,
  });
}
