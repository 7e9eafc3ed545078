import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadIngestConfig, type RunningIngest, startIngest } from '@anlian/ingest';
import type { CountyConfigInput } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import { seedCounty } from '@anlian/store';
import { type Influxd, reservePort, startInfluxd } from '@anlian/testing';
import { queryV1 } from '@anlian/timeseries';
import mqtt, { type MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { loadAlertingConfig } from '../../src/config.js';
import { type RunningAlerting, startAlerting } from '../../src/main.js';
import { ChannelConfig } from '../../src/notify/channel-config.js';
import type { AlertNotification } from '../../src/notify/notification.js';

export interface ReceivedPush {
  at: number;
  headers: IncomingHttpHeaders;
  body: { idempotencyKey: string; notification: AlertNotification; message: { text: string } };
  status: number;
}

/** A loopback webhook receiver; `respond` decides each answer (default 200). */
export class WebhookReceiver {
  readonly received: ReceivedPush[] = [];
  respond: (push: Omit<ReceivedPush, 'status'>, nth: number) => number | Promise<number> = () => 200;
  #server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const push = {
          at: Date.now(),
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedPush['body'],
        };
        void Promise.resolve(this.respond(push, this.received.length)).then((status) => {
          this.received.push({ ...push, status });
          res.writeHead(status, { 'content-type': 'application/json' }).end('{"ok":true}');
        });
      });
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/anlian`;
  }

  /** Pushes answered 2xx. */
  delivered(): ReceivedPush[] {
    return this.received.filter((r) => r.status < 300);
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }
}

export interface County {
  influxd: Influxd;
  dir: string;
  env: NodeJS.ProcessEnv;
  ingest: RunningIngest;
  alerting: RunningAlerting;
  receiver: WebhookReceiver;
  mqttUrl: string;
  /** Starts alerting again on the same store (after `alerting.stop()`). */
  restartAlerting(): Promise<RunningAlerting>;
  connect(gateway: string, secret: string, opts?: mqtt.IClientOptions): Promise<MqttClient>;
  query(q: string): Promise<unknown[][]>;
  close(): Promise<void>;
}

/** Real influxd, real ingest with its embedded broker, alerting on its events, a webhook receiver. */
export async function startCounty(county: CountyConfigInput, opts: { rulesYaml?: string } = {}): Promise<County> {
  const influxd = await startInfluxd();
  const dir = await mkdtemp(path.join(tmpdir(), 'anlian-alerting-stack-'));
  const countyFile = path.join(dir, 'county.json');
  await writeFile(countyFile, JSON.stringify(county));
  await seedCounty({ file: countyFile, db: { sqlitePath: path.join(dir, 'anlian.db') }, print: () => {} });
  const mqttReservation = await reservePort();
  const mqttPort = mqttReservation.port;
  const env: NodeJS.ProcessEnv = {
    ANLIAN_DATA_DIR: dir,
    ANLIAN_MQTT_HOST: '127.0.0.1',
    ANLIAN_MQTT_PORT: String(mqttPort),
    ANLIAN_HTTP_PORT: '0',
    ANLIAN_LOG_LEVEL: 'silent',
    INFLUX_URL: influxd.url,
    INFLUX_FLUSH_INTERVAL_MS: '100',
    ANLIAN_ALERT_TICK_MS: '100',
  };
  if (opts.rulesYaml) {
    const rulesFile = path.join(dir, 'rules.yaml');
    await writeFile(rulesFile, opts.rulesYaml);
    env.ANLIAN_ALERT_RULES_FILE = rulesFile;
  }
  const ingest = await startIngest(loadIngestConfig(env), silentLogger());
  const receiver = new WebhookReceiver();
  await receiver.start();
  const hook = ChannelConfig.parse({
    id: 'county-hook',
    type: 'webhook',
    url: receiver.url,
    secret: 'a-secret-of-16-chars',
  });
  const launch = () =>
    startAlerting({
      db: ingest.database.db,
      config: loadAlertingConfig(env),
      logger: silentLogger(),
      metrics: new Registry(),
      subscribe: (listener) => ingest.service.pipeline.onEvent(listener),
      events: ingest.service.writer,
      eventsRetentionPolicy: 'events_1y',
      channels: [{ channel: hook }],
      dispatcher: { retry: { baseMs: 50, maxMs: 200 } },
    });
  const clients: MqttClient[] = [];
  const target = { url: influxd.url, generation: 1 as const, database: 'anlian' };
  const c: County = {
    influxd,
    dir,
    env,
    ingest,
    alerting: await launch(),
    receiver,
    mqttUrl: `mqtt://127.0.0.1:${mqttPort}`,
    async restartAlerting() {
      c.alerting = await launch();
      return c.alerting;
    },
    async connect(gateway, secret, o = {}) {
      const client = await mqtt.connectAsync(c.mqttUrl, {
        clientId: gateway,
        username: gateway,
        password: secret,
        reconnectPeriod: 0,
        ...o,
      });
      clients.push(client);
      return client;
    },
    async query(q) {
      const [r] = await queryV1(target, q);
      if (r?.error) throw new Error(r.error);
      return r?.series.flatMap((s) => s.values) ?? [];
    },
    async close() {
      for (const client of clients) await client.endAsync(true).catch(() => {});
      await c.alerting.stop().catch(() => {});
      await ingest.stop();
      await receiver.stop();
      mqttReservation.release();
      await influxd.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return c;
}

/** Polls until `fn` returns a truthy value, or fails after `timeoutMs`. */
export async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A gateway publishing protocol messages with its own sequence. */
export class TestGateway {
  #seq = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  constructor(
    readonly client: MqttClient,
    readonly prefix: string,
  ) {}

  /** Heartbeats every 5 s, so the gateway-offline rule (3 × 30 s) stays quiet during a test. */
  startHeartbeats(): this {
    const beat = () =>
      this.client
        .publishAsync(
          `${this.prefix}/heartbeat`,
          JSON.stringify({ v: 1, ts: Date.now(), seq: ++this.#seq, uptimeS: 10, queueDepth: 0, adapters: [] }),
          { qos: 1 },
        )
        .catch(() => {});
    void beat();
    this.#heartbeat = setInterval(beat, 5000);
    return this;
  }

  stopHeartbeats(): void {
    clearInterval(this.#heartbeat);
  }

  async event(device: string, kind: string, event: string, ts = Date.now()): Promise<void> {
    await this.client.publishAsync(
      `${this.prefix}/device/${device}/event`,
      JSON.stringify({ v: 1, ts, seq: ++this.#seq, kind, event }),
      { qos: 1 },
    );
  }

  async telemetry(device: string, payload: Record<string, unknown>, ts = Date.now()): Promise<void> {
    await this.client.publishAsync(
      `${this.prefix}/device/${device}/telemetry`,
      JSON.stringify({ v: 1, ts, seq: ++this.#seq, ...payload }),
      { qos: 1 },
    );
  }

  async status(state: 'online' | 'offline'): Promise<void> {
    await this.client.publishAsync(
      `${this.prefix}/status`,
      JSON.stringify({ v: 1, ts: Date.now(), seq: ++this.#seq, state, reason: 'connect' }),
      { qos: 1, retain: true },
    );
  }
}
