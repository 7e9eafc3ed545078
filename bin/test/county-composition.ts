import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AlertingNode, loadAlertingConfig, type StreamNotification } from '@anlian/alerting';
import { type AllInOneCounty, startAllInOne } from '@anlian/county';
import { loadDashboardConfig, seedDemoUsers } from '@anlian/dashboard';
import { loadIngestConfig, type RunningIngest } from '@anlian/ingest';
import type { CountyConfigInput } from '@anlian/protocol';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { seedCounty } from '@anlian/store';
import { freePort, startInfluxd } from '@anlian/testing';
import { queryV1 } from '@anlian/timeseries';

export interface Composition {
  dir: string;
  countyFile: string;
  env: NodeJS.ProcessEnv;
  county: AllInOneCounty;
  ingest: RunningIngest;
  alerting: AlertingNode;
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
 * The county `anlian up` runs (`startAllInOne`, the same composition), on free ports in a
 * temporary directory with a real influxd: ingest with its embedded broker, the county's gateway
 * commands on that broker in process, alerting on ingest's events, the dashboard, the demo users.
 * No simulator: a test adds what drives the gateways.
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
      ANLIAN_DASHBOARD_HOST: '127.0.0.1',
      ANLIAN_DASHBOARD_PORT: '0',
      ANLIAN_LOG_LEVEL: 'silent',
      INFLUX_URL: influxd.url,
      INFLUX_FLUSH_INTERVAL_MS: '100',
      ANLIAN_ALERT_TICK_MS: '200',
      ...extraEnv,
    };
    const config = loadIngestConfig(env);
    const county = await startAllInOne({
      ingest: config,
      alerting: loadAlertingConfig(env),
      dashboard: loadDashboardConfig(env),
      logger: silentLogger(),
      metrics: createMetricsRegistry(),
      webRoot: null,
    });
    teardown.push(() => county.stop());
    const pushes: StreamNotification[] = [];
    const unsubscribe = county.alerting.stream.subscribe((n) => pushes.push(n));
    teardown.push(async () => unsubscribe());
    const demo = await seedDemoUsers(county.ingest.database.db, county.county ?? '');
    const target = config.influx.target;
    return {
      dir,
      countyFile,
      env,
      county,
      ingest: county.ingest,
      alerting: county.alerting,
      base: county.dashboardUrl ?? '',
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
