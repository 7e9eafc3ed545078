import { migrateToLatest, type NamedMigration } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import * as alerting from './migrations/2026-11-23-201-alerting.js';

/** Alerting's migrations, recorded in their own table (`kysely_migration_alerting`). */
export const ALERTING_MIGRATIONS: readonly NamedMigration[] = Object.freeze([
  { name: '2026-11-23-201-alerting', migration: alerting },
]);

/** Brings alerting's tables up to date; the registry's must be (ingest's `openStore` does it). */
export function migrateAlerting<DB>(db: Kysely<DB>, logger?: Logger): Promise<string[]> {
  return migrateToLatest(db, logger, ALERTING_MIGRATIONS, { table: 'alerting' });
}
