import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/database.js';
import { type DialectFactory, registrySuite } from './registry-suite.js';

const factories: DialectFactory[] = [
  {
    name: 'SQLite :memory:',
    async open() {
      const store = openDatabase({ sqlitePath: ':memory:' });
      return { store, dispose: () => store.close() };
    },
  },
  {
    name: 'SQLite file',
    async open() {
      const dir = await mkdtemp(join(tmpdir(), 'anlian-store-'));
      // A parent folder that does not exist yet: openDatabase creates it.
      const store = openDatabase({ sqlitePath: join(dir, 'nested', 'anlian.db') });
      return {
        store,
        async dispose() {
          await store.close();
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
  },
];

describe.each(factories)('registry on $name', (factory) => {
  registrySuite(factory);
});

describe('openDatabase', () => {
  it('uses WAL and foreign keys for a SQLite file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'anlian-store-'));
    const store = openDatabase({ sqlitePath: join(dir, 'a.db') });
    try {
      expect(store.dialect).toBe('sqlite');
      const { sql } = await import('kysely');
      const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(store.db);
      expect(journal.rows[0]?.journal_mode).toBe('wal');
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(store.db);
      expect(fk.rows[0]?.foreign_keys).toBe(1);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a URL that is not PostgreSQL, and no configuration at all', () => {
    expect(() => openDatabase({ url: 'mysql://x' })).toThrow(/ANL_ERR_DATABASE_CONFIG/);
    expect(() => openDatabase({})).toThrow(/ANL_ERR_DATABASE_CONFIG/);
  });

  it('picks PostgreSQL for postgres:// and postgresql:// URLs without connecting', async () => {
    for (const url of ['postgres://u:p@127.0.0.1:1/db', 'postgresql://u@127.0.0.1:1/db']) {
      const store = openDatabase({ url });
      expect(store.dialect).toBe('postgres');
      await store.close();
    }
  });
});
