import { migrateToLatest, type NamedMigration } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';

/**
 * The reports' tables in the operational store: the archive's index (the files themselves are
 * behind `ReportStorage`) and the lease that lets one node of several generate the month's reports.
 */
const archive = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('report_archive')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('county_id', 'text', (c) => c.notNull())
      .addColumn('institution_id', 'text')
      .addColumn('period_key', 'text', (c) => c.notNull())
      .addColumn('period_from', 'bigint', (c) => c.notNull())
      .addColumn('period_to', 'bigint', (c) => c.notNull())
      .addColumn('period_label', 'text', (c) => c.notNull())
      // `live` or `sim:<run id>`.
      .addColumn('source_key', 'text', (c) => c.notNull())
      .addColumn('lang', 'text', (c) => c.notNull())
      .addColumn('generated_at', 'bigint', (c) => c.notNull())
      // `schedule` or the user who asked for it.
      .addColumn('generated_by', 'text', (c) => c.notNull())
      // Set for scheduled reports only: the store's guarantee of one per county, scope and month.
      .addColumn('schedule_key', 'text', (c) => c.unique())
      .addColumn('xlsx_key', 'text', (c) => c.notNull())
      .addColumn('xlsx_bytes', 'integer', (c) => c.notNull())
      .addColumn('pdf_key', 'text', (c) => c.notNull())
      .addColumn('pdf_bytes', 'integer', (c) => c.notNull())
      .addColumn('summary_json', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('report_archive_county_generated')
      .on('report_archive')
      .columns(['county_id', 'generated_at'])
      .execute();
    await db.schema
      .createTable('report_leases')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('holder', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('report_leases').ifExists().execute();
    await db.schema.dropTable('report_archive').ifExists().execute();
  },
};

export const REPORTS_MIGRATIONS: readonly NamedMigration[] = Object.freeze([
  { name: '2026-12-01-401-report-archive', migration: archive },
]);

/** Brings the reports' tables up to date (after the store's; alerting's are read, not required). */
export function migrateReports<DB>(db: Kysely<DB>, logger?: Logger): Promise<string[]> {
  return migrateToLatest(db, logger, REPORTS_MIGRATIONS, { table: 'reports' });
}
