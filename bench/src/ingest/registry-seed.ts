import { CountyConfig } from '@anlian/protocol';
import { migrateToLatest, openDatabase, Registry } from '@anlian/store';
import type { Province } from './province.js';

/**
 * Registers the simulated province in a fresh store — a SQLite file, or a PostgreSQL database
 * given by its URL — through the same import a county file goes through (`anlian seed`), so that
 * ingest knows every gateway and device.
 */
export async function seedRegistry(store: string | { url: string }, province: Province): Promise<{ ms: number }> {
  const started = Date.now();
  const database = openDatabase(typeof store === 'string' ? { sqlitePath: store } : { url: store.url });
  try {
    await migrateToLatest(database.db);
    const registry = new Registry(database.db);
    for (const county of province.counties) await registry.importCounty(CountyConfig.parse(county));
  } finally {
    await database.close();
  }
  return { ms: Date.now() - started };
}
