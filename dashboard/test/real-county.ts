import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { alertingApiOf, loadAlertingConfig, type RunningAlerting, startAlerting } from '@anlian/alerting';
import { CountySimulator } from '@anlian/device-simulators';
import { loadIngestConfig, type RunningIngest, startIngest } from '@anlian/ingest';
import type { CountyConfig } from '@anlian/protocol';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { readCountyFile, seedCounty } from '@anlian/store';
import { freePort, startInfluxd } from '@anlian/testing';
import { queryV1 } from '@anlian/timeseries';
import {
  buildDashboard,
  type Dashboard,
  type DashboardDeps,
  type DemoUsers,
  migrateDashboard,
  seedDemoUsers,
} from '../src/index.js';
import { demoCountyEvents } from './demo-county-feed.js';
import { ScriptedGateway } from './scripted-gateway.js';

export interface RealCounty {
  county: CountyConfig;
  ingest: RunningIngest;
  alerting: RunningAlerting;
  dashboard: Dashboard;
  demo: DemoUsers;
  /** The dashboard's base URL. */
  base: string;
  /** Ingest's embedded broker, where gateways log in with their id and secret. */
  brokerUrl: string;
  /** Every gateway but the scripted one (and `ownGateways`), as `anlian up --demo` drives them. */
  simulator: CountySimulator;
  /** The gateway whose detector the test sets off. */
  gateway: ScriptedGateway;
  close(): Promise<void>;
}

/**
 * The county as `anlian up --demo` runs it, on free ports in a temporary directory: a real influxd,
 * ingest with its embedded broker, alerting on ingest's events (`startAlerting`), the dashboard on
 * `alertingApiOf(alerting.service)`, and the device simulator driving the county's gateways —
 * all but `scriptedGateway`, which the test drives itself (`ScriptedGateway`) so that it can set
 * off one detector on demand.
 */
export async function startRealCounty(opts: {
  countyFile: string;
  scriptedGateway: string;
  /** Gateways the test runs itself (a real `buildGateway`): neither simulated nor scripted. */
  ownGateways?: readonly string[];
  webRoot: string;
  /** Simulated seconds per real second: devices report every 1–5 simulated minutes. */
  speed: number;
  dashboard?: Partial<DashboardDeps>;
}): Promise<RealCounty> {
  const teardown: (() => Promise<unknown>)[] = [];
  const close = async () => {
    // Teardown goes on past a failed step, so nothing is left running; the failures are thrown after.
    const failures: unknown[] = [];
    for (const step of teardown.splice(0).reverse()) {
      await step().catch((err: unknown) => failures.push(err));
    }
    if (failures.length > 0) throw new AggregateError(failures, 'real county teardown failed');
  };

  try {
    const influxd = await startInfluxd();
    teardown.push(() => influxd.stop());
    const dir = await mkdtemp(path.join(tmpdir(), 'anlian-dashboard-e2e-'));
    teardown.push(() => rm(dir, { recursive: true, force: true }));
    await seedCounty({ file: opts.countyFile, db: { sqlitePath: path.join(dir, 'anlian.db') }, print: () => {} });
    const county = await readCountyFile(opts.countyFile);
    const mqttPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      ANLIAN_DATA_DIR: dir,
      ANLIAN_MQTT_HOST: '127.0.0.1',
      ANLIAN_MQTT_PORT: String(mqttPort),
      ANLIAN_HTTP_PORT: '0',
      ANLIAN_LOG_LEVEL: 'silent',
      INFLUX_URL: influxd.url,
      INFLUX_FLUSH_INTERVAL_MS: '200',
      // As `anlian up`: an accelerated simulator's run is kept apart, not refused.
      ANLIAN_SIM_RUNS: 'keep',
    };
    const config = loadIngestConfig(env);
    const metrics = createMetricsRegistry();
    const ingest = await startIngest(config, silentLogger(), metrics);
    teardown.push(() => ingest.stop());
    const alerting = await startAlerting({
      db: ingest.database.db,
      config: loadAlertingConfig(env),
      logger: silentLogger(),
      metrics,
      subscribe: (listener) => ingest.service.pipeline.onEvent(listener),
      events: ingest.service.writer,
      eventsRetentionPolicy: config.influx.eventsRetentionPolicy,
    });
    teardown.push(() => alerting.stop());

    await migrateDashboard(ingest.database.db);
    const demo = await seedDemoUsers(ingest.database.db, county.county.id);
    const dashboard = await buildDashboard({
      db: ingest.database.db,
      cache: ingest.service.cache,
      subscribeIngest: (listener) => ingest.service.pipeline.onEvent(listener),
      queryInflux: (q) => queryV1(config.influx.target, q),
      alerts: alertingApiOf(alerting.service),
      // Video review (视频复核): the pictures ingest stores, as `anlian up` wires them.
      media: ingest.media,
      logger: silentLogger(),
      webRoot: opts.webRoot,
      ...opts.dashboard,
    });
    await dashboard.start();
    teardown.push(() => dashboard.stop());
    const base = await dashboard.listen({ host: '127.0.0.1', port: 0 });

    const brokerUrl = `mqtt://127.0.0.1:${mqttPort}`;
    const owner = county.institutions.find((i) => i.gateways.some((g) => g.id === opts.scriptedGateway));
    const gwConfig = owner?.gateways.find((g) => g.id === opts.scriptedGateway);
    if (!owner || !gwConfig) throw new Error(`no gateway ${opts.scriptedGateway} in ${opts.countyFile}`);
    const gateway = new ScriptedGateway(gwConfig, county.county.id, owner.id);
    await gateway.start(brokerUrl);
    teardown.push(() => gateway.stop());
    // Its devices' latest values, as they would be a few minutes after start (deterministic).
    for (const e of demoCountyEvents(county)) {
      if (e.type !== 'telemetry' || e.gateway !== gwConfig.id) continue;
      const { v: _v, ts: _ts, seq: _seq, ...body } = e.payload;
      await gateway.telemetry(e.device, body);
    }

    const notSimulated = new Set([gwConfig.id, ...(opts.ownGateways ?? [])]);
    const simulator = new CountySimulator({
      county: {
        ...county,
        institutions: county.institutions.map((i) => ({
          ...i,
          gateways: i.gateways.filter((g) => !notSimulated.has(g.id)),
        })),
      },
      brokerUrl,
      seed: 1,
      speed: opts.speed,
      // What `anlian up --demo` adds on top (a detector's fault now and then) would make the
      // test's picture depend on the seed; the fire alarm here is the scripted one.
      naturalFaults: false,
    });
    teardown.push(() => simulator.stop());
    await simulator.start();
    // The simulator's gateways stop (offline, shutdown) before alerting does: not the county going blind.
    teardown.push(() => alerting.stop());
    return { county, ingest, alerting, dashboard, demo, base, brokerUrl, simulator, gateway, close };
  } catch (err) {
    await close().catch(() => {
      // The start-up error is the one to report; teardown failures after it are its consequences.
    });
    throw err;
  }
}
