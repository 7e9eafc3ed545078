import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLoadCounty } from '@anlian/device-simulators';
import { AlertChangeMessage, countyTopics, encodePayload, topics } from '@anlian/protocol';
import { openDatabase, partitionOf, Registry } from '@anlian/store';
import {
  type Influxd,
  type Mosquitto,
  startInfluxd,
  startMosquitto,
  startPostgres,
  startWebhookReceiver,
  type TestPostgres,
  type WebhookReceiver,
} from '@anlian/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/**
 * Alerting with no single point of failure (issue 12): two `anlian alerting` processes on one
 * PostgreSQL and one mosquitto, a loopback webhook for the pushes. Kill the node that acts (SIGKILL,
 * nothing saved, nothing given up) with a fire alarm in flight: the other raises it once and
 * pushes it within seconds; at most one duplicate push per failover.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const county = buildLoadCounty({ institutions: 12, devicesPerInstitution: 3, intervalS: 60, countyId: 'hatest' });

interface Node {
  id: string;
  child: ChildProcess;
  url: string;
  out: { text: string };
}

describe('alerting nodes: failover and partitions', () => {
  let postgres: TestPostgres;
  let broker: Mosquitto;
  let influxd: Influxd;
  let hook: WebhookReceiver;
  let dir: string;
  let publisher: MqttClient;
  let changes: AlertChangeMessage[];
  const nodes: Node[] = [];
  let seq = 1;

  beforeAll(async () => {
    [postgres, broker, influxd, hook] = await Promise.all([
      startPostgres(),
      startMosquitto(),
      startInfluxd(),
      startWebhookReceiver(),
    ]);
    dir = await mkdtemp(join(tmpdir(), 'anlian-ha-'));
    const store = openDatabase({ url: postgres.url });
    const { migrateToLatest } = await import('@anlian/store');
    await migrateToLatest(store.db);
    await new Registry(store.db).importCounty(county);
    await store.close();
    await writeFile(
      join(dir, 'channels.yaml'),
      `channels:\n  - { id: test-hook, type: webhook, url: '${hook.url}', secret: 'a-test-secret-of-16+' }\n`,
    );
    publisher = await mqtt.connectAsync(broker.url, { clientId: 'test-gateways' });
    changes = [];
    const watcher = await mqtt.connectAsync(broker.url, { clientId: 'test-watcher', protocolVersion: 5 });
    watcher.on('message', (_t, payload) => changes.push(AlertChangeMessage.parse(JSON.parse(payload.toString()))));
    await watcher.subscribeAsync(countyTopics.allAlertChanges(), { qos: 1 });
    stops.push(() => watcher.endAsync());
  }, 120_000);

  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const n of nodes.splice(0)) n.child.kill('SIGKILL');
  });
  afterAll(async () => {
    for (const s of stops) await s();
    await publisher?.endAsync();
    await Promise.all([postgres?.stop(), broker?.stop(), influxd?.stop(), hook?.stop()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const startNode = async (id: string, partitions: number): Promise<Node> => {
    const out = { text: '' };
    const child = spawn(process.execPath, ['bin/anlian.js', 'alerting'], {
      cwd: ROOT,
      env: {
        ...process.env,
        ANLIAN_NODE_ID: id,
        ANLIAN_DB_URL: postgres.url,
        ANLIAN_DATA_DIR: join(dir, id),
        ANLIAN_BROKER_URL: broker.url,
        INFLUX_URL: influxd.url,
        ANLIAN_ALERTING_PORT: '0',
        ANLIAN_ALERTING_PARTITIONS: String(partitions),
        ANLIAN_ALERT_CHANNELS_FILE: join(dir, 'channels.yaml'),
        ANLIAN_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (d: Buffer) => {
      out.text += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      out.text += d.toString();
    });
    const url = await until(
      () => /API (http:\/\/\S+)\/v1/.exec(out.text)?.[1],
      60_000,
      () => out.text,
    );
    const node = { id, child, url, out };
    nodes.push(node);
    return node;
  };

  const held = async (n: Node): Promise<number[]> => {
    const r = (await (await fetch(`${n.url}/v1/node`)).json()) as { partitions: { held: number[] } };
    return r.partitions.held;
  };

  const fireAlarm = (institution: string) => {
    const inst = county.institutions.find((i) => i.id === institution);
    const gw = inst?.gateways[0];
    const device = gw?.devices.find((d) => d.kind === 'fire');
    if (!inst || !gw || !device) throw new Error(`no fire detector in ${institution}`);
    const address = { county: county.county.id, institution, gateway: gw.id };
    const ts = Date.now();
    publisher.publish(
      topics.event(address, device.id),
      encodePayload('event', { v: 1, ts, seq: seq++, kind: 'fire', event: 'fire', zone: 'test' }),
      { qos: 1 },
    );
    return { key: `fire-alarm:${gw.id}/${device.id}`, gateway: gw.id, device: device.id, at: ts };
  };

  const pushesFor = (gateway: string, device: string) =>
    hook.pushes.filter((p) => {
      const n = p.body.notification as { gateway?: string; device?: { id?: string } } | undefined;
      return n?.gateway === gateway && n.device?.id === device;
    });

  it('one active node and a standby: the standby raises and pushes a fire alarm within seconds of the active node’s death', async () => {
    const a = await startNode('a', 1);
    await until(async () => ((await held(a)).length === 1 ? true : undefined), 15_000);
    const b = await startNode('b', 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect([...(await held(a)), ...(await held(b))]).toEqual([0]);

    const inst = county.institutions[0]?.id ?? '';
    const f1 = fireAlarm(inst);
    await hook.waitFor((p) => pushesFor(f1.gateway, f1.device).includes(p), 10_000);
    const raised1 = await until(() => changes.filter((c) => c.type === 'raised' && c.alert.key === f1.key), 5000);
    expect(raised1.every((c) => c.node === 'a')).toBe(true);

    // The active node dies with a fire alarm on its way: nothing saved, nothing given up.
    a.child.kill('SIGKILL');
    const f2 = fireAlarm(county.institutions[1]?.id ?? '');
    const push2 = await hook.waitFor((p) => pushesFor(f2.gateway, f2.device).includes(p), 15_000);
    expect(push2.at - f2.at).toBeLessThan(5000);
    await until(async () => ((await held(b)).length === 1 ? true : undefined), 5000);

    // Raised once (one open alert per key, whatever the nodes did), by the survivor.
    const raised2 = changes.filter((c) => c.type === 'raised' && c.alert.key === f2.key);
    expect(new Set(raised2.map((c) => c.alert.id)).size).toBe(1);
    expect(raised2[0]?.node).toBe('b');
    // At most one duplicate push per recipient per failover.
    expect(pushesFor(f1.gateway, f1.device).length).toBeLessThanOrEqual(2);
    expect(pushesFor(f2.gateway, f2.device).length).toBeLessThanOrEqual(2);

    // The dead node comes back as a standby; fire alarms keep flowing through the active one.
    const a2 = await startNode('a', 1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await held(a2)).toEqual([]);
    const f3 = fireAlarm(county.institutions[2]?.id ?? '');
    await hook.waitFor((p) => pushesFor(f3.gateway, f3.device).includes(p), 10_000);
    await new Promise((r) => setTimeout(r, 1000));
    expect(pushesFor(f3.gateway, f3.device)).toHaveLength(1);
  }, 180_000);

  it('two active partitions: each node acts for its institutions, and one takes both when the other dies', async () => {
    const partitions = 2;
    const a = await startNode('pa', partitions);
    const b = await startNode('pb', partitions);
    await until(async () => ((await held(a)).length === 1 && (await held(b)).length === 1 ? true : undefined), 20_000);
    const [heldA, heldB] = [await held(a), await held(b)];
    expect([...heldA, ...heldB].sort()).toEqual([0, 1]);

    // Institutions the first test did not use: their fire alarms are new alerts here.
    const fresh = county.institutions.slice(3);
    const institutionIn = (p: number) => {
      const inst = fresh.find((i) => partitionOf(i.id, partitions) === p);
      if (!inst) throw new Error(`no institution in partition ${p}`);
      return inst.id;
    };
    const nodeOf = (p: number) => (heldA.includes(p) ? 'pa' : 'pb');
    for (const p of [0, 1]) {
      const f = fireAlarm(institutionIn(p));
      await hook.waitFor((x) => pushesFor(f.gateway, f.device).includes(x), 10_000);
      const raised = await until(() => changes.find((c) => c.type === 'raised' && c.alert.key === f.key), 5000);
      expect(raised.node).toBe(nodeOf(p));
    }

    // pb dies: pa acts for both partitions; a fire alarm in pb's institutions is pushed within seconds.
    b.child.kill('SIGKILL');
    const orphan = heldB[0] ?? 1;
    await until(async () => ((await held(a)).length === 2 ? true : undefined), 10_000);
    const f = fireAlarm(fresh.filter((i) => partitionOf(i.id, partitions) === orphan).at(-1)?.id ?? '');
    const push = await hook.waitFor((x) => pushesFor(f.gateway, f.device).includes(x), 10_000);
    expect(push.at - f.at).toBeLessThan(5000);
    const raised = await until(() => changes.find((c) => c.type === 'raised' && c.alert.key === f.key), 5000);
    expect(raised.node).toBe('pa');
  }, 180_000);
});

async function until<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
  context: () => string = () => '',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false && !(Array.isArray(v) && v.length === 0)) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms\n${context().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
