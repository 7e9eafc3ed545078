import { chmod, cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ProductionForm, type ProductionFormOptions, startProductionForm } from '@anlian/county/production-form';
import type { SnapshotNotice } from '@anlian/dashboard';
import type { Alert, CountyConfigInput } from '@anlian/protocol';
import { startWebhookReceiver, type WebhookReceiver } from '@anlian/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';

/**
 * What the production-form tests share: a county of test gateways, the form started with a
 * loopback webhook as alerting's channel, gateways over TLS, wall screens on the dashboards'
 * sockets, and waiting.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface TestGateway {
  id: string;
  institution: string;
  secret: string;
  /** Fire detectors (`kind: fire`); one kitchen thermometer `kit-1` is always there. */
  smokeDetectors?: readonly string[];
  /** Cameras (`kind: camera`) on the detectors' floor, for video review; none when left out. */
  cameras?: readonly string[];
}

/** A county of institutions with one gateway each: smoke detectors, a kitchen thermometer, a manager. */
export function testCounty(county: string, name: string, gateways: readonly TestGateway[]): CountyConfigInput {
  return {
    county: { id: county, name, adcode: '500242', center: { lng: 108.77, lat: 28.84 } },
    institutions: gateways.map((g, n) => ({
      id: g.institution,
      name: `测试养老院${n + 1}`,
      address: `测试路${n + 1}号`,
      location: { lng: 108.7 + n * 0.1, lat: 28.8 + n * 0.1 },
      beds: 60,
      gateways: [
        {
          id: g.id,
          secret: g.secret,
          devices: [
            ...(g.smokeDetectors ?? ['smk-1']).map((id, i) => ({
              id,
              kind: 'fire' as const,
              name: `${3 + (i % 4)}F 东走廊 感烟 ${i + 1}`,
              location: { building: '主楼', floor: `${3 + (i % 4)}F`, room: '东走廊' },
            })),
            {
              id: 'kit-1',
              kind: 'kitchen' as const,
              name: '厨房 温度',
              location: { building: '食堂', floor: '1F', room: '厨房' },
            },
            ...(g.cameras ?? []).map((id, i) => ({
              id,
              kind: 'camera' as const,
              name: `3F 东走廊 摄像机 ${i + 1}`,
              location: { building: '主楼', floor: '3F', room: '东走廊' },
            })),
          ],
        },
      ],
      contacts: [{ id: 'mgr', name: '张三', role: 'manager' as const, phone: '13800138000' }],
    })),
  };
}

export interface TestProductionForm {
  form: ProductionForm;
  /** alerting's webhook channel (critical alerts): a county's 119 linkage system, say. */
  webhook: WebhookReceiver;
  dir: string;
  /** Stops the form and the webhook, keeps the services' logs in `bin/test-artifacts/<name>-logs/`, removes the directory. */
  stop(): Promise<void>;
}

/**
 * The production form in a fresh temporary directory, seeded with `county`, alerting pushing
 * critical alerts to a loopback webhook.
 */
export async function startTestProductionForm(
  county: CountyConfigInput,
  opts: Pick<ProductionFormOptions, 'replicas' | 'simulator' | 'logLevel'> & {
    /** More of alerting's environment, e.g. `ANLIAN_ALERTING_PARTITIONS`. */
    alertingEnv?: NodeJS.ProcessEnv;
    /** Names the kept logs (`bin/test-artifacts/<name>-logs/`). Default `production-form`. */
    name?: string;
  } = {},
): Promise<TestProductionForm> {
  const dir = await mkdtemp(path.join(tmpdir(), 'anlian-production-'));
  // As root, PostgreSQL runs as the postgres user, which has to enter this directory.
  await chmod(dir, 0o755);
  const webhook = await startWebhookReceiver();
  try {
    const file = path.join(dir, 'county.json');
    await writeFile(file, JSON.stringify(county));
    const channels = path.join(dir, 'channels.yaml');
    await writeFile(
      channels,
      `channels:\n  - { id: county-119, type: webhook, url: '${webhook.url}', secret: 'a-secret-of-16-chars', minSeverity: critical }\n`,
    );
    const form = await startProductionForm({
      dataDir: path.join(dir, 'cluster'),
      cli: path.join(repoRoot, 'bin', 'anlian.js'),
      countyFile: file,
      replicas: opts.replicas,
      simulator: opts.simulator,
      env: { alerting: { ANLIAN_ALERT_CHANNELS_FILE: channels, ...opts.alertingEnv } },
      logLevel: opts.logLevel ?? 'warn',
    });
    return {
      form,
      webhook,
      dir,
      stop: async () => {
        await form.stop();
        await webhook.stop();
        // What each service logged, for a failure in CI (test-artifacts/ is git-ignored).
        const kept = path.join(repoRoot, 'bin', 'test-artifacts', `${opts.name ?? 'production-form'}-logs`);
        await rm(kept, { recursive: true, force: true });
        await cp(path.join(form.dataDir, 'logs'), kept, { recursive: true }).catch(() => {});
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await webhook.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export async function until<T>(
  what: string,
  fn: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * A gateway over TLS with its own credentials, verifying the county's certificate. Left to
 * itself (`reconnectPeriod: 0`) unless `reconnect` is given: then it reconnects as a real
 * gateway does and mqtt.js re-sends what the broker has not acknowledged.
 */
export async function gatewayOverTls(
  form: ProductionForm,
  g: Pick<TestGateway, 'id' | 'secret'>,
  reconnectPeriodMs = 0,
): Promise<MqttClient> {
  return mqtt.connectAsync(form.broker.tlsUrl, {
    protocolVersion: 4,
    clientId: g.id,
    username: g.id,
    password: g.secret,
    ca: await readFile(form.certificates.caFile),
    reconnectPeriod: reconnectPeriodMs,
    clean: true,
  });
}

export async function counter(url: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) && l.includes(labels));
  return Number(line?.split(' ').at(-1) ?? 0);
}

export interface AlertDelta {
  at: number;
  change: 'raised' | 'updated' | 'cleared';
  alert: Alert;
}

export interface WallScreen {
  socket: Socket;
  cookie: string;
  /** Alert changes as they arrived (deltas). */
  alerts: AlertDelta[];
  /** Video-review pictures announced (`snapshot` deltas), as they arrived. */
  snapshots: { at: number; notice: SnapshotNotice }[];
  /** Every alert id this screen has shown (deltas and the snapshots of each (re)subscription) and when first. */
  seen: Map<string, number>;
  /** How many times it connected (1 + reconnections) and when it last (re)subscribed. */
  connects: number;
  subscribedAt: number;
}

/**
 * A wall screen on one dashboard node: signed in, subscribed to the county room, recording alert
 * deltas. As the web app does (dashboard/web/src/lib/live-room.ts) it subscribes again, taking a
 * fresh snapshot, after every reconnection; socket.io reconnects by itself.
 */
export async function wallScreen(
  baseUrl: string,
  user: { username: string; password: string },
  county: string,
): Promise<WallScreen> {
  const login = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  });
  if (login.status !== 200) throw new Error(`login on ${baseUrl}: ${login.status} ${await login.text()}`);
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  const socket: Socket = io(baseUrl, {
    transports: ['websocket'],
    extraHeaders: { cookie },
    reconnectionDelay: 250,
    reconnectionDelayMax: 1000,
  });
  const wall: WallScreen = {
    socket,
    cookie,
    alerts: [],
    snapshots: [],
    seen: new Map(),
    connects: 0,
    subscribedAt: 0,
  };
  const see = (a: Alert) => {
    if (!wall.seen.has(a.id)) wall.seen.set(a.id, Date.now());
  };
  socket.on(
    'delta',
    (
      d:
        | { room: string; type: 'alert'; data: { change: AlertDelta['change']; alert: Alert } }
        | { room: string; type: 'snapshot'; data: SnapshotNotice }
        | { room: string; type: 'other' },
    ) => {
      if (d.type === 'snapshot') wall.snapshots.push({ at: Date.now(), notice: d.data });
      if (d.type !== 'alert') return;
      wall.alerts.push({ at: Date.now(), change: d.data.change, alert: d.data.alert });
      see(d.data.alert);
    },
  );
  const subscribe = async () => {
    const answer = (await socket.timeout(10_000).emitWithAck('subscribe', { room: `county:${county}` })) as {
      ok: boolean;
      snapshot?: { alerts?: Alert[] };
    };
    if (!answer.ok) throw new Error(`subscribe on ${baseUrl}: ${JSON.stringify(answer)}`);
    for (const a of answer.snapshot?.alerts ?? []) see(a);
    wall.subscribedAt = Date.now();
  };
  const first = new Promise<void>((resolve, reject) => {
    socket.once('connect_error', reject);
    socket.on('connect', () => {
      wall.connects++;
      socket.off('connect_error', reject);
      subscribe().then(resolve, (err: unknown) => {
        // A later reconnection tries again; the first one must succeed.
        if (wall.connects === 1) reject(err);
      });
    });
  });
  await first;
  return wall;
}
