import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  loadAlertingConfig,
  type RunningAlerting,
  type StreamNotification,
  startAlerting,
  TransportGatewayCommands,
} from '@anlian/alerting';
import { alertsPortFrom, buildDashboard, type Dashboard, migrateDashboard, seedDemoUsers } from '@anlian/dashboard';
import { EmbeddedBroker, loadIngestConfig, type RunningIngest, startIngest } from '@anlian/ingest';
import type { CountyConfigInput } from '@anlian/protocol';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { seedCounty } from '@anlian/store';
import { freePort, startInfluxd } from '@anlian/testing';
import { queryV1 } from '@anlian/timeseries';

export interface Composition {
  dir: string;
  countyFile: string;
  env: NodeJS.ProcessEnv;
  ingest: RunningIngest;
  alerting: RunningAlerting;
  dashboard: Dashboard;
  /** The dashboard's base URL. */
  base: string;
  brokerUrl: string;
  operator: { username: string; password: string };
  /** Every push, as the dashboard stream channel delivered it. */
  pushes: StreamNotification[];
  query(q: string): Promise<unknown[][]>;
  close(): Promise<void>;
}

/**
 * The county as `anlian up` composes it (bin/src/up.ts), on free ports in a temporary directory:
 * a real influxd, ingest with its embedded broker, the county's gateway commands on that broker in
 * process (`TransportGatewayCommands` on `countyLink()`), alerting on ingest's events, the dashboard on
 * alerting, and the demo users. No simulator: a test adds what drives the gateways.
 */
export async function startComposition(
  countyConfig: CountyConfigInput,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<Composition> {
  const teardown: (() => Promise<unknown>)[] = [];
  const close = async () => {
    const failures: unknown[] = [];
    for (const step of teardown.splice(0).reverse()) await step().catch((err: unknown) => failures.push(err));
    if (failures.length > 0) throw new AggregateError(failures, 'composition teardown failed');
  };
  try {
    const influxd = await startInfluxd();
    teardown.push(() => influxd.stop());
    const dir = await mkdtemp(path.join(tmpdir(), 'anlian-composition-'));
    teardown.push(() => rm(dir, { recursive: true, force: true }));
    const countyFile = path.join(dir, 'county.json');
    await writeFile(countyFile, JSON.stringify(countyConfig));
    await seedCounty({ file: countyFile, db: { sqlitePath: path.join(dir, 'anlian.db') }, print: () => {} });
    const mqttPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ANLIAN_DATA_DIR: dir,
      ANLIAN_MQTT_HOST: '127.0.0.1',
      ANLIAN_MQTT_PORT: String(mqttPort),
      ANLIAN_HTTP_PORT: '0',
      ANLIAN_LOG_LEVEL: 'silent',
      INFLUX_URL: influxd.url,
      INFLUX_FLUSH_INTERVAL_MS: '100',
      ANLIAN_ALERT_TICK_MS: '200',
      ...extraEnv,
    };
    const config = loadIngestConfig(env);
    const logger = silentLogger();
    const metrics = createMetricsRegistry();
    const ingest = await startIngest(config, logger, metrics);
    teardown.push(() => ingest.stop());
    const broker = ingest.service.source;
    if (!(broker instanceof EmbeddedBroker)) throw new Error('the composition runs the embedded broker');
    const county = await ingest.database.db.selectFrom('counties').select('id').executeTakeFirstOrThrow();
    const commands = new TransportGatewayCommands({ transport: broker.countyLink(), county: county.id, logger });
    await commands.start();
    teardown.push(() => commands.stop());
    const alerting = await startAlerting({
      db: ingest.database.db,
      config: loadAlertingConfig(env),
      logger,
      metrics,
      subscribe: (listener) => ingest.service.pipeline.onEvent(listener),
      events: ingest.service.writer,
      eventsRetentionPolicy: config.influx.eventsRetentionPolicy,
      commands,
    });
    teardown.push(() => alerting.stop());
    const pushes: StreamNotification[] = [];
    const unsubscribe = alerting.stream.subscribe((n) => pushes.push(n));
    teardown.push(async () => unsubscribe());

    await migrateDashboard(ingest.database.db);
    const demo = await seedDemoUsers(ingest.database.db, county.id);
    const dashboard = await buildDashboard({
      db: ingest.database.db,
      cache: ingest.service.cache,
      subscribeIngest: (listener) => ingest.service.pipeline.onEvent(listener),
      queryInflux: (q) => queryV1(config.influx.target, q),
      alerts: alertsPortFrom(alerting.service),
      logger,
      webRoot: null,
    });
    await dashboard.start();
    teardown.push(() => dashboard.stop());
    const base = await dashboard.listen({ host: '127.0.0.1', port: 0 });
    const target = config.influx.target;
    return {
      dir,
      countyFile,
      env,
      ingest,
      alerting,
      dashboard,
      base,
      brokerUrl: `mqtt://127.0.0.1:${mqttPort}`,
      operator: demo.operator,
      pushes,
      async query(q) {
        const [r] = await queryV1(target, q);
        if (r?.error) throw new Error(r.error);
        return r?.series.flatMap((s) => s.values) ?? [];
      },
      close,
    };
  } catch (err) {
    await close().catch(() => {
      // The start-up error is the one to report.
    });
    throw err;
  }
}

/** Polls until `fn` returns a truthy value, or fails after `timeoutMs`. */
export async function until<T>(fn: () => T | Promise<T>, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Signs in to the dashboard; returns the session cookie. */
export async function signIn(base: string, username: string, password: string): Promise<string> {
  const res = await fetch(`${base}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  if (!res.ok) throw new Error(`sign-in failed: ${res.status}`);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
}
