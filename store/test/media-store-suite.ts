import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { MediaStore, NewMedia } from '../src/media/media-store.js';

/** Opens a fresh, empty media store and says how to dispose of it. */
export interface MediaStoreFactory {
  name: string;
  open(): Promise<{ media: MediaStore; dispose(): Promise<void> }>;
}

const DAY = 86_400_000;
/** 2026-12-03 02:00 UTC. */
export const T = Date.UTC(2026, 11, 3, 2, 0, 0);

export const shot = (over: Partial<NewMedia> = {}): NewMedia => ({
  county: 'youyang',
  institution: 'inst-a',
  gateway: 'gw-a',
  device: 'cam-1',
  contentType: 'image/jpeg',
  cause: { device: 'smoke-1', ts: T, zone: '主楼 3F' },
  shot: 0,
  ts: T + 200,
  width: 640,
  height: 360,
  ...over,
});

/** A JPEG's worth of bytes: SOI, random body (every byte value, so no encoding can pass by luck), EOI. */
const jpeg = (n: number): Buffer =>
  Buffer.concat([Buffer.from([0xff, 0xd8]), randomBytes(n), Buffer.from([0xff, 0xd9])]);

/**
 * What every `MediaStore` promises (media-store.ts): the same cases against the filesystem store,
 * the database store on SQLite and on PostgreSQL, so that the all-in-one and the production form
 * behave alike.
 */
export function mediaStoreSuite(factory: MediaStoreFactory): void {
  let media: MediaStore;
  let dispose: () => Promise<void>;
  beforeEach(async () => {
    ({ media, dispose } = await factory.open());
  });
  afterEach(async () => {
    await dispose();
  });

  it('stores a picture and gives back its bytes and record by key; unknown and malformed keys find nothing', async () => {
    // The largest picture a snapshot may carry (protocol's MAX_SNAPSHOT_IMAGE_BYTES, 90 KiB).
    const data = jpeg(90 * 1024 - 4);
    const a = await media.put(shot(), data, T + 1000);
    expect(a.key).toMatch(/^inst-a\/20261203\/[a-f0-9]{32}\.jpg$/);
    expect(a).toEqual({
      ...shot(),
      key: a.key,
      bytes: 90 * 1024,
      receivedAt: T + 1000,
    });
    const got = await media.get(a.key);
    expect(got?.data.equals(data)).toBe(true);
    expect(got?.record).toEqual(a);

    // Optional fields left out stay out (no nulls in a record).
    const bare = await media.put(
      {
        county: 'youyang',
        institution: 'inst-a',
        gateway: 'gw-a',
        device: 'cam-2',
        contentType: 'image/jpeg',
        cause: { device: 'smoke-1', ts: T },
        shot: 1,
        ts: T + 5200,
      },
      jpeg(10),
      T + 6000,
    );
    expect((await media.get(bare.key))?.record).toEqual(bare);
    expect(Object.keys(bare).sort()).toEqual(
      [
        'bytes',
        'cause',
        'contentType',
        'county',
        'device',
        'gateway',
        'institution',
        'key',
        'receivedAt',
        'shot',
        'ts',
      ].sort(),
    );
    expect(bare.cause).toEqual({ device: 'smoke-1', ts: T });

    expect(await media.get('inst-a/20261203/00000000000000000000000000000000.jpg')).toBeUndefined();
    expect(await media.get('../../etc/passwd')).toBeUndefined();
    expect(await media.get(`${a.key}' or '1'='1`)).toBeUndefined();
  });

  it('is idempotent per (gateway, camera, cause, shot): a redelivery, also a concurrent one, lands on the same key once', async () => {
    const first = jpeg(1000);
    const a = await media.put(shot(), first, T + 1000);
    const again = await media.put(shot(), first, T + 2000);
    expect(again.key).toBe(a.key);
    // Two replicas racing with the same snapshot after a failover.
    const raced = await Promise.all([
      media.put(shot({ shot: 1 }), first, T + 3000),
      media.put(shot({ shot: 1 }), first, T + 3000),
    ]);
    expect(raced[0].key).toBe(raced[1].key);
    const found = await media.findByCause('inst-a', 'smoke-1', T - 60_000, T + 60_000);
    expect(found.map((r) => r.key)).toEqual([a.key, raced[0].key]);
    expect((await media.get(a.key))?.data.equals(first)).toBe(true);
    // Another gateway's camera of the same name, or another cause, is another picture.
    expect((await media.put(shot({ gateway: 'gw-b' }), first, T)).key).not.toBe(a.key);
    expect((await media.put(shot({ cause: { device: 'smoke-1', ts: T + 1 } }), first, T)).key).not.toBe(a.key);
  });

  it('finds an alarm’s pictures by institution, detector and cause time (window inclusive, across midnight), in shot then camera order', async () => {
    const data = jpeg(100);
    const b = await media.put(shot({ device: 'cam-2', shot: 1 }), data, T + 1000);
    const a2 = await media.put(shot({ device: 'cam-2' }), data, T + 1000);
    const a1 = await media.put(shot(), data, T + 1000);
    await media.put(shot({ cause: { device: 'smoke-9', ts: T } }), data, T + 1000);
    await media.put(shot({ institution: 'inst-b', gateway: 'gw-b' }), data, T + 1000);
    expect((await media.findByCause('inst-a', 'smoke-1', T - 60_000, T + 60_000)).map((r) => r.key)).toEqual([
      a1.key,
      a2.key,
      b.key,
    ]);
    expect((await media.findByCause('inst-a', 'smoke-1', T, T)).map((r) => r.key)).toHaveLength(3);
    expect(await media.findByCause('inst-a', 'smoke-1', T + 1, T + 60_000)).toEqual([]);
    expect(await media.findByCause('inst-a', 'smoke-1', T - 60_000, T - 1)).toEqual([]);
    expect(await media.findByCause('inst-c', 'smoke-1', T - 60_000, T + 60_000)).toEqual([]);
    const [inB] = await media.findByCause('inst-b', 'smoke-1', T - 60_000, T + 60_000);
    expect(inB).toMatchObject({ institution: 'inst-b', gateway: 'gw-b', width: 640, cause: { zone: '主楼 3F' } });

    // An alarm just before midnight UTC and its pictures' window reaching into the next day.
    const late = Date.UTC(2026, 11, 3, 23, 59, 58);
    const l0 = await media.put(shot({ cause: { device: 'smoke-2', ts: late }, ts: late + 100 }), data, late + 1000);
    const l1 = await media.put(
      shot({ cause: { device: 'smoke-2', ts: late + 4000 }, ts: late + 4100 }),
      data,
      late + 5000,
    );
    expect(l1.key).toMatch(/^inst-a\/20261204\//);
    expect((await media.findByCause('inst-a', 'smoke-2', late - 600_000, late + 60_000)).map((r) => r.key)).toEqual([
      l0.key,
      l1.key,
    ]);
  });

  it('purges by the time pictures were stored and says how many', async () => {
    const data = jpeg(100);
    const old = [
      await media.put(shot(), data, T + 1000),
      await media.put(shot({ device: 'cam-2' }), data, T + 1000),
      await media.put(shot({ institution: 'inst-b', gateway: 'gw-b' }), data, T + 1000),
    ];
    const later = T + 2 * DAY;
    const recent = await media.put(
      shot({ cause: { device: 'smoke-1', ts: later }, ts: later + 200 }),
      data,
      later + 1000,
    );
    expect(await media.purge(T)).toBe(0);
    expect(await media.purge(T + DAY)).toBe(3);
    for (const r of old) expect(await media.get(r.key)).toBeUndefined();
    expect((await media.get(recent.key))?.data.equals(data)).toBe(true);
    expect(await media.findByCause('inst-a', 'smoke-1', T - DAY, later + DAY)).toEqual([recent]);
    expect(await media.purge(T + DAY)).toBe(0);
    expect(await media.purge(later + 40 * DAY)).toBe(1);
    expect(await media.get(recent.key)).toBeUndefined();
  });
}
