import type { OpenedDatabase } from '@anlian/store';
import { openStore, type StoreLocation } from '@anlian/store';
import { migrateSupervision } from '@anlian/supervision';
import type { Logger } from 'pino';
import { migrateDashboard } from './dashboard-migrations.js';

/** Opens the operational store with the registry's, the dashboard's and supervision's tables up to date. */
export async function openDashboardStore(where: StoreLocation, logger: Logger): Promise<OpenedDatabase> {
  const database = await openStore(where, logger);
  try {
    await migrateDashboard(database.db, logger);
    await migrateSupervision(database.db, logger);
  } catch (err) {
    await database.close();
    throw err;
  }
  return database;
}
