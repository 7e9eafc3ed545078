import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { topics } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import { mosquittoHash, openDatabase, Registry, seedCounty } from '@anlian/store';
import { type Influxd, type Mosquitto, startInfluxd, startMosquitto } from '@anlian/testing';
import { queryV1 } from '@anlian/timeseries';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMosquittoAuthFiles } from '../../src/broker/mosquitto-config.js';
import { loadIngestConfig } from '../../src/config.js';
import { type RunningIngest, startIngest } from '../../src/main.js';
import { GW_A, payload, SECRET, TEST_COUNTY, waitFor } from './harness.js';

// External-broker mode end to end: a real mosquitto 2 with the password and ACL files that
// `anlian broker-config` writes, two full ingest replicas on one MQTT 5 shared subscription,
// a real influxd. Every message is stored once, and each replica took a share.
describe('two ingest replicas on one shared subscription', () => {
  let influxd: Influxd;
  let broker: Mosquitto;
  const dirs: string[] = [];
  const replicas: RunningIngest[] = [];

  beforeAll(async () => {
    influxd = await startInfluxd();
    const authDir = await mkdtemp(path.join(tmpdir(), 'anlian-mq-auth-'));
    dirs.push(authDir);
    const countyFile = path.join(authDir, 'county.json');
    await writeFile(countyFile, JSON.stringify(TEST_COUNTY));
    // Each replica has its own data directory (a spool is never shared) with the same registry.
    const dataDirs = [
      await mkdtemp(path.join(tmpdir(), 'anlian-replica-')),
      await mkdtemp(path.join(tmpdir(), 'anlian-replica-')),
    ];
    dirs.push(...dataDirs);
    for (const d of dataDirs) {
      await seedCounty({ file: countyFile, db: { sqlitePath: path.join(d, 'anlian.db') }, print: () => {} });
    }
    const store = openDatabase({ sqlitePath: path.join(dataDirs[0] ?? '', 'anlian.db') });
    const credentials = await new Registry(store.db).mosquittoCredentials();
    await store.close();
    await writeMosquittoAuthFiles({
      credentials,
      ingestUser: { username: 'ingest', mosquittoHash: mosquittoHash('ingest-password-1') },
      dir: authDir,
    });
    broker = await startMosquitto({ authDir, configExtra: 'max_queued_messages 100000' });
    for (const [i, d] of dataDirs.entries()) {
      const config = loadIngestConfig({
        ANLIAN_DATA_DIR: d,
        ANLIAN_BROKER_URL: broker.url,
        ANLIAN_BROKER_USERNAME: 'ingest',
        ANLIAN_BROKER_PASSWORD: 'ingest-password-1',
        ANLIAN_BROKER_CLIENT_ID: `ingest-${i + 1}`,
        ANLIAN_HTTP_PORT: '0',
        INFLUX_URL: influxd.url,
        INFLUX_FLUSH_INTERVAL_MS: '100',
      });
      replicas.push(await startIngest(config, silentLogger()));
    }
  });

  afterAll(async () => {
    for (const r of replicas) await r.stop();
    await broker?.stop();
    await influxd?.stop();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('stores every message exactly once and splits the load', async () => {
    const gw = await mqtt.connectAsync(broker.url, {
      clientId: 'gw-a',
      username: 'gw-a',
      password: SECRET['gw-a'],
      protocolVersion: 5,
    });
    const total = 3000;
    const base = Date.UTC(2026, 10, 23, 8, 0, 0);
    const acks: Promise<unknown>[] = [];
    for (let seq = 0; seq < total; seq++) {
      acks.push(
        gw.publishAsync(
          topics.telemetry(GW_A, 'kitchen-1'),
          payload({ ts: base + seq, seq, kind: 'kitchen', temperature: 24 }),
          {
            qos: 1,
          },
        ),
      );
    }
    await Promise.all(acks);
    await gw.endAsync();

    const target = { url: influxd.url, generation: 1 as const, database: 'anlian' };
    const stored = async () => {
      const [r] = await queryV1(
        target,
        `SELECT count(seq) FROM kitchen WHERE time >= ${base}ms AND time < ${base + total}ms`,
      );
      return Number(r?.series[0]?.values[0]?.[1] ?? 0);
    };
    expect(await waitFor(async () => (await stored()) === total, 60_000, 200)).toBe(true);

    const accepted = await Promise.all(
      replicas.map(async (r) => {
        const body = (await r.service.http.inject({ url: '/metrics' })).body;
        return Number(/^anlian_ingest_messages_total\{type="telemetry"\} (\d+)/m.exec(body)?.[1] ?? 0);
      }),
    );
    // No duplicates: together the replicas accepted each message once; and both took a share.
    expect(accepted.reduce((a, b) => a + b, 0)).toBe(total);
    for (const n of accepted) expect(n).toBeGreaterThan(0);
  });
});
