import type { Database } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { ReportArchiveDatabase, ReportArchiveTable } from './report-archive-tables.js';

export interface ArchivedReport {
  id: string;
  county: string;
  institution: string | null;
  periodKey: string;
  periodFrom: number;
  periodTo: number;
  periodLabel: string;
  sourceKey: string;
  lang: string;
  generatedAt: number;
  generatedBy: string;
  scheduled: boolean;
  xlsxBytes: number;
  pdfBytes: number;
  /** Key figures for the archive's list (online rate, alarms, false-alarm rate, …). */
  summary: Record<string, number | null>;
}

export interface ArchiveEntry extends ArchivedReport {
  xlsxKey: string;
  pdfKey: string;
  scheduleKey: string | null;
}

function fromRow(r: ReportArchiveTable): ArchiveEntry {
  return {
    id: r.id,
    county: r.county_id,
    institution: r.institution_id,
    periodKey: r.period_key,
    periodFrom: Number(r.period_from),
    periodTo: Number(r.period_to),
    periodLabel: r.period_label,
    sourceKey: r.source_key,
    lang: r.lang,
    generatedAt: Number(r.generated_at),
    generatedBy: r.generated_by,
    scheduled: r.schedule_key !== null,
    scheduleKey: r.schedule_key,
    xlsxKey: r.xlsx_key,
    xlsxBytes: Number(r.xlsx_bytes),
    pdfKey: r.pdf_key,
    pdfBytes: Number(r.pdf_bytes),
    summary: JSON.parse(r.summary_json) as Record<string, number | null>,
  };
}

/** The archive's index in the store (the files are in a `ReportStorage`). */
export class ReportArchive {
  readonly #db: Kysely<ReportArchiveDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = db as unknown as Kysely<ReportArchiveDatabase>;
  }

  async add(e: ArchiveEntry): Promise<void> {
    await this.#db
      .insertInto('report_archive')
      .values({
        id: e.id,
        county_id: e.county,
        institution_id: e.institution,
        period_key: e.periodKey,
        period_from: e.periodFrom,
        period_to: e.periodTo,
        period_label: e.periodLabel,
        source_key: e.sourceKey,
        lang: e.lang,
        generated_at: e.generatedAt,
        generated_by: e.generatedBy,
        schedule_key: e.scheduleKey,
        xlsx_key: e.xlsxKey,
        xlsx_bytes: e.xlsxBytes,
        pdf_key: e.pdfKey,
        pdf_bytes: e.pdfBytes,
        summary_json: JSON.stringify(e.summary),
      })
      .execute();
  }

  async get(id: string): Promise<ArchiveEntry | undefined> {
    const r = await this.#db.selectFrom('report_archive').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? fromRow(r) : undefined;
  }

  async hasScheduled(scheduleKey: string): Promise<boolean> {
    const r = await this.#db
      .selectFrom('report_archive')
      .select('id')
      .where('schedule_key', '=', scheduleKey)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** Newest first. `institution`: that institution's reports only; undefined: all of the county. */
  async list(f: {
    county: string;
    institution?: string | undefined;
    limit?: number;
    before?: number;
  }): Promise<ArchiveEntry[]> {
    let q = this.#db.selectFrom('report_archive').selectAll().where('county_id', '=', f.county);
    if (f.institution !== undefined) q = q.where('institution_id', '=', f.institution);
    if (f.before !== undefined) q = q.where('generated_at', '<', f.before);
    const rows = await q
      .orderBy('generated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(Math.min(f.limit ?? 100, 500))
      .execute();
    return rows.map(fromRow);
  }
}

/**
 * A named lease in the store: whoever holds an unexpired lease may do the work it guards. Taking
 * it is one conditional UPDATE (or INSERT when it has never existed), atomic on SQLite and
 * PostgreSQL alike, so of several nodes exactly one wins.
 */
export class StoreLease {
  readonly #db: Kysely<ReportArchiveDatabase>;

  constructor(db: Kysely<Database>) {
    this.#db = db as unknown as Kysely<ReportArchiveDatabase>;
  }

  async acquire(name: string, holder: string, ttlMs: number, now: number): Promise<boolean> {
    const expires = now + ttlMs;
    const updated = await this.#db
      .updateTable('report_leases')
      .set({ holder, expires_at: expires })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('holder', '=', holder), eb('expires_at', '<=', now)]))
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) > 0) return true;
    const inserted = await this.#db
      .insertInto('report_leases')
      .values({ name, holder, expires_at: expires })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async release(name: string, holder: string): Promise<void> {
    await this.#db.deleteFrom('report_leases').where('name', '=', name).where('holder', '=', holder).execute();
  }
}
