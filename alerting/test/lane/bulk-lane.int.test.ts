import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { buildLoadCounty } from '@anlian/device-simulators';
import { encodePayload, type GatewayAddress, topics } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import { openStore, Registry, storeLocation } from '@anlian/store';
import { type Mosquitto, type NullInflux, startMosquitto, startNullInflux } from '@anlian/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/lifecycle/alert.js';
import { loadAlertingServiceConfig } from '../../src/service-config.js';
import { type AlertingServiceHandle, startAlertingService } from '../../src/service-main.js';

/**
 * The alarm lane apart from the bulk lane in `anlian alerting` (issue 12 item 3), on a real
 * mosquitto with the node's persistent sessions: the bulk lane's thread is parked (as a thread
 * buried under telemetry would be) with 10,000 telemetry messages queued for it, and a fire
 * alarm is still raised and pushed; the telemetry rules raise through the thread once it runs;
 * a thread that dies is noticed (/readyz), replaced, and what the broker kept for its session
 * meanwhile raises its alert.
 */

const CONTROL_CHANNEL = 'anlian-test-bulk-lane-control';
const county = buildLoadCounty({ institutions: 3, devicesPerInstitution: 12, intervalS: 60, countyId: 'lanetest' });
for (const i of county.institutions) {
  i.contacts = [{ id: `${i.id}-m`, name: '院长', role: 'manager', phone: '13800138000' }];
}

function address(institution: string): GatewayAddress & { devices: { id: string; kind: string }[] } {
  const inst = county.institutions.find((i) => i.id === institution);
  const gw = inst?.gateways[0];
  if (!inst || !gw) throw new Error(`no ${institution}`);
  return { county: county.county.id, institution, gateway: gw.id, devices: gw.devices };
}

describe('anlian alerting: the alarm lane never waits on the bulk lane', () => {
  let broker: Mosquitto;
  let influx: NullInflux;
  let dir: string;
  let node: AlertingServiceHandle;
  let publisher: MqttClient;
  const control = new BroadcastChannel(CONTROL_CHANNEL);
  const raised: Alert[] = [];
  const pushed: string[] = [];
  const seqs = new Map<string, number>();

  beforeAll(async () => {
    // The queue of deploy/mosquitto/mosquitto.conf: mosquitto's default (1,000) would drop the
    // telemetry queued for the parked lane beyond it.
    [broker, influx] = await Promise.all([
      startMosquitto({ configExtra: 'max_queued_messages 200000\nmax_queued_bytes 0' }),
      startNullInflux(),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'anlian-lane-'));
    const env = {
      ANLIAN_NODE_ID: 'lane-test',
      ANLIAN_DATA_DIR: dir,
      ANLIAN_BROKER_URL: broker.url,
      INFLUX_URL: influx.url,
      ANLIAN_ALERTING_PORT: '0',
      ANLIAN_ALERT_TICK_MS: '200',
      ANLIAN_LOG_LEVEL: 'fatal',
    };
    const store = await openStore(storeLocation({ ANLIAN_DATA_DIR: dir, ANLIAN_DB_URL: undefined }), silentLogger());
    await new Registry(store.db).importCounty(county);
    await store.close();
    node = await startAlertingService(loadAlertingServiceConfig(env), {
      bulkLaneEntry: new URL('./controllable-bulk-lane-worker.mjs', import.meta.url),
    });
    node.node.service.onChange((c) => {
      if (c.type === 'raised') raised.push(c.alert);
    });
    node.node.stream.subscribe((e) => pushed.push(e.notification.alertId));
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'lane-test-gateways' });
  }, 120_000);

  afterAll(async () => {
    control.close();
    await publisher?.endAsync();
    await node?.stop();
    await Promise.all([broker?.stop(), influx?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const nextSeq = (gateway: string) => {
    const n = (seqs.get(gateway) ?? 0) + 1;
    seqs.set(gateway, n);
    return n;
  };
  const deviceOf = (a: ReturnType<typeof address>, kind: string) => {
    const d = a.devices.find((x) => x.kind === kind);
    if (!d) throw new Error(`no ${kind} at ${a.institution}`);
    return d.id;
  };
  const kitchen = (a: ReturnType<typeof address>, temperature: number) =>
    publisher.publishAsync(
      topics.telemetry(a, deviceOf(a, 'kitchen')),
      encodePayload('telemetry', { v: 1, ts: Date.now(), seq: nextSeq(a.gateway), kind: 'kitchen', temperature }),
      { qos: 1 },
    );
  const fire = (a: ReturnType<typeof address>) =>
    publisher.publishAsync(
      topics.event(a, deviceOf(a, 'fire')),
      encodePayload('event', {
        v: 1,
        ts: Date.now(),
        seq: nextSeq(a.gateway),
        kind: 'fire',
        event: 'fire',
        zone: '3F',
      }),
      { qos: 1 },
    );
  const alertOf = (rule: string, gateway: string) => raised.find((a) => a.rule === rule && a.gateway === gateway);
  const bulkLaneReady = async () => {
    const body = (await (await fetch(`${node.url}/readyz`)).json()) as { checks: { bulkLane: { ok: boolean } } };
    return body.checks.bulkLane.ok;
  };

  it('raises and pushes a fire alarm while the bulk lane is parked with 10,000 messages queued; the telemetry rules raise through it once it runs', async () => {
    const a = address('load-0001');
    const b = address('load-0002');
    await until(() => bulkLaneReady(), 30_000, 'bulk lane ready');

    const flag = new Int32Array(new SharedArrayBuffer(4));
    control.postMessage({ type: 'block', flag: flag.buffer });
    await until(() => Atomics.load(flag, 0) === 1, 10_000, 'bulk lane thread parked');

    // A kitchen at 60 °C (kitchen-heat-alarm, a bulk rule) behind 10,000 ordinary readings.
    for (let i = 0; i < 10_000; i++) void kitchen(b, 25);
    await kitchen(b, 60);
    await fire(a);

    const alarm = await until(() => alertOf('fire-alarm', a.gateway), 20_000, 'fire alarm raised');
    await until(() => pushed.includes(alarm.id), 20_000, 'fire alarm pushed');
    // Raised and pushed while the bulk lane's thread was still parked with the telemetry.
    expect(Atomics.load(flag, 0)).toBe(1);
    expect(alertOf('kitchen-heat-alarm', b.gateway)).toBeUndefined();

    Atomics.store(flag, 0, 0);
    Atomics.notify(flag, 0);
    const heat = await until(() => alertOf('kitchen-heat-alarm', b.gateway), 60_000, 'kitchen heat alarm raised');
    expect(heat).toMatchObject({ institution: b.institution, severity: 'critical', status: 'open' });
    await until(() => pushed.includes(heat.id), 20_000, 'kitchen heat alarm pushed');
    expect(raised.filter((x) => x.rule === 'fire-alarm')).toHaveLength(1);
  });

  it('notices a bulk lane thread that dies, starts another, and raises what the broker kept for the lane meanwhile', async () => {
    const c = address('load-0003');
    await until(() => bulkLaneReady(), 30_000, 'bulk lane ready');
    control.postMessage({ type: 'crash' });
    await until(async () => !(await bulkLaneReady()), 10_000, '/readyz failing on the dead bulk lane');
    // Published while no thread reads the bulk session: the broker keeps it for the next one.
    await kitchen(c, 60);
    const heat = await until(
      () => alertOf('kitchen-heat-alarm', c.gateway),
      60_000,
      'kitchen heat alarm after restart',
    );
    expect(heat.institution).toBe(c.institution);
    await until(() => bulkLaneReady(), 30_000, 'bulk lane ready again');
    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/^anlian_bulk_lane_restarts_total(\{[^}]*\})? 1$/m);
    // The alarm lane kept going all along.
    await fire(c);
    await until(() => alertOf('fire-alarm', c.gateway), 20_000, 'fire alarm after restart');
  });
});

async function until<T>(probe: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
