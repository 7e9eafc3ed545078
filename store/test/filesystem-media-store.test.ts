import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FilesystemMediaStore } from '../src/media/filesystem-media-store.js';
import type { NewMedia } from '../src/media/media-store.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const T = Date.UTC(2026, 11, 3, 2, 0, 0);
const shot = (over: Partial<NewMedia> = {}): NewMedia => ({
  county: 'youyang',
  institution: 'inst-a',
  gateway: 'gw-a',
  device: 'cam-1',
  contentType: 'image/jpeg',
  cause: { device: 'smoke-1', ts: T, zone: '主楼 3F' },
  shot: 0,
  ts: T + 200,
  ...over,
});

describe('filesystem media store', () => {
  it('stores, finds by the fire alarm it documents, overwrites a redelivery, purges by age', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'anlian-media-'));
    dirs.push(root);
    const store = new FilesystemMediaStore({ root });
    const jpeg = Buffer.from([0xff, 0xd8, 1, 2, 3]);
    const a = await store.put(shot(), jpeg, T + 1000);
    const b = await store.put(shot({ device: 'cam-2', shot: 1 }), jpeg, T + 1000);
    await store.put(shot({ cause: { device: 'smoke-9', ts: T } }), jpeg, T + 1000);
    // A redelivered snapshot lands on the same key.
    expect((await store.put(shot(), jpeg, T + 2000)).key).toBe(a.key);
    expect(a.key).toMatch(/^inst-a\/20261203\/[a-f0-9]{32}\.jpg$/);

    const got = await store.get(a.key);
    expect(got?.data.equals(jpeg)).toBe(true);
    expect(got?.record).toMatchObject({ institution: 'inst-a', device: 'cam-1', bytes: 5 });
    expect(await store.get('../../etc/passwd')).toBeUndefined();

    const found = await store.findByCause('inst-a', 'smoke-1', T - 60_000, T + 60_000);
    expect(found.map((r) => r.key)).toEqual([a.key, b.key]);
    expect(await store.findByCause('inst-b', 'smoke-1', T - 60_000, T + 60_000)).toEqual([]);
    expect(await store.findByCause('inst-a', 'smoke-1', T + 1, T + 60_000)).toEqual([]);

    expect(await store.purge(T)).toBe(0);
    expect(await store.purge(T + 40 * 86_400_000)).toBe(3);
    expect(await readdir(path.join(root, 'inst-a'))).toEqual([]);
  });
});
