import { existsSync } from 'node:fs';
import { startPostgres, type TestPostgres } from '@anlian/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/database.js';
import { type DialectFactory, registrySuite } from './registry-suite.js';

const factories: DialectFactory[] = [
  {
    name: 'PostgreSQL',
    async open() {
      const pg = await startPostgres();
      const store = openDatabase({ url: pg.url });
      return {
        store,
        async dispose() {
          await store.close();
          await pg.stop();
        },
      };
    },
  },
];

describe.each(factories)('registry on $name', (factory) => {
  registrySuite(factory);
});

describe('startPostgres', () => {
  let pg: TestPostgres | undefined;
  beforeAll(async () => {
    pg = await startPostgres({ database: 'probe' });
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('serves a database on 127.0.0.1 and removes everything on stop', async () => {
    if (!pg) throw new Error('not started');
    expect(pg.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/probe$/);
    const store = openDatabase({ url: pg.url });
    const { sql } = await import('kysely');
    const r = await sql<{ n: number; db: string }>`select 42::int8 as n, current_database() as db`.execute(store.db);
    // int8 comes back as a number, not pg's default string.
    expect(r.rows[0]).toEqual({ n: 42, db: 'probe' });
    await store.close();
    const dataDirs = pg.logTail();
    expect(typeof dataDirs).toBe('string');
    await pg.stop();
    await pg.stop(); // idempotent
    pg = undefined;
  });

  it('names the package to install when the binaries are missing', async () => {
    expect(existsSync('/nonexistent/bin/initdb')).toBe(false);
    await expect(startPostgres({ binDir: '/nonexistent/bin' })).rejects.toThrow(/apt-get install postgresql/);
  });
});
