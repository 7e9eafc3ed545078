import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type OpenedDatabase, openDatabase } from './database.js';
import { migrateToLatest } from './migrate.js';

/** Where a county service keeps its operational data: PostgreSQL, or SQLite in its data directory. */
export const StoreEnv = z.object({
  ANLIAN_DATA_DIR: z.string().default('.anlian').describe('data directory: SQLite anlian.db, spools, state files'),
  ANLIAN_DB_URL: z
    .string()
    .optional()
    .transform((v) => (v === '' ? undefined : v))
    .describe('PostgreSQL URL (postgres://…); SQLite in the data directory when unset'),
});
export type StoreEnv = z.infer<typeof StoreEnv>;

export interface StoreLocation {
  dataDir: string;
  dbUrl: string | undefined;
  sqlitePath: string;
}

export function storeLocation(e: StoreEnv): StoreLocation {
  const dataDir = path.resolve(e.ANLIAN_DATA_DIR);
  return { dataDir, dbUrl: e.ANLIAN_DB_URL, sqlitePath: path.join(dataDir, 'anlian.db') };
}

/** Opens the store and brings the registry's tables up to date (every service does, in any order). */
export async function openStore(where: StoreLocation, logger: Logger): Promise<OpenedDatabase> {
  if (!where.dbUrl) await mkdir(where.dataDir, { recursive: true });
  const database = openDatabase({ ...(where.dbUrl ? { url: where.dbUrl } : { sqlitePath: where.sqlitePath }), logger });
  await migrateToLatest(database.db, logger);
  return database;
}
