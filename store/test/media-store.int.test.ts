import { startPostgres, type TestPostgres } from '@anlian/testing';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/database.js';
import { DatabaseMediaStore } from '../src/media/database-media-store.js';
import { migrateToLatest } from '../src/migrate.js';
import { mediaStoreSuite } from './media-store-suite.js';

let postgres: TestPostgres;
let n = 0;
beforeAll(async () => {
  postgres = await startPostgres();
}, 60_000);
afterAll(async () => {
  await postgres?.stop();
});

/** A database of its own per case, on one PostgreSQL server. */
async function freshDatabase(): Promise<string> {
  const admin = openDatabase({ url: postgres.url });
  const name = `media_${++n}`;
  try {
    await sql.raw(`create database ${name}`).execute(admin.db);
  } finally {
    await admin.close();
  }
  return postgres.url.replace(/\/[^/]+$/, `/${name}`);
}

describe('media store on PostgreSQL (database store)', () => {
  mediaStoreSuite({
    name: 'PostgreSQL',
    async open() {
      const store = openDatabase({ url: await freshDatabase() });
      await migrateToLatest(store.db);
      return { media: new DatabaseMediaStore({ db: store.db }), dispose: () => store.close() };
    },
  });

  it('holds the picture as bytea, found through the cause index', async () => {
    const store = openDatabase({ url: await freshDatabase() });
    try {
      await migrateToLatest(store.db);
      const types = await sql<{ column_name: string; data_type: string }>`
        select column_name, data_type from information_schema.columns
        where table_name = 'media' and column_name in ('data', 'cause_ts', 'received_at') order by column_name`.execute(
        store.db,
      );
      expect(types.rows).toEqual([
        { column_name: 'cause_ts', data_type: 'bigint' },
        { column_name: 'data', data_type: 'bytea' },
        { column_name: 'received_at', data_type: 'bigint' },
      ]);
      const indexes = await sql<{ indexname: string }>`
        select indexname from pg_indexes where tablename = 'media' order by indexname`.execute(store.db);
      expect(indexes.rows.map((r) => r.indexname)).toEqual(['media_by_cause', 'media_by_received_at', 'media_pkey']);
    } finally {
      await store.close();
    }
  });
});
