import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CountyConfigInput } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import { seedCounty } from '@anlian/store';
import { type Influxd, reservePort, startInfluxd } from '@anlian/testing';
import { queryV1 } from '@anlian/timeseries';
import mqtt, { type MqttClient } from 'mqtt';
import { loadIngestConfig } from '../../src/config.js';
import { type RunningIngest, startIngest } from '../../src/main.js';

export const SECRET = { 'gw-a': 'secret-of-gateway-a', 'gw-b': 'secret-of-gateway-b' } as const;
export const GW_A = { county: 'testcounty', institution: 'inst-a', gateway: 'gw-a' };
export const GW_B = { county: 'testcounty', institution: 'inst-b', gateway: 'gw-b' };

const loc = { building: '主楼', floor: '1F', room: '101室' };
export const TEST_COUNTY: CountyConfigInput = {
  county: { id: 'testcounty', name: '测试县', adcode: '500242' },
  institutions: [
    {
      id: 'inst-a',
      name: '测试敬老院甲',
      address: '测试县甲镇',
      location: { lng: 108.77, lat: 28.84 },
      beds: 60,
      gateways: [
        {
          id: 'gw-a',
          secret: SECRET['gw-a'],
          devices: [
            { id: 'smoke-1', kind: 'fire', name: '烟感 101', location: loc },
            { id: 'kitchen-1', kind: 'kitchen', name: '厨房温度', location: { ...loc, room: '厨房' } },
            { id: 'ext-1', kind: 'extinguisher', name: '灭火器 1F', location: loc, medium: 'dry_powder' },
            { id: 'cam-1', kind: 'camera', name: '出入口摄像机', location: { ...loc, room: '出入口' } },
          ],
        },
      ],
    },
    {
      id: 'inst-b',
      name: '测试敬老院乙',
      address: '测试县乙镇',
      location: { lng: 108.8, lat: 28.9 },
      beds: 40,
      gateways: [
        {
          id: 'gw-b',
          secret: SECRET['gw-b'],
          devices: [{ id: 'kitchen-1', kind: 'kitchen', name: '厨房温度', location: { ...loc, room: '厨房' } }],
        },
      ],
    },
  ],
};

export interface Harness {
  influxd: Influxd;
  dataDir: string;
  mqttPort: number;
  mqttUrl: string;
  env: NodeJS.ProcessEnv;
  ingest?: RunningIngest;
  startIngest(): Promise<RunningIngest>;
  connect(gateway: keyof typeof SECRET, opts?: mqtt.IClientOptions): Promise<MqttClient>;
  count(measurementWhere: string): Promise<number>;
  query(q: string): Promise<unknown[][]>;
  close(): Promise<void>;
}

/** A real influxd, a seeded SQLite store and (on demand) a real ingest with its embedded broker. */
export async function startHarness(extraEnv: NodeJS.ProcessEnv = {}): Promise<Harness> {
  const influxd = await startInfluxd();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'anlian-e2e-'));
  const countyFile = path.join(dataDir, 'county.json');
  await writeFile(countyFile, JSON.stringify(TEST_COUNTY));
  await seedCounty({ file: countyFile, db: { sqlitePath: path.join(dataDir, 'anlian.db') }, print: () => {} });
  // Held until close(): ingest stops and starts again on this port.
  const mqttReservation = await reservePort();
  const mqttPort = mqttReservation.port;
  const env: NodeJS.ProcessEnv = {
    ANLIAN_DATA_DIR: dataDir,
    ANLIAN_MQTT_HOST: '127.0.0.1',
    ANLIAN_MQTT_PORT: String(mqttPort),
    ANLIAN_HTTP_PORT: '0',
    ANLIAN_LOG_LEVEL: 'warn',
    INFLUX_URL: influxd.url,
    INFLUX_FLUSH_INTERVAL_MS: '100',
    ...extraEnv,
  };
  const clients: MqttClient[] = [];
  const target = { url: influxd.url, generation: 1 as const, database: 'anlian' };
  const h: Harness = {
    influxd,
    dataDir,
    mqttPort,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    env,
    async startIngest() {
      h.ingest = await startIngest(loadIngestConfig(env), silentLogger());
      return h.ingest;
    },
    async connect(gateway, opts = {}) {
      const client = await mqtt.connectAsync(h.mqttUrl, {
        clientId: gateway,
        username: gateway,
        password: SECRET[gateway],
        reconnectPeriod: 200,
        connectTimeout: 5000,
        ...opts,
      });
      clients.push(client);
      return client;
    },
    async query(q) {
      const [r] = await queryV1(target, q);
      if (r?.error) throw new Error(r.error);
      return r?.series.flatMap((s) => s.values) ?? [];
    },
    async count(from) {
      const rows = await h.query(`SELECT count(seq) FROM ${from}`);
      return rows.reduce((n, row) => n + Number(row[1] ?? 0), 0);
    },
    async close() {
      for (const c of clients) await c.endAsync(true).catch(() => {});
      await h.ingest?.stop();
      mqttReservation.release();
      await influxd.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns its last value. */
export async function waitFor<T>(fn: () => Promise<T>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await fn();
  while (!last && Date.now() < until) {
    await new Promise((r) => setTimeout(r, everyMs));
    last = await fn();
  }
  return last;
}

export const payload = (o: Record<string, unknown>) => JSON.stringify({ v: 1, ...o });
