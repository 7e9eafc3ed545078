import { migrateToLatest, type NamedMigration } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import * as auth from './migrations/2026-11-23-301-dashboard-auth.js';

/** The dashboard's migrations, recorded in their own table (`kysely_migration_dashboard`). */
export const DASHBOARD_MIGRATIONS: readonly NamedMigration[] = Object.freeze([
  { name: '2026-11-23-301-dashboard-auth', migration: auth },
]);

/**
 * Brings the dashboard's tables up to date; the registry's must be first (ingest's `openStore`
 * does it), because users refer to counties and institutions.
 */
export function migrateDashboard<DB>(db: Kysely<DB>, logger?: Logger): Promise<string[]> {
  return migrateToLatest(db, logger, DASHBOARD_MIGRATIONS, { table: 'dashboard' });
}
