import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CountySimulator, loadCountyFile } from '@anlian/device-simulators';
import type { CountyConfigInput } from '@anlian/protocol';
import { fixtureRoom, twoInstitutionCounty } from '@anlian/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Composition, signIn, startComposition, until } from './county-composition.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const loc = (room: string) => fixtureRoom(room, '2F');

/** Two institutions: yy-a behind a simulated gateway and a scripted one, yy-b behind a simulated one. */
const COUNTY: CountyConfigInput = twoInstitutionCounty(
  {
    gateways: [
      {
        id: 'gw-a1',
        secret: 'secret-of-gateway-a1',
        devices: [{ id: 'smoke-a1', kind: 'fire', name: '烟感 201', location: loc('201室') }],
      },
      {
        id: 'gw-a2',
        secret: 'secret-of-gateway-a2',
        devices: [
          { id: 'smoke-a2', kind: 'fire', name: '烟感 202', location: loc('202室') },
          { id: 'smoke-a3', kind: 'fire', name: '烟感 203', location: loc('203室') },
        ],
      },
    ],
  },
  {
    gateways: [
      {
        id: 'gw-b1',
        secret: 'secret-of-gateway-b1',
        devices: [{ id: 'smoke-b1', kind: 'fire', name: '烟感 101', location: loc('101室') }],
      },
    ],
  },
);

/** `anlian drill`, as a person runs it beside the county; resolves with its exit code and output. */
function anlianDrill(c: Composition, scenario: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        'bin/anlian.js',
        'drill',
        '--county',
        c.countyFile,
        '--broker',
        c.brokerUrl,
        '--scenario',
        scenario,
        '--dashboard',
        c.base,
        '--user',
        c.operator.username,
        '--no-natural-faults',
      ],
      {
        cwd: repoRoot,
        env: { ...process.env, ANLIAN_DASHBOARD_PASSWORD: c.operator.password, ANLIAN_BROKER_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.once('exit', (code) => resolve({ code, out }));
  });
}

let c: Composition;
let sim: CountySimulator;
let cookie: string;
let gwA2: MqttClient;
let scenario: string;

const api = async (method: string, url: string, body?: unknown) => {
  const res = await fetch(`${c.base}${url}`, {
    method,
    headers: { cookie, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const gatewayState = async (institution: string, gateway: string) =>
  ((await api('GET', `/api/institutions/${institution}`)).body.gateways as { id: string; state: string }[]).find(
    (g) => g.id === gateway,
  )?.state;

beforeAll(async () => {
  c = await startComposition(COUNTY);
  cookie = await signIn(c.base, c.operator.username, c.operator.password);
  scenario = path.join(c.dir, 'fire-at-yy-b.yaml');
  await writeFile(
    scenario,
    `title: { zh: 龙潭敬老院火警演练, en: Fire drill at Longtan }
description: { zh: 演练, en: Drill }
settle: 4s
faults:
  - { type: fire-alarm, at: 2s, target: { institution: yy-b, kind: fire } }
`,
  );
  // What \`anlian up --demo\` runs: the simulator drives the county's gateways (all but gw-a2,
  // which the test drives itself, sending what it wants when it wants).
  const county = await loadCountyFile(c.countyFile);
  sim = new CountySimulator({
    county: {
      ...county,
      institutions: county.institutions.map((i) => ({ ...i, gateways: i.gateways.filter((g) => g.id !== 'gw-a2') })),
    },
    brokerUrl: c.brokerUrl,
    naturalFaults: false,
  });
  await sim.start();
  gwA2 = await mqtt.connectAsync(c.brokerUrl, {
    clientId: 'gw-a2',
    username: 'gw-a2',
    password: 'secret-of-gateway-a2',
    reconnectPeriod: 0,
  });
  await until(async () => (await gatewayState('yy-b', 'gw-b1')) === 'online', 'the simulated gateways online');
}, 90_000);

afterAll(async () => {
  await gwA2?.endAsync(true).catch(() => {});
  await sim?.stop();
  await c?.close();
});

let seq = 0;
const fire = (device: string, drillId?: string) =>
  gwA2.publishAsync(
    `anlian/v1/youyang/yy-a/gw-a2/device/${device}/event`,
    JSON.stringify({ v: 1, ts: Date.now(), seq: ++seq, kind: 'fire', event: 'fire', ...(drillId ? { drillId } : {}) }),
    { qos: 1 },
  );
const pushOf = (alertId: string) => c.pushes.find((p) => p.notification.alertId === alertId);
const openAlert = (device: string) => c.alerting.service.openAlerts().find((a) => a.device === device);

describe('drills on an `anlian up` composition (embedded broker, ingest, alerting, dashboard, InfluxDB)', () => {
  it('`anlian drill` refuses to take over gateways the running simulator owns', async () => {
    const run = await anlianDrill(c, scenario);
    expect(run.code).toBe(2);
    expect(run.out).toContain('ANL_SIM_GATEWAYS_IN_USE');
    expect(run.out).toContain('gw-b1 (yy-b)');
    expect(run.out).toContain('anlian up --demo --scenario');
    // Nobody was pushed off: the simulator's gateways stay connected, the county raised nothing.
    expect(sim.stats().connected).toBe(2);
    expect(await gatewayState('yy-b', 'gw-b1')).toBe('online');
    expect(c.alerting.service.openAlerts().filter((a) => a.rule === 'gateway-offline')).toEqual([]);
    expect(c.alerting.service.listDrills()).toEqual([]);
  }, 60_000);

  it('a drill from the dashboard starts at its gateways; only its own signals are drill alarms', async () => {
    const created = await api('POST', '/api/drills', {
      name: '桃花源冬季消防演练',
      institutions: ['yy-a'],
      startsAt: Date.now(),
      endsAt: Date.now() + 600_000,
    });
    expect(created.status).toBe(200);
    const id = created.body.id as string;
    // The simulated gateway takes drill mode and says so; the scripted one never answers.
    const answers = await until(
      async () => {
        const drill = ((await api('GET', '/api/drills')).body.drills as { id: string; gateways?: unknown[] }[]).find(
          (d) => d.id === id,
        );
        const g = (drill?.gateways ?? []) as { gateway: string; state: string }[];
        return g.length === 2 && g.every((x) => x.state !== 'sent') ? g : undefined;
      },
      'both gateways answered or timed out',
      30_000,
    );
    expect(answers.map((g) => `${g.gateway} ${g.state}`)).toEqual(['gw-a1 confirmed', 'gw-a2 no_reply']);
    expect(sim.commandsAnswered()).toMatchObject({ 'drill-start': 1 });

    // A fire alarm without the drill's mark during the drill: real, and its push says so.
    await fire('smoke-a2');
    const real = await until(() => openAlert('smoke-a2'), 'the real fire alarm');
    expect(real).toMatchObject({ drill: false, duringDrillId: id });
    const realPush = await until(() => pushOf(real.id), 'its push');
    expect(realPush.message.text).toMatch(/^\[非演练\]【火警】桃花源养老院/);
    expect(realPush.message.text).toContain('非演练：真实火警');
    // The drill's own signal: a drill alarm, pushed with [演练].
    await fire('smoke-a3', id);
    const drill = await until(() => openAlert('smoke-a3'), 'the drill alarm');
    expect(drill).toMatchObject({ drill: true, drillId: id });
    expect((await until(() => pushOf(drill.id), 'its push')).message.text).toMatch(/^\[演练\]【火警】/);

    // Ending it stops drill mode at the gateway that took it.
    expect((await api('POST', `/api/drills/${id}/end`)).status).toBe(200);
    await until(() => sim.commandsAnswered()['drill-stop'] === 1, 'drill-stop answered');
  }, 60_000);

  it('with the simulator gone, `anlian drill` registers its drill, whose alarms are tagged, pushed with [演练] and scored', async () => {
    await sim.stop();
    await until(async () => (await gatewayState('yy-b', 'gw-b1')) !== 'online', 'the simulator’s gateways gone');
    const run = await anlianDrill(c, scenario);
    expect(run.out).not.toContain('ANL_');
    expect(run.code).toBe(0);
    const id = /registered with the county as drill (dr_[0-9a-z]+)/.exec(run.out)?.[1];
    expect(id).toBeDefined();
    expect(run.out).toContain(`Drill ${id}: 1/1 gateways confirmed drill mode; 1 drill alerts`);
    const alert = c.alerting.service.openAlerts().find((a) => a.device === 'smoke-b1' && a.rule === 'fire-alarm');
    expect(alert).toMatchObject({ drill: true, drillId: id });
    expect(pushOf(alert?.id as string)?.message.text).toMatch(/^\[演练\]【火警】龙潭敬老院/);
    const { report } = await c.alerting.service.drillReport(id as string);
    expect(report.summary).toMatchObject({ alerts: 1, silentInstitutions: [] });
  }, 90_000);
});
