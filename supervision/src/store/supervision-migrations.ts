import { migrateToLatest, type NamedMigration } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import * as supervision from './migrations/2026-12-03-401-supervision.js';

/** Supervision's migrations, recorded in their own table (`kysely_migration_supervision`). */
export const SUPERVISION_MIGRATIONS: readonly NamedMigration[] = Object.freeze([
  { name: '2026-12-03-401-supervision', migration: supervision },
]);

/** Brings supervision's tables up to date; the registry's must be first (ingest's `openStore` does it). */
export function migrateSupervision<DB>(db: Kysely<DB>, logger?: Logger): Promise<string[]> {
  return migrateToLatest(db, logger, SUPERVISION_MIGRATIONS, { table: 'supervision' });
}
