import { migrateToLatest, type NamedMigration } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import * as alerting from './migrations/2026-11-23-201-alerting.js';
import * as simRun from './migrations/2026-12-01-202-alerting-sim-run.js';
import * as dutyChecks from './migrations/2026-12-03-215-duty-checks.js';
import * as deviceDisabled from './migrations/2026-12-03-216-alert-device-disabled.js';
import * as drillGateways from './migrations/2026-12-03-217-drill-gateways.js';
import * as alertKeyIndex from './migrations/2026-12-03-230-alert-key-index.js';

/** Alerting's migrations, recorded in their own table (`kysely_migration_alerting`). */
export const ALERTING_MIGRATIONS: readonly NamedMigration[] = Object.freeze([
  { name: '2026-11-23-201-alerting', migration: alerting },
  { name: '2026-12-01-202-alerting-sim-run', migration: simRun },
  { name: '2026-12-03-215-duty-checks', migration: dutyChecks },
  { name: '2026-12-03-216-alert-device-disabled', migration: deviceDisabled },
  { name: '2026-12-03-217-drill-gateways', migration: drillGateways },
  { name: '2026-12-03-230-alert-key-index', migration: alertKeyIndex },
]);

/** Brings alerting's tables up to date; the registry's must be (ingest's `openStore` does it). */
export function migrateAlerting<DB>(db: Kysely<DB>, logger?: Logger): Promise<string[]> {
  return migrateToLatest(db, logger, ALERTING_MIGRATIONS, { table: 'alerting' });
}
