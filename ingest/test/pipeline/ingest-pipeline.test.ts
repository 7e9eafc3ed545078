import { LatestStateCache } from '@anlian/bus';
import { SequenceWindow, topics } from '@anlian/protocol';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { describe, expect, it } from 'vitest';
import { IngestError } from '../../src/errors.js';
import type { IngestEvent } from '../../src/pipeline/ingest-event.js';
import { IngestPipeline, type LineStore } from '../../src/pipeline/ingest-pipeline.js';
import { RegistryCache, type RegistrySource, type UnconfirmedSighting } from '../../src/pipeline/registry-cache.js';

const gw = { county: 'youyang', institution: 'yy-a', gateway: 'gw-1' };
const ts = Date.UTC(2026, 10, 23, 4);

class MemoryStore implements LineStore {
  lines: string[] = [];
  writes: { n: number; priority: string | undefined }[] = [];
  failNext: Error | undefined;
  hold: Promise<void> | undefined;
  async write(lines: string[], opts?: { priority?: 'event' | 'telemetry' }): Promise<void> {
    await this.hold;
    if (this.failNext && opts?.priority !== 'event') {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    this.writes.push({ n: lines.length, priority: opts?.priority });
    this.lines.push(...lines);
  }
}

async function setup(now?: () => number, simulation?: { runs: 'keep' | 'refuse'; maxClockAheadMs: number }) {
  const sightings: UnconfirmedSighting[] = [];
  const source: RegistrySource = {
    listGateways: async () => [
      { id: 'gw-1', county: 'youyang', institution: 'yy-a', enabled: true },
      { id: 'gw-2', county: 'youyang', institution: 'yy-b', enabled: true },
      { id: 'gw-off', county: 'youyang', institution: 'yy-a', enabled: false },
    ],
    deviceIndex: async () =>
      new Map([
        ['gw-1/k1', { kind: 'kitchen' as const, reportIntervalS: 60 }],
        ['gw-1/s1', { kind: 'fire' as const, reportIntervalS: 300 }],
      ]),
    recordUnconfirmedDevices: async (rows) => {
      sightings.push(...rows);
    },
  };
  const registry = new RegistryCache({ source, logger: silentLogger() });
  await registry.reload();
  const store = new MemoryStore();
  const cache = new LatestStateCache();
  const metrics = createMetricsRegistry({ defaultMetrics: false });
  const pipeline = new IngestPipeline({
    registry,
    store,
    cache,
    window: new SequenceWindow(1024),
    logger: silentLogger(),
    metrics,
    ...(now ? { now } : {}),
    ...(simulation ? { simulation } : {}),
  });
  const events: IngestEvent[] = [];
  pipeline.onEvent((e) => events.push(e));
  const send = (topic: string, payload: unknown, clientId?: string) =>
    pipeline.handle({
      topic,
      payload: Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload)),
      qos: 1,
      retain: false,
      ...(clientId ? { clientId } : {}),
    });
  const metric = async (name: string, labels: Record<string, string> = {}) => {
    const m = (await metrics.getMetricsAsJSON()).find((x) => x.name === name);
    const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
    return v?.value ?? 0;
  };
  /** A histogram bucket's cumulative count (prom-client gives `le` as a number). */
  const bucket = async (name: string, le: number, labels: Record<string, string>) => {
    const m = (await metrics.getMetricsAsJSON()).find((x) => x.name === name);
    const values = (m?.values ?? []) as { metricName?: string; labels: Record<string, unknown>; value: number }[];
    const v = values.find(
      (x) =>
        x.metricName === `${name}_bucket` &&
        x.labels.le === le &&
        Object.entries(labels).every(([k, val]) => x.labels[k] === val),
    );
    return v?.value ?? Number.NaN;
  };
  return { pipeline, store, cache, events, send, metric, bucket, registry, sightings };
}

const kitchen = (seq: number, temperature = 30) => ({ v: 1, ts: ts + seq, seq, kind: 'kitchen', temperature });

describe('IngestPipeline', () => {
  it('stores, caches and emits a valid message, and drops its redelivery', async () => {
    const t = await setup();
    await t.send(topics.telemetry(gw, 'k1'), kitchen(1, 41.5));
    await t.send(topics.telemetry(gw, 'k1'), kitchen(1, 41.5));
    expect(t.store.lines).toHaveLength(1);
    expect(t.store.lines[0]).toMatch(/^kitchen,.*temperature=41.5/);
    expect(t.cache.device('gw-1', 'k1')?.values).toEqual({ temperature: 41.5 });
    expect(t.events.map((e) => e.type)).toEqual(['telemetry']);
    expect(await t.metric('anlian_ingest_duplicates_total')).toBe(1);
  });

  it('measures how late each message arrives, by type', async () => {
    const { send, bucket } = await setup(() => ts + 1_500);
    const t = topics.telemetry(gw, 'k1');
    await send(t, { ...kitchen(1), ts });
    await send(t, { ...kitchen(2), ts: ts + 1_400 });
    const lag = (le: number) => bucket('anlian_ingest_receive_lag_seconds', le, { type: 'telemetry' });
    expect(await lag(0.05)).toBe(0);
    expect(await lag(0.1)).toBe(1);
    expect(await lag(1)).toBe(1);
    expect(await lag(2)).toBe(2);
  });

  it('writes the messages of one event-loop turn in one write per priority', async () => {
    const t = await setup();
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => t.send(topics.telemetry(gw, 'k1'), kitchen(i + 1))),
      t.send(topics.event(gw, 's1'), { v: 1, ts, seq: 100, kind: 'fire', event: 'fire' }),
    ]);
    expect(t.store.writes).toEqual([
      { n: 1, priority: 'event' },
      { n: 50, priority: 'telemetry' },
    ]);
  });

  it('rejects each kind of bad input with its reason and keeps going', async () => {
    const t = await setup();
    await t.send('anlian/v1/youyang/yy-a/gw-1/device/k1/bogus', kitchen(1));
    await t.send(topics.telemetry(gw, 'k1'), '{"v":1,');
    await t.send(topics.telemetry(gw, 'k1'), { v: 1, ts, kind: 'kitchen', temperature: 20 });
    await t.send(topics.telemetry({ ...gw, gateway: 'gw-9' }, 'k1'), kitchen(2));
    await t.send(topics.telemetry({ ...gw, gateway: 'gw-off' }, 'k1'), kitchen(3));
    await t.send(topics.telemetry({ ...gw, institution: 'yy-b' }, 'k1'), kitchen(4));
    await t.send(topics.telemetry(gw, 'k1'), kitchen(5), 'gw-2');
    await t.send(topics.telemetry(gw, 's1'), kitchen(6));
    await t.send(topics.telemetry(gw, 'k1'), kitchen(7));
    const reasons = [
      'bad_topic',
      'bad_json',
      'bad_schema',
      'unknown_gateway',
      'gateway_mismatch',
      'client_mismatch',
      'kind_mismatch',
    ];
    for (const reason of reasons)
      expect(await t.metric('anlian_ingest_rejected_total', { reason }), reason).toBe(
        reason === 'unknown_gateway' ? 2 : 1,
      );
    expect(t.store.lines).toHaveLength(1);
    expect(t.store.lines[0]).toContain('seq=7i');
  });

  it('stores data of an unregistered device as unconfirmed and records the sighting', async () => {
    const t = await setup();
    await t.send(topics.telemetry(gw, 'new-1'), kitchen(1));
    await t.send(topics.telemetry(gw, 'new-1'), kitchen(2));
    expect(t.store.lines).toHaveLength(2);
    expect(t.store.lines[0]).toContain('unconfirmed=T');
    expect(t.events[0]).toMatchObject({ type: 'telemetry', device: 'new-1', confirmed: false });
    await t.registry.flushSightings();
    expect(t.sightings).toEqual([
      expect.objectContaining({ gatewayId: 'gw-1', deviceId: 'new-1', kind: 'kitchen', count: 2 }),
    ]);
  });

  it('emits a fire alarm before its storage write completes', async () => {
    const t = await setup();
    let release!: () => void;
    t.store.hold = new Promise((r) => {
      release = r;
    });
    const handled = t.send(topics.event(gw, 's1'), { v: 1, ts, seq: 1, kind: 'fire', event: 'fire', zone: '3F' });
    await new Promise((r) => setImmediate(r));
    expect(t.events).toEqual([
      expect.objectContaining({ type: 'event', device: 's1', payload: expect.objectContaining({ event: 'fire' }) }),
    ]);
    expect(t.store.lines).toHaveLength(0);
    release();
    await handled;
    expect(t.store.lines).toHaveLength(1);
  });

  it('refuses telemetry with a reason when the spool is full', async () => {
    const t = await setup();
    t.store.failNext = new IngestError('ANL_ERR_SPOOL_FULL', 'full');
    await t.send(topics.telemetry(gw, 'k1'), kitchen(1));
    expect(await t.metric('anlian_ingest_rejected_total', { reason: 'spool_full' })).toBe(1);
  });

  it('does not acknowledge a message it could not store, and accepts its redelivery', async () => {
    const t = await setup();
    t.store.failNext = new Error('disk on fire');
    await expect(t.send(topics.telemetry(gw, 'k1'), kitchen(1))).rejects.toThrow('disk on fire');
    await t.send(topics.telemetry(gw, 'k1'), kitchen(1));
    expect(t.store.lines).toHaveLength(1);
  });

  it('does not acknowledge a redelivery before its original is stored', async () => {
    const t = await setup();
    let fail!: (e: Error) => void;
    t.store.hold = new Promise((_, reject) => {
      fail = reject;
    });
    const original = t.send(topics.telemetry(gw, 'k1'), kitchen(1));
    await new Promise((r) => setImmediate(r));
    const copy = t.send(topics.telemetry(gw, 'k1'), kitchen(1));
    let copySettled = false;
    void copy.then(
      () => {
        copySettled = true;
      },
      () => {
        copySettled = true;
      },
    );
    await new Promise((r) => setImmediate(r));
    expect(copySettled).toBe(false);
    fail(new Error('disk gone'));
    await expect(original).rejects.toThrow('disk gone');
    await expect(copy).rejects.toThrow('disk gone');
    // The next redelivery is taken, not dropped as a duplicate.
    t.store.hold = undefined;
    await t.send(topics.telemetry(gw, 'k1'), kitchen(1));
    expect(t.store.lines).toHaveLength(1);
  });

  it('restarts the duplicate window when a gateway comes online with a lower counter', async () => {
    const t = await setup();
    for (let s = 1; s <= 5; s++) await t.send(topics.telemetry(gw, 'k1'), kitchen(s));
    await t.send(topics.status(gw), { v: 1, ts: ts + 10, seq: 0, state: 'online', reason: 'connect' });
    await t.send(topics.telemetry(gw, 'k1'), kitchen(1));
    expect(t.store.lines.filter((l) => l.startsWith('kitchen'))).toHaveLength(6);
    expect(t.cache.gateway('gw-1')).toMatchObject({ state: 'online' });
  });
});

describe('simulated time (issue 13, design.md)', () => {
  const now = ts + 3_600_000;
  const run = 'sim-speed60';
  const sim = (seq: number, ahead: number, extra: object = {}) => ({
    ...kitchen(seq, 70),
    ts: now + ahead,
    simRun: run,
    ...extra,
  });

  it('keeps a simulation run apart: tagged sim_run, out of the latest state, emitted marked', async () => {
    const t = await setup(() => now, { runs: 'keep', maxClockAheadMs: 300_000 });
    await t.send(topics.telemetry(gw, 'k1'), sim(1, 5 * 3_600_000));
    await t.send(topics.status(gw), { v: 1, ts: now + 7_200_000, seq: 2, state: 'online', simRun: run });
    expect(t.store.lines[0]).toMatch(
      /^kitchen,county=youyang,device=k1,gateway=gw-1,institution=yy-a,sim_run=sim-speed60,type=telemetry /,
    );
    // The run id is the tag, not a field as well.
    expect(t.store.lines[0]).not.toContain('simRun');
    expect(t.store.lines[1]).toMatch(/^gateway,.*,sim_run=sim-speed60,type=status /);
    // Its readings are not the device's latest state; its gateway is connected now, as of its arrival.
    expect(t.cache.device('gw-1', 'k1')).toBeUndefined();
    expect(t.cache.gateways()[0]).toMatchObject({ gateway: 'gw-1', state: 'online', since: now });
    expect(t.events.map((e) => [e.type, e.payload.simRun])).toEqual([
      ['telemetry', run],
      ['status', run],
    ]);
    expect(await t.metric('anlian_ingest_kept_apart_total', { reason: 'sim_run' })).toBe(2);
  });

  it('refuses a simulation run when configured to, acknowledged and counted', async () => {
    const t = await setup(() => now, { runs: 'refuse', maxClockAheadMs: 300_000 });
    await expect(t.send(topics.telemetry(gw, 'k1'), sim(1, 0))).resolves.toBeUndefined();
    expect(t.store.lines).toEqual([]);
    expect(t.events).toEqual([]);
    expect(await t.metric('anlian_ingest_rejected_total', { reason: 'sim_run' })).toBe(1);
  });

  it('keeps apart an unmarked point dated beyond the clock-skew bound, but not old store-and-forward history', async () => {
    const t = await setup(() => now, { runs: 'refuse', maxClockAheadMs: 300_000 });
    // A device clock 2 h fast: stored apart; still live for the alarm path and the latest state.
    await t.send(topics.event(gw, 's1'), { v: 1, ts: now + 7_200_000, seq: 1, kind: 'fire', event: 'fire' });
    // Within the bound: a live point.
    await t.send(topics.telemetry(gw, 'k1'), { ...kitchen(2), ts: now + 200_000 });
    // Three hours of a queue replayed after an outage: real history, stored as it is.
    await t.send(topics.telemetry(gw, 'k1'), { ...kitchen(3), ts: now - 3 * 3_600_000 });
    expect(t.store.lines.find((l) => l.startsWith('fire,'))).toMatch(/,sim_run=clock-ahead,type=event /);
    expect(t.store.lines.filter((l) => l.startsWith('kitchen,')).every((l) => !l.includes('sim_run'))).toBe(true);
    expect(t.events.map((e) => e.type)).toEqual(['event', 'telemetry', 'telemetry']);
    expect(t.cache.device('gw-1', 's1')).toBeDefined();
    expect(await t.metric('anlian_ingest_kept_apart_total', { reason: 'clock_ahead' })).toBe(1);
  });
});
