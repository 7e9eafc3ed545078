import type { MediaStoredMessage } from '@anlian/protocol';
import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Delta, SnapshotAnswer } from '../src/index.js';
import { fireEvent, type Harness, login, startHarness, statusEvent } from './dashboard-harness.js';

/** socket.io: rooms, snapshot-then-deltas with per-room sequence numbers, recovery after a drop. */
describe('live feed', () => {
  let h: Harness;
  let url: string;
  let operator: string;
  let managerA: string;
  const sockets: Socket[] = [];
  /** Pictures announced on the county bus (`MediaBus.onStored` in `anlian dashboard`). */
  const mediaListeners = new Set<(m: MediaStoredMessage) => void>();

  const open = async (cookie?: string): Promise<Socket> => {
    const s = connect(url, {
      transports: ['websocket'],
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
      ...(cookie ? { extraHeaders: { cookie } } : {}),
    });
    sockets.push(s);
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    return s;
  };
  const subscribe = (s: Socket, room: string) =>
    s.timeout(5000).emitWithAck('subscribe', { room }) as Promise<SnapshotAnswer>;
  /** Collects deltas of one room, and waits for one that matches. */
  const deltas = (s: Socket, room: string) => {
    const got: Delta[] = [];
    const waiters: { pred: (d: Delta) => boolean; resolve: (d: Delta) => void }[] = [];
    s.on('delta', (d: Delta) => {
      if (d.room !== room) return;
      got.push(d);
      for (const w of [...waiters])
        if (w.pred(d)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(d);
        }
    });
    return {
      got,
      next: (pred: (d: Delta) => boolean) =>
        new Promise<Delta>((resolve, reject) => {
          const hit = got.find(pred);
          if (hit) return resolve(hit);
          const timer = setTimeout(
            () => reject(new Error(`no matching delta in ${room}; got ${got.map((d) => d.type).join(',')}`)),
            5000,
          );
          waiters.push({
            pred,
            resolve: (d) => {
              clearTimeout(timer);
              resolve(d);
            },
          });
        }),
    };
  };

  beforeAll(async () => {
    h = await startHarness({
      deps: {
        subscribeMedia: (listener) => {
          mediaListeners.add(listener);
          return () => mediaListeners.delete(listener);
        },
      },
    });
    url = await h.dashboard.listen({ host: '127.0.0.1', port: 0 });
    operator = await login(h, 'operator', h.demo.operator.password);
    managerA = await login(h, 'inst-a', h.demo.managers[0]?.password ?? '');
    h.ingest(statusEvent('inst-a', 'gw-a', 'online'));
    h.ingest(statusEvent('inst-b', 'gw-b', 'online'));
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('refuses a connection without a session', async () => {
    await expect(open()).rejects.toThrow('ANL_DASH_UNAUTHENTICATED');
  });

  it('answers a subscription with a snapshot, then numbered deltas in order', async () => {
    const s = await open(operator);
    const room = 'county:testcounty';
    const feed = deltas(s, room);
    const answer = await subscribe(s, room);
    if (!answer.ok) throw new Error(answer.message);
    const snap = answer.snapshot as { institutions: { id: string; status: string }[] };
    expect(snap.institutions.map((i) => [i.id, i.status])).toEqual([
      ['inst-a', 'normal'],
      ['inst-b', 'normal'],
    ]);

    h.ingest(fireEvent('inst-a', 'gw-a', 'smk-1'));
    const alert = await feed.next((d) => d.type === 'alert');
    const inst = await feed.next((d) => d.type === 'institution');
    expect(alert.seq).toBe(answer.seq + 1);
    expect(alert.data).toMatchObject({
      change: 'raised',
      alert: { institution: 'inst-a', severity: 'critical', status: 'open' },
    });
    expect(inst.data).toMatchObject({ id: 'inst-a', status: 'alarm', pulse: true });
    const seqs = feed.got.map((d) => d.seq);
    expect(seqs).toEqual(seqs.map((_, i) => answer.seq + 1 + i));
  });

  it('keeps a manager to their own institution’s room', async () => {
    const s = await open(managerA);
    expect(await subscribe(s, 'county:testcounty')).toMatchObject({ ok: false, code: 'ANL_DASH_FORBIDDEN' });
    expect(await subscribe(s, 'institution:inst-b')).toMatchObject({ ok: false, code: 'ANL_DASH_FORBIDDEN' });
    expect(await subscribe(s, 'bogus')).toMatchObject({ ok: false, code: 'ANL_DASH_BAD_REQUEST' });
    const own = await subscribe(s, 'institution:inst-a');
    expect(own.ok).toBe(true);
    if (own.ok) expect((own.snapshot as { devices: unknown[] }).devices).toHaveLength(5);
  });

  it('sends device values to the institution room in batches', async () => {
    const s = await open(managerA);
    const room = 'institution:inst-a';
    const feed = deltas(s, room);
    await subscribe(s, room);
    h.ingest({
      type: 'event',
      county: 'testcounty',
      institution: 'inst-a',
      gateway: 'gw-a',
      device: 'kit-1',
      confirmed: true,
      receivedAt: Date.now(),
      payload: { v: 1, ts: Date.now(), seq: 9000, kind: 'kitchen', event: 'test' },
    });
    const d = await feed.next((x) => x.type === 'devices');
    expect(d.data).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ device: 'kit-1', lastEvent: expect.objectContaining({ event: 'test' }) }),
      ]),
    );
  });

  it('replays deltas missed during a short drop (connection state recovery)', async () => {
    const s = await open(operator);
    const room = 'county:testcounty';
    const feed = deltas(s, room);
    const answer = await subscribe(s, room);
    if (!answer.ok) throw new Error(answer.message);
    // Let the server send its first offset so the client can resume from it.
    h.ingest(statusEvent('inst-b', 'gw-b', 'online'));
    await new Promise((r) => setTimeout(r, 300));
    const before = feed.got.length;
    const lastSeq = feed.got.at(-1)?.seq ?? answer.seq;

    const reconnected = new Promise<void>((resolve) => s.once('connect', () => resolve()));
    const dropped = new Promise<void>((resolve) => s.once('disconnect', () => resolve()));
    s.io.engine.close();
    await dropped;
    h.ingest(fireEvent('inst-b', 'gw-b', 'smk-1'));
    await reconnected;
    expect(s.recovered).toBe(true);
    const missed = await feed.next(
      (d) => d.type === 'alert' && (d.data as { alert: { institution: string } }).alert.institution === 'inst-b',
    );
    expect(missed.seq).toBeGreaterThan(lastSeq);
    const seqs = feed.got.slice(before).map((d) => d.seq);
    expect(seqs[0]).toBe(lastSeq + 1);
    expect(seqs).toEqual(seqs.map((_, i) => lastSeq + 1 + i));
  });

  it('gives a new connection a fresh snapshot that already holds what happened', async () => {
    const s = await open(operator);
    const answer = await subscribe(s, 'county:testcounty');
    if (!answer.ok) throw new Error(answer.message);
    const snap = answer.snapshot as {
      institutions: { id: string; status: string }[];
      alerts: { institution: string }[];
    };
    expect(snap.institutions.find((i) => i.id === 'inst-b')?.status).toBe('alarm');
    expect(snap.alerts.map((a) => a.institution).sort()).toEqual(['inst-a', 'inst-b']);
    // Periodic figures may already have gone out after the answer; never before it.
    expect(answer.seq).toBeLessThanOrEqual(h.dashboard.hub.seq('county:testcounty'));
    expect(answer.seq).toBeGreaterThan(0);
  });

  it('pushes a camera’s snapshot of a fire alarm to the institution and county rooms at once (视频复核)', async () => {
    const manager = await open(managerA);
    const wall = await open(operator);
    const instFeed = deltas(manager, 'institution:inst-a');
    const countyFeed = deltas(wall, 'county:testcounty');
    expect((await subscribe(manager, 'institution:inst-a')).ok).toBe(true);
    expect((await subscribe(wall, 'county:testcounty')).ok).toBe(true);
    const causeTs = Date.now() - 1500;
    h.ingest({
      type: 'snapshot',
      county: 'testcounty',
      institution: 'inst-a',
      gateway: 'gw-a',
      device: 'cam-1',
      confirmed: true,
      receivedAt: Date.now(),
      payload: {
        v: 1,
        ts: causeTs + 800,
        seq: 9000,
        kind: 'camera',
        cause: { device: 'smk-1', ts: causeTs, zone: '主楼 1F 101' },
        shot: 0,
        contentType: 'image/jpeg',
        width: 640,
        height: 360,
      },
      media: 'inst-a/20261203/0123456789abcdef0123456789abcdef.jpg',
      bytes: 20_000,
    });
    const expected = {
      institution: 'inst-a',
      detector: 'smk-1',
      causeTs,
      camera: 'cam-1',
      cameraName: '大门 摄像头',
      shot: 0,
      ts: causeTs + 800,
      width: 640,
      height: 360,
      url: '/api/media/inst-a/20261203/0123456789abcdef0123456789abcdef.jpg',
    };
    expect((await instFeed.next((d) => d.type === 'snapshot')).data).toEqual(expected);
    expect((await countyFeed.next((d) => d.type === 'snapshot')).data).toEqual(expected);
  });

  it('pushes a picture another process’s ingest stored (announced on the county bus) as the same notice, to both rooms', async () => {
    const manager = await open(managerA);
    const wall = await open(operator);
    const instFeed = deltas(manager, 'institution:inst-a');
    const countyFeed = deltas(wall, 'county:testcounty');
    expect((await subscribe(manager, 'institution:inst-a')).ok).toBe(true);
    expect((await subscribe(wall, 'county:testcounty')).ok).toBe(true);
    const causeTs = Date.now() - 1500;
    expect(mediaListeners.size).toBe(1);
    for (const l of mediaListeners)
      l({
        v: 1,
        key: 'inst-a/20261203/fedcba9876543210fedcba9876543210.jpg',
        county: 'testcounty',
        institution: 'inst-a',
        gateway: 'gw-a',
        device: 'cam-1',
        contentType: 'image/jpeg',
        bytes: 20_000,
        cause: { device: 'smk-1', ts: causeTs, zone: '主楼 1F 101' },
        shot: 1,
        ts: causeTs + 5800,
        receivedAt: Date.now(),
      });
    const expected = {
      institution: 'inst-a',
      detector: 'smk-1',
      causeTs,
      camera: 'cam-1',
      cameraName: '大门 摄像头',
      shot: 1,
      ts: causeTs + 5800,
      url: '/api/media/inst-a/20261203/fedcba9876543210fedcba9876543210.jpg',
    };
    expect((await instFeed.next((d) => d.type === 'snapshot')).data).toEqual(expected);
    expect((await countyFeed.next((d) => d.type === 'snapshot')).data).toEqual(expected);
  });
});
