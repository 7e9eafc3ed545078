import { reservePort } from '@anlian/testing';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { LanMqttAdapter, LanReject } from '../src/adapters/lan-mqtt-adapter.js';
import { buildGateway } from '../src/gateway-service.js';
import { silentLogger } from '../src/logger.js';
import { testDevices } from './support/county-ingest.js';
import { gatewayConfig, tempDir, waitFor } from './support/gateway-fixture.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe('LAN MQTT adapter', () => {
  it('rejects malformed sensor messages with a reason and keeps taking good ones', async () => {
    const data = await tempDir();
    cleanups.push(data.remove);
    const devices = testDevices(10); // dev-006 is an extinguisher gauge, dev-009 a kitchen sensor
    // Nothing listens at the county address: the readings stay queued, which is all this test needs.
    const silent = await reservePort();
    cleanups.push(() => silent.release());
    const county = `mqtt://127.0.0.1:${silent.port}`;
    const gateway = buildGateway({
      config: gatewayConfig({
        url: county,
        dataDir: data.dir,
        devices,
        overrides: {
          county: { url: county, password: 'x-secret-x', reconnect: { initialMs: 60_000, maxMs: 60_000 } },
          adapters: [
            {
              type: 'lan-mqtt',
              host: '127.0.0.1',
              port: 0,
              mappings: [
                { topic: 'sensors/{device}/telemetry', message: 'telemetry', fields: { temp: 'temperature' } },
                { topic: 'sensors/{device}/event', message: 'event' },
              ],
            },
          ],
        },
      }),
      logger: silentLogger(),
    });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    const adapter = gateway.adapters()[0] as LanMqttAdapter;
    const rejects: LanReject[] = [];
    adapter.on('reject', (r) => rejects.push(r));

    const sensor = await mqtt.connectAsync(`mqtt://127.0.0.1:${adapter.port}`, {
      clientId: 'sensor-1',
      reconnectPeriod: 0,
    });
    cleanups.push(() => sensor.endAsync(true));
    const watcher = await mqtt.connectAsync(`mqtt://127.0.0.1:${adapter.port}`, {
      clientId: 'installer',
      reconnectPeriod: 0,
    });
    cleanups.push(() => watcher.endAsync(true));
    const reported: { reason: string; detail: string; topic: string }[] = [];
    watcher.on('message', (_t, p) => reported.push(JSON.parse(p.toString()) as (typeof reported)[number]));
    await watcher.subscribeAsync('gateway/rejected', { qos: 0 });

    const bad: [string, string, string][] = [
      ['sensors/dev-000/telemetry', '{"battery": 87', 'bad_json'],
      ['sensors/dev-000/telemetry', '[1,2]', 'bad_json'],
      ['sensors/ghost-1/telemetry', '{"battery": 87}', 'unknown_device'],
      ['sensors/dev-000/telemetry', '{"battery": 870}', 'bad_reading'],
      ['sensors/dev-000/telemetry', '{"kind": "kitchen", "temperature": 30}', 'kind_mismatch'],
      ['sensors/dev-000/event', '{"event": "overheat"}', 'bad_reading'],
      ['sensors/dev-006/telemetry', '{"battery": 50}', 'bad_reading'],
      ['sensors/dev-000/telemetry', '{"battery": 87, "ts": "yesterday"}', 'bad_reading'],
      ['elsewhere/dev-000', '{"battery": 87}', 'unmapped_topic'],
    ];
    for (const [topic, payload] of bad) await sensor.publishAsync(topic, payload, { qos: 1 });
    expect(rejects.map((r) => r.reason)).toEqual(bad.map((b) => b[2]));
    expect(rejects[3]?.detail).toMatch(/battery/);
    expect(rejects[6]?.detail).toMatch(/pressure/);
    expect(gateway.queue.depth()).toBe(0);

    // The same connection goes on: good readings are queued (field renames applied).
    await sensor.publishAsync('sensors/dev-009/telemetry', '{"temp": 41.5}', { qos: 1 });
    await sensor.publishAsync('sensors/dev-001/event', '{"event": "fire", "zone": "3F"}', { qos: 1 });
    expect(sensor.connected).toBe(true);
    expect(gateway.queue.stats().depth).toMatchObject({ telemetry: 1, alarm: 1 });
    expect(await waitFor(() => reported.length === bad.length)).toBe(true);
    expect(reported.map((r) => r.reason)).toEqual(bad.map((b) => b[2]));
    expect(adapter.health()).toMatchObject({ ok: true });
    expect(adapter.counts).toEqual({
      accepted: 2,
      rejected: { bad_json: 2, unknown_device: 1, bad_reading: 4, kind_mismatch: 1, unmapped_topic: 1 },
    });
  });
});
