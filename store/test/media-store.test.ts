import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/database.js';
import { DatabaseMediaStore } from '../src/media/database-media-store.js';
import { FilesystemMediaStore } from '../src/media/filesystem-media-store.js';
import { openMediaStore } from '../src/media/open-media-store.js';
import { migrateToLatest } from '../src/migrate.js';
import { type MediaStoreFactory, mediaStoreSuite, shot, T } from './media-store-suite.js';

const filesystem: MediaStoreFactory = {
  name: 'the filesystem',
  async open() {
    const root = await mkdtemp(path.join(tmpdir(), 'anlian-media-'));
    return {
      media: new FilesystemMediaStore({ root }),
      dispose: () => rm(root, { recursive: true, force: true }),
    };
  },
};

const sqlite: MediaStoreFactory = {
  name: 'SQLite (database store)',
  async open() {
    const dir = await mkdtemp(path.join(tmpdir(), 'anlian-media-db-'));
    const store = openDatabase({ sqlitePath: path.join(dir, 'anlian.db') });
    await migrateToLatest(store.db);
    return {
      media: new DatabaseMediaStore({ db: store.db }),
      async dispose() {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

describe.each([filesystem, sqlite])('media store on $name', (factory) => {
  mediaStoreSuite(factory);
});

describe('filesystem media store', () => {
  it('keeps each institution’s pictures in a folder of its own and removes emptied days', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'anlian-media-'));
    try {
      const store = new FilesystemMediaStore({ root });
      const a = await store.put(shot(), Buffer.from([0xff, 0xd8, 1, 2, 3]), T + 1000);
      expect(await readdir(path.join(root, 'inst-a', '20261203'))).toEqual([
        path.basename(a.key),
        `${path.basename(a.key)}.json`,
      ]);
      expect(await store.purge(T + 40 * 86_400_000)).toBe(1);
      expect(await readdir(path.join(root, 'inst-a'))).toEqual([]);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe('openMediaStore', () => {
  it('chooses files under the data directory on SQLite, the store’s media table on PostgreSQL', () => {
    const store = openDatabase({ sqlitePath: ':memory:' });
    try {
      expect(openMediaStore(store, '/var/lib/anlian')).toBeInstanceOf(FilesystemMediaStore);
      expect(openMediaStore({ db: store.db, dialect: 'postgres' }, '/var/lib/anlian')).toBeInstanceOf(
        DatabaseMediaStore,
      );
    } finally {
      void store.close();
    }
  });
});
