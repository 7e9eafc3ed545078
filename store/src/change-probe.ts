import { type Kysely, sql } from 'kysely';
import type { Database } from './schema.js';

/** Registry tables with an `updated_at` column. */
export type RegistryTable = 'institutions' | 'gateways' | 'devices' | 'contacts';

/**
 * A cheap fingerprint of registry tables: row count and latest `updated_at` of each, in one
 * round trip. Any insert, update or delete through the store changes it, so a reader that holds a
 * copy (ingest's registry cache, alerting's directory) reloads only when it did.
 */
export async function registryChangeProbe<DB extends Database>(
  store: Kysely<DB>,
  tables: readonly RegistryTable[],
): Promise<string> {
  // Named columns: PostgreSQL would call every one of them `count` or `max`.
  const columns = tables.flatMap((t) => [`${t}_n`, `${t}_max`]);
  const parts = tables.flatMap((t) => [
    sql`(select count(*) from ${sql.table(t)}) as ${sql.id(`${t}_n`)}`,
    sql`(select max(updated_at) from ${sql.table(t)}) as ${sql.id(`${t}_max`)}`,
  ]);
  const { rows } = await sql<Record<string, string | number | bigint | null>>`select ${sql.join(parts)}`.execute(
    store as unknown as Kysely<Database>,
  );
  const row = rows[0] ?? {};
  return columns.map((c) => String(row[c] ?? '')).join(':');
}
