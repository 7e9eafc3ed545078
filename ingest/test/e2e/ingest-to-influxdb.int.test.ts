import { topics } from '@anlian/protocol';
import { Registry } from '@anlian/store';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GW_A, GW_B, type Harness, payload, startHarness, waitFor } from './harness.js';

// End to end through the real parts: MQTT publish → embedded broker (auth + ACL) → pipeline →
// spool → influxd 1.6 → InfluxQL.
describe('ingest end to end', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.startIngest();
  });
  afterAll(async () => {
    await h?.close();
  });

  const metric = async (name: string, labels = '') => {
    const res = await h.ingest?.service.http.inject({ url: '/metrics' });
    const line = res?.body.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
    return line ? Number(line.split(' ').pop()) : 0;
  };

  it('stores exactly the points sent, with their values and device times', async () => {
    const a = await h.connect('gw-a');
    const t0 = Date.UTC(2026, 10, 23, 3, 0, 0);
    const sent: { temp: number; ts: number }[] = [];
    let seq = 1000;
    for (let i = 0; i < 200; i++) {
      const temp = 20 + (i % 25) + 0.25;
      const ts = t0 + i * 1000;
      sent.push({ temp, ts });
      await a.publishAsync(
        topics.telemetry(GW_A, 'kitchen-1'),
        payload({ ts, seq: seq++, kind: 'kitchen', temperature: temp }),
        { qos: 1 },
      );
    }
    await a.publishAsync(
      topics.telemetry(GW_A, 'ext-1'),
      payload({ ts: t0, seq: seq++, kind: 'extinguisher', pressure: 1.18 }),
      { qos: 1 },
    );
    await a.publishAsync(
      topics.telemetry(GW_A, 'cam-1'),
      payload({ ts: t0, seq: seq++, kind: 'camera', online: true, streamOk: true, fps: 25 }),
      { qos: 1 },
    );
    await a.publishAsync(
      topics.event(GW_A, 'smoke-1'),
      payload({ ts: t0 + 5, seq: seq++, kind: 'fire', event: 'fire', zone: '1F 东' }),
      { qos: 1 },
    );
    await a.publishAsync(
      topics.heartbeat(GW_A),
      payload({ ts: t0, seq: seq++, uptimeS: 60, queueDepth: 0, adapters: [] }),
      { qos: 1 },
    );

    const where = `kitchen WHERE gateway = 'gw-a' AND time >= ${t0}ms AND time < ${t0 + 200_000}ms`;
    expect(await waitFor(async () => (await h.count(where)) === 200)).toBe(true);
    const rows = await h.query(`SELECT temperature FROM ${where}`);
    expect(rows.map((r) => [r[0], r[1]])).toEqual(sent.map((s) => [s.ts, s.temp]));
    expect(await waitFor(async () => (await h.count(`extinguisher WHERE device = 'ext-1'`)) === 1)).toBe(true);
    expect(await h.query(`SELECT pressure, medium FROM extinguisher WHERE device = 'ext-1'`)).toEqual([
      [t0, 1.18, 'dry_powder'],
    ]);
    expect(await h.query(`SELECT event, zone FROM "events_1y".fire WHERE type = 'event'`)).toEqual([
      [t0 + 5, 'fire', '1F 东'],
    ]);
    expect(await waitFor(async () => (await h.count(`camera`)) === 1)).toBe(true);
    expect(await waitFor(async () => (await h.count(`gateway WHERE type = 'heartbeat'`)) === 1)).toBe(true);
    expect(h.ingest?.service.cache.device('gw-a', 'kitchen-1')?.values).toEqual({ temperature: sent.at(-1)?.temp });
    await a.endAsync();
  });

  it('rejects bad input with a reason and stores every valid message around it', async () => {
    const base = Date.UTC(2026, 10, 23, 5, 0, 0);
    const a = await h.connect('gw-a', { clientId: 'gw-a' });
    const b = await h.connect('gw-b');
    let seqA = 5000;
    let seqB = 1;
    const valid = { a: 0, b: 0 };
    const goodA = async () => {
      valid.a++;
      const s = seqA++;
      await a.publishAsync(
        topics.telemetry(GW_A, 'kitchen-1'),
        payload({ ts: base + s, seq: s, kind: 'kitchen', temperature: 30 }),
        { qos: 1 },
      );
    };
    const goodB = async () => {
      valid.b++;
      const s = seqB++;
      await b.publishAsync(
        topics.telemetry(GW_B, 'kitchen-1'),
        payload({ ts: base + s, seq: s, kind: 'kitchen', temperature: 31 }),
        { qos: 1 },
      );
    };
    const before = {
      json: await metric('anlian_ingest_rejected_total', 'reason="bad_json"'),
      schema: await metric('anlian_ingest_rejected_total', 'reason="bad_schema"'),
      dup: await metric('anlian_ingest_duplicates_total'),
    };

    await goodA();
    // Malformed JSON.
    await a.publishAsync(topics.telemetry(GW_A, 'kitchen-1'), '{"v":1,"ts":', { qos: 1 });
    await goodB();
    // Schema violation: a temperature that is a string.
    await a.publishAsync(
      topics.telemetry(GW_A, 'kitchen-1'),
      payload({ ts: base, seq: seqA++, kind: 'kitchen', temperature: 'hot' }),
      { qos: 1 },
    );
    await goodA();
    // A duplicate sequence number (a QoS 1 redelivery): ignored.
    const dupSeq = seqA - 1;
    await a.publishAsync(
      topics.telemetry(GW_A, 'kitchen-1'),
      payload({ ts: base + dupSeq, seq: dupSeq, kind: 'kitchen', temperature: 99 }),
      { qos: 1 },
    );
    // A device not in the registry under a known gateway: stored and recorded as unconfirmed.
    await a.publishAsync(
      topics.telemetry(GW_A, 'stray-7'),
      payload({ ts: base, seq: seqA++, kind: 'kitchen', temperature: 22 }),
      { qos: 1 },
    );
    await goodB();

    // Wrong password and unknown gateway: refused at CONNECT.
    await expect(
      mqtt.connectAsync(h.mqttUrl, {
        clientId: 'gw-b',
        username: 'gw-b',
        password: 'not-the-secret',
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(
      mqtt.connectAsync(h.mqttUrl, {
        clientId: 'gw-x',
        username: 'gw-x',
        password: 'whatever-secret',
        reconnectPeriod: 0,
      }),
    ).rejects.toThrow(/Bad username or password|Not authorized/i);

    // A topic outside the ACL (gateway A publishing as gateway B), and an oversized payload:
    // from a separate connection of A's, which the broker may drop for it.
    const rogue = await mqtt
      .connectAsync(h.mqttUrl, {
        clientId: 'gw-a-rogue',
        username: 'gw-a',
        password: 'secret-of-gateway-a',
        reconnectPeriod: 0,
      })
      .catch(() => undefined);
    if (rogue) {
      rogue.publish(
        topics.telemetry(GW_B, 'kitchen-1'),
        payload({ ts: base, seq: 999_999, kind: 'kitchen', temperature: 66 }),
        { qos: 1 },
      );
      await new Promise((r) => setTimeout(r, 300));
      rogue.end(true);
    }
    const spoof = await mqtt.connectAsync(h.mqttUrl, {
      clientId: 'gw-a',
      username: 'gw-a',
      password: 'secret-of-gateway-a',
      reconnectPeriod: 0,
    });
    spoof.publish(
      topics.telemetry(GW_B, 'kitchen-1'),
      payload({ ts: base, seq: 999_998, kind: 'kitchen', temperature: 67 }),
      { qos: 1 },
    );
    spoof.publish(topics.telemetry(GW_A, 'kitchen-1'), 'x'.repeat(300 * 1024), { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    spoof.end(true);

    // The valid gateway B is undisturbed throughout.
    await goodB();
    const a2 = await h.connect('gw-a');
    for (let i = 0; i < 3; i++) {
      valid.a++;
      const s = seqA++;
      await a2.publishAsync(
        topics.telemetry(GW_A, 'kitchen-1'),
        payload({ ts: base + s, seq: s, kind: 'kitchen', temperature: 30 }),
        { qos: 1 },
      );
    }

    const window = `time >= ${base}ms AND time < ${base + 1_000_000}ms`;
    expect(
      await waitFor(
        async () =>
          (await h.count(`kitchen WHERE gateway = 'gw-a' AND device = 'kitchen-1' AND ${window}`)) === valid.a,
      ),
    ).toBe(true);
    expect(await waitFor(async () => (await h.count(`kitchen WHERE gateway = 'gw-b' AND ${window}`)) === valid.b)).toBe(
      true,
    );
    // Nothing of the spoofed or oversized messages, nor the duplicate's 99 °C, was stored.
    expect(await h.query(`SELECT temperature FROM kitchen WHERE temperature > 60 AND ${window}`)).toEqual([]);
    expect(await waitFor(async () => (await h.count(`kitchen WHERE device = 'stray-7'`)) === 1)).toBe(true);

    expect(await metric('anlian_ingest_rejected_total', 'reason="bad_json"')).toBe(before.json + 1);
    expect(await metric('anlian_ingest_rejected_total', 'reason="bad_schema"')).toBe(before.schema + 1);
    expect(await metric('anlian_ingest_duplicates_total')).toBe(before.dup + 1);
    expect(await metric('anlian_broker_auth_failures_total', 'reason="bad_secret"')).toBeGreaterThanOrEqual(1);
    expect(await metric('anlian_broker_auth_failures_total', 'reason="unknown_gateway"')).toBeGreaterThanOrEqual(1);
    const denied = await h.ingest?.service.http.inject({ url: '/metrics' });
    expect(denied?.body).toMatch(/anlian_broker_publish_denied_total\{reason="[a-z_]+"\} [1-9]/);
    // …and the stray device is on record as unconfirmed.
    await h.ingest?.service.registry.flushSightings();
    const db = h.ingest?.database.db;
    if (!db) throw new Error('ingest not running');
    expect(await new Registry(db).listUnconfirmedDevices()).toEqual([
      expect.objectContaining({ gatewayId: 'gw-a', deviceId: 'stray-7', kind: 'kitchen', messageCount: 1 }),
    ]);
  });

  it('answers health, readiness and metrics', async () => {
    const app = h.ingest?.service.http;
    expect((await app?.inject({ url: '/healthz' }))?.statusCode).toBe(200);
    const ready = await app?.inject({ url: '/readyz' });
    expect(ready?.statusCode).toBe(200);
    expect(ready?.json()).toMatchObject({
      checks: { broker: { ok: true }, influxdb: { ok: true }, store: { ok: true } },
    });
    const metrics = await app?.inject({ url: '/metrics' });
    expect(metrics?.body).toContain('anlian_ingest_messages_total{type="telemetry"}');
    expect(metrics?.body).toContain('anlian_influx_points_written_total');
  });
});
