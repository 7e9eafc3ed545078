import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CountySimulator, loadCountyFile, loadScenario } from '@anlian/device-simulators';
import type { CountyConfigInput } from '@anlian/protocol';
import { fixtureRoom, twoInstitutionCounty } from '@anlian/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Composition, signIn, startComposition, until } from './county-composition.js';

const loc = (room: string) => fixtureRoom(room, '1F');

/** yy-a: a live gateway the test drives; yy-b: a gateway the accelerated simulator drives. */
const COUNTY: CountyConfigInput = twoInstitutionCounty(
  {
    gateways: [
      {
        id: 'gw-a',
        secret: 'secret-of-gateway-a',
        devices: [{ id: 'kit-a', kind: 'kitchen', name: '厨房温度', location: loc('厨房'), reportIntervalS: 600 }],
      },
    ],
  },
  {
    gateways: [
      {
        id: 'gw-b',
        secret: 'secret-of-gateway-b',
        devices: [
          { id: 'kit-b', kind: 'kitchen', name: '厨房温度', location: loc('厨房'), reportIntervalS: 60 },
          { id: 'smoke-b', kind: 'fire', name: '烟感 101', location: loc('101室') },
        ],
      },
    ],
  },
);

let c: Composition;
let cookie: string;
let sim: CountySimulator;
let gw: MqttClient;
const now = Date.now();

beforeAll(async () => {
  c = await startComposition(COUNTY, { ANLIAN_SIM_RUNS: 'keep' });
  cookie = await signIn(c.base, c.operator.username, c.operator.password);
  // `--speed 60` over yy-b: an hour of simulated kitchen readings a minute, and a fire alarm.
  const scenario = path.join(c.dir, 'fire.yaml');
  await writeFile(
    scenario,
    `title: { zh: 火警, en: Fire }
description: { zh: 火警, en: Fire }
faults:
  - { type: fire-alarm, at: 2m, target: { institution: yy-b, kind: fire } }
`,
  );
  const county = await loadCountyFile(c.countyFile);
  sim = new CountySimulator({
    county: { ...county, institutions: county.institutions.filter((i) => i.id === 'yy-b') },
    brokerUrl: c.brokerUrl,
    speed: 60,
    scenario: await loadScenario(scenario),
    naturalFaults: false,
  });
  await sim.start();
  gw = await mqtt.connectAsync(c.brokerUrl, {
    clientId: 'gw-a',
    username: 'gw-a',
    password: 'secret-of-gateway-a',
    reconnectPeriod: 0,
  });
}, 90_000);

afterAll(async () => {
  await gw?.endAsync(true).catch(() => {});
  await sim?.stop();
  await c?.close();
});

let seq = 0;
const reading = (temperature: number, ts: number) =>
  gw.publishAsync(
    'anlian/v1/youyang/yy-a/gw-a/device/kit-a/telemetry',
    JSON.stringify({ v: 1, ts, seq: ++seq, kind: 'kitchen', temperature }),
    { qos: 1 },
  );
const history = async (institution: string) => {
  const res = await fetch(`${c.base}/api/institutions/${institution}/history?measure=kitchen&range=24h`, {
    headers: { cookie },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as { series: { device: string; points: [number, number | null][] }[] };
};

describe('simulated time on an `anlian up` composition (real broker, ingest, alerting, InfluxDB, dashboard)', () => {
  it('stores a --speed 60 run apart (tag sim_run), and the charts and the rules leave it out', async () => {
    const run = sim.simRun;
    expect(run).toMatch(/^sim-/);
    // Ten simulated minutes of its readings run ahead of the wall clock, the fire alarm among them.
    await until(
      () => sim.stats().faultsFired === 1 && sim.stats().simNowMs > now + 10 * 60_000,
      'the run’s fire alarm',
      30_000,
    );
    const stored = await until(async () => {
      const rows = await c.query(`SELECT count(temperature) FROM kitchen WHERE "sim_run" = '${run}'`);
      return (rows[0]?.[1] as number) >= 5 ? rows : undefined;
    }, 'the run’s points in InfluxDB');
    expect(stored[0]?.[1]).toBeGreaterThanOrEqual(5);
    const fire = await c.query(`SELECT count(seq) FROM events_1y.fire WHERE "sim_run" = '${run}' AND "event" = 'fire'`);
    expect(fire[0]?.[1]).toBe(1);
    // Nothing of it is live: no untagged point, no chart line, no latest value, no alert.
    expect(
      await c.query(`SELECT count(temperature) FROM kitchen WHERE "institution" = 'yy-b' AND "sim_run" = ''`),
    ).toEqual([]);
    expect((await history('yy-b')).series).toEqual([]);
    expect(c.ingest.service.cache.device('gw-b', 'kit-b')).toBeUndefined();
    expect(c.alerting.service.openAlerts()).toEqual([]);
    // Its gateway is connected, though, and not reported offline.
    expect(c.ingest.service.cache.gateway('gw-b')?.state).toBe('online');
  }, 60_000);

  it('keeps a gateway’s replayed history, leaves out a point from a fast clock, and breaks the line across the gap', async () => {
    // Store-and-forward after a 3-hour outage: the queued readings keep their (real, old) times.
    await reading(31, now - 200 * 60_000);
    await reading(31, now - 195 * 60_000);
    // Live again.
    await reading(30, Date.now());
    // A device clock two hours fast, unmarked: kept apart, never drawn into the future.
    await reading(99, Date.now() + 2 * 3_600_000);
    await until(
      async () =>
        ((await c.query(`SELECT count(temperature) FROM kitchen WHERE "institution" = 'yy-a'`))[0]?.[1] as number) ===
        4,
      'the four yy-a readings in InfluxDB',
    );
    expect(await c.query(`SELECT temperature FROM kitchen WHERE "sim_run" = 'clock-ahead'`)).toHaveLength(1);

    const [series, ...others] = (await history('yy-a')).series;
    expect(others).toEqual([]);
    const values = (series?.points ?? []).map(([, v]) => v);
    // The replayed and the live readings are there; the fast clock's 99 °C is not.
    expect(new Set(values.filter((v) => v !== null))).toEqual(new Set([31, 30]));
    // Ten-minute buckets: nothing for about three hours between them is a run of null points (a
    // break in the chart's line), not a line drawn across the outage.
    const gap = values.slice(values.lastIndexOf(31) + 1, values.indexOf(30));
    expect(gap.length).toBeGreaterThanOrEqual(15);
    expect(gap.every((v) => v === null)).toBe(true);
  }, 60_000);
});
