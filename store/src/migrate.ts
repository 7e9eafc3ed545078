import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { Logger } from 'pino';
import { StoreError, StoreErrorCode } from './errors.js';
import * as registry from './migrations/2026-11-23-001-registry.js';
import * as simRuns from './migrations/2026-12-01-002-sim-runs.js';
import * as media from './migrations/2026-12-03-003-media.js';

/** One migration and the name it is recorded under; names sort in the order they must run. */
export interface NamedMigration {
  readonly name: string;
  readonly migration: Migration;
}

/** `YYYY-MM-DD-NNN-what`: sorts chronologically, so kysely's name order is the run order. */
const MIGRATION_NAME = /^\d{4}-\d{2}-\d{2}-\d{3}-[a-z0-9-]+$/;

/**
 * The registry's migrations. Packages that add tables (alerting, dashboard) keep their own list
 * and their own migration table (`migrateToLatest(db, logger, theirs, { table: 'alerting' })`):
 * kysely refuses to run when the database holds a migration its list lacks, so one shared
 * table would stop `anlian ingest` on a store that `anlian up` had migrated further.
 */
export const STORE_MIGRATIONS: readonly NamedMigration[] = Object.freeze([
  { name: '2026-11-23-001-registry', migration: registry },
  { name: '2026-12-01-002-sim-runs', migration: simRuns },
  { name: '2026-12-03-003-media', migration: media },
]);

/**
 * Migrations held in code rather than found by globbing a folder: works the same from `src/`
 * under vitest and from `dist/` in a package, and a bundler cannot lose a file.
 */
export class StaticMigrationProvider implements MigrationProvider {
  readonly #migrations: readonly NamedMigration[];

  constructor(migrations: readonly NamedMigration[]) {
    this.#migrations = migrations;
  }

  async getMigrations(): Promise<Record<string, Migration>> {
    const byName: Record<string, Migration> = {};
    for (const { name, migration } of this.#migrations) {
      if (!MIGRATION_NAME.test(name)) {
        throw new StoreError(StoreErrorCode.MIGRATION_FAILED, `migration name "${name}" is not YYYY-MM-DD-NNN-what`);
      }
      if (Object.hasOwn(byName, name)) {
        throw new StoreError(StoreErrorCode.MIGRATION_FAILED, `migration "${name}" is listed twice`);
      }
      byName[name] = migration;
    }
    return byName;
  }
}

/**
 * Brings the schema up to date; a no-op when it already is. Returns the names it applied.
 * kysely's Migrator takes a lock table, so concurrent replicas on PostgreSQL migrate once.
 */
export async function migrateToLatest<DB>(
  db: Kysely<DB>,
  logger?: Logger,
  migrations: readonly NamedMigration[] = STORE_MIGRATIONS,
  opts: { table?: string } = {},
): Promise<string[]> {
  const log = logger?.child({ module: 'store-migrate', ...(opts.table ? { migrations: opts.table } : {}) });
  // The registry's table keeps kysely's default names, so existing stores stay as they are.
  const tables = opts.table
    ? {
        migrationTableName: `kysely_migration_${opts.table}`,
        migrationLockTableName: `kysely_migration_lock_${opts.table}`,
      }
    : {};
  const migrator = new Migrator({ db, provider: new StaticMigrationProvider(migrations), ...tables });
  const { error, results = [] } = await migrator.migrateToLatest();
  const applied: string[] = [];
  for (const r of results) {
    if (r.status === 'Success') {
      applied.push(r.migrationName);
      log?.info({ migration: r.migrationName }, 'migration applied');
    } else if (r.status === 'Error') {
      log?.error({ migration: r.migrationName }, 'migration failed');
    }
  }
  if (error) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    throw new StoreError(
      StoreErrorCode.MIGRATION_FAILED,
      `migration ${failed ?? '(before any migration ran)'} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  if (applied.length === 0) log?.debug('schema up to date');
  return applied;
}
