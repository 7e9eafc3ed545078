import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { DutyCheckService, loadAlertingConfig, startAlerting, TransportGatewayCommands } from '@anlian/alerting';
import {
  alertsPortFrom,
  buildDashboard,
  type DemoUsers,
  loadDashboardConfig,
  migrateDashboard,
  seedDemoUsers,
} from '@anlian/dashboard';
import {
  CountySimulator,
  DEMO_COUNTY_FILE,
  loadCountyFile,
  loadScenario,
  resolveScenarioPath,
} from '@anlian/device-simulators';
import { EmbeddedBroker, type IngestConfig, loadIngestConfig, openStore, startIngest } from '@anlian/ingest';
import { createMetricsRegistry, hasCode, onShutdownSignal } from '@anlian/runtime';
import { Registry, readCountyFile } from '@anlian/store';
import { type Influxd, queryV1, startInfluxd } from '@anlian/timeseries';
import { pino } from 'pino';
import { terminalLogStream } from './terminal-log-stream.js';
import type { UpOptions } from './up-command.js';

const fail = (message: string): never => {
  process.stderr.write(`anlian up: ${message}\n`);
  process.exit(2);
};

async function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** `anlian up`: everything of a county in one process, on embedded defaults. */
export async function runUp(opts: UpOptions): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, ANLIAN_DATA_DIR: opts.dataDir };
  if (env.ANLIAN_BROKER_URL) fail('`up` runs the embedded broker; unset ANLIAN_BROKER_URL (or run `anlian ingest`).');

  const dataDir = path.resolve(opts.dataDir);
  const logFile = path.join(dataDir, 'logs', 'anlian.log');
  await mkdir(path.dirname(logFile), { recursive: true });
  // The terminal gets the banner, the simulator's progress and warnings; the log file gets everything.
  const logger = pino(
    { level: env.ANLIAN_LOG_LEVEL ?? 'info', base: { svc: 'anlian-up' }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream([
      { level: 'info', stream: pino.destination({ dest: logFile, mkdir: true, sync: false }) },
      { level: 'warn', stream: terminalLogStream(process.stderr) },
    ]),
  );

  // InfluxDB: the one given, or a local influxd with its data under the data directory.
  let influxd: Influxd | undefined;
  if (!env.INFLUX_URL) {
    const wanted = Number(opts.influxPort);
    const port = (await portIsFree(wanted)) ? wanted : await freePort();
    if (port !== wanted) {
      process.stderr.write(`anlian up: port ${wanted} is taken (another InfluxDB?); the local influxd uses ${port}\n`);
    }
    try {
      influxd = await startInfluxd({
        dataDir: path.join(dataDir, 'influxdb'),
        port,
        startTimeoutMs: 60_000,
        ownProcessGroup: true,
      });
    } catch (err) {
      if (hasCode(err, 'ANL_ERR_INFLUX_MISSING')) fail((err as Error).message.replace(/^ANL_ERR_INFLUX_MISSING: /, ''));
      throw err;
    }
    env.INFLUX_URL = influxd.url;
  }

  let config: IngestConfig;
  try {
    config = loadIngestConfig(env);
  } catch (err) {
    await influxd?.halt();
    return fail((err as Error).message);
  }

  // First start: seed the county so there is something to monitor.
  const countyFile = path.resolve(opts.county ?? DEMO_COUNTY_FILE);
  const store = await openStore(config, logger);
  let summary = await new Registry(store.db, { logger }).countySummary();
  let seeded = false;
  if (summary.gateways === 0) {
    const county = await readCountyFile(countyFile, (line) => process.stderr.write(`${line}\n`));
    await new Registry(store.db, { logger }).importCounty(county);
    summary = await new Registry(store.db, { logger }).countySummary();
    seeded = true;
  }
  await store.close();

  const mqttPort = config.mqtt.port;
  if (!(await portIsFree(mqttPort, config.mqtt.host))) {
    await influxd?.halt();
    fail(
      `MQTT port ${mqttPort} is in use (another MQTT broker, e.g. a mosquitto service?). Set ANLIAN_MQTT_PORT to another port.`,
    );
  }
  let alertingConfig: ReturnType<typeof loadAlertingConfig>;
  let dashboardConfig: ReturnType<typeof loadDashboardConfig>;
  try {
    alertingConfig = loadAlertingConfig(env);
    dashboardConfig = loadDashboardConfig(env);
  } catch (err) {
    await influxd?.halt();
    return fail((err as Error).message);
  }
  const metrics = createMetricsRegistry();
  const running = await startIngest(config, logger, metrics).catch(async (err: unknown) => {
    await influxd?.halt();
    throw err;
  });
  // Alerting in the same process: it hears every event before it is stored (the alarm path).
  const alerting = await startAlerting({
    db: running.database.db,
    config: alertingConfig,
    logger,
    metrics,
    subscribe: (listener) => running.service.pipeline.onEvent(listener),
    events: running.service.writer,
    eventsRetentionPolicy: config.influx.eventsRetentionPolicy,
  }).catch(async (err: unknown) => {
    await running.stop();
    await influxd?.halt();
    throw err;
  });

  // The wall screen, the manager and institution views, on the same store, cache and events.
  await migrateDashboard(running.database.db, logger);
  const county = await running.database.db.selectFrom('counties').select('id').orderBy('id').executeTakeFirst();

  // County → gateway commands (duty checks, 查岗) through the embedded broker, in process: it admits
  // only gateways over TCP. The services issue makes alerting a broker client like any other.
  const broker = running.service.source;
  const commands =
    broker instanceof EmbeddedBroker && county
      ? new TransportGatewayCommands({ transport: broker.countyLink(), county: county.id, logger })
      : undefined;
  await commands?.start();
  const dutyChecks = commands
    ? new DutyCheckService({
        db: running.database.db as never,
        commands,
        raise: (signal) => alerting.service.signal(signal),
        logger,
      })
    : undefined;
  dutyChecks?.start();
  const demoUsers: DemoUsers | undefined =
    opts.demo && county ? await seedDemoUsers(running.database.db, county.id) : undefined;
  const dashboard = await buildDashboard({
    db: running.database.db,
    cache: running.service.cache,
    subscribeIngest: (listener) => running.service.pipeline.onEvent(listener),
    queryInflux: (q) => queryV1(config.influx.target, q),
    alerts: alertsPortFrom(alerting.service),
    logger,
    secureCookies: dashboardConfig.ANLIAN_DASHBOARD_SECURE_COOKIES,
    ...(dashboardConfig.ANLIAN_COUNTY_GEOJSON ? { countyOutlinePath: dashboardConfig.ANLIAN_COUNTY_GEOJSON } : {}),
  });
  let dashboardUrl: string;
  try {
    await dashboard.start();
    dashboardUrl = await dashboard.listen({
      host: dashboardConfig.ANLIAN_DASHBOARD_HOST,
      port: dashboardConfig.ANLIAN_DASHBOARD_PORT,
    });
  } catch (err) {
    await dashboard.stop().catch(() => {});
    await alerting.stop();
    await running.stop();
    await influxd?.halt();
    return fail(
      `the dashboard cannot listen on ${dashboardConfig.ANLIAN_DASHBOARD_HOST}:${dashboardConfig.ANLIAN_DASHBOARD_PORT} (${(err as Error).message}); set ANLIAN_DASHBOARD_PORT to another port.`,
    );
  }

  let sim: CountySimulator | undefined;
  if (opts.demo) {
    const county = await loadCountyFile(countyFile);
    sim = new CountySimulator({
      county,
      brokerUrl: `mqtt://127.0.0.1:${mqttPort}`,
      seed: Number(opts.seed),
      speed: Number(opts.speed),
      ...(opts.scenario ? { scenario: await loadScenario(resolveScenarioPath(opts.scenario)) } : {}),
      logger,
      output: process.stdout,
    });
  }

  const influxUrl = config.influx.target.url;
  const by = summary.devices.byKind;
  const lines = [
    '',
    '安联网 Anlian — all-in-one county',
    `  county          ${summary.institutions} institutions, ${summary.gateways} gateways, ${summary.devices.total} devices (fire ${by.fire}, extinguisher ${by.extinguisher}, kitchen ${by.kitchen}, camera ${by.camera}, electrical ${by.electrical})${seeded ? `  — seeded from ${path.relative(process.cwd(), countyFile) || countyFile}` : ''}`,
    `  MQTT broker     mqtt://${config.mqtt.host}:${mqttPort}   (gateways log in with their id and secret)`,
    `  health          ${running.urls.http}/healthz   ${running.urls.http}/readyz   ${running.urls.http}/metrics`,
    `  latest state    ${running.urls.http}/v1/state/devices   ${running.urls.http}/v1/state/gateways`,
    `  dashboard       ${dashboardUrl}/   (大屏 wall screen ${dashboardUrl}/#/wall${demoUsers ? `?kiosk=${demoUsers.kioskToken}` : ''})`,
    ...(demoUsers
      ? [
          `                  demo logins: ${demoUsers.admin.username} / ${demoUsers.admin.password} (county admin), ${demoUsers.operator.username} / ${demoUsers.operator.password} (operator),`,
          `                  each institution's manager: <institution id> / ${demoUsers.managers[0]?.password ?? ''} (phone view ${dashboardUrl}/#/m)`,
        ]
      : []),
    `  alerting        ${alerting.service.openAlerts().length} open alerts; rules ${alertingConfig.rulesFile ?? 'default (shared/DOMAIN.md)'}; channels ${alertingConfig.channelsFile ?? 'none configured (dashboard stream only; set ANLIAN_ALERT_CHANNELS_FILE)'}`,
    `  InfluxDB        ${influxUrl}  database ${config.influx.target.database}${influxd ? `  (local influxd, data in ${path.join(dataDir, 'influxdb')})` : ''}`,
    `  data directory  ${dataDir}   (SQLite anlian.db, spool/, logs/anlian.log)`,
    sim
      ? `  simulator       demo county, speed ${opts.speed}×, seed ${opts.seed}${opts.scenario ? `, scenario ${opts.scenario}` : ''}`
      : '  simulator       off (add --demo for the simulated county)',
    '',
    'Look at the data (kitchen temperatures of the last 5 minutes, per institution):',
    `  curl -sG ${influxUrl}/query --data-urlencode db=${config.influx.target.database} --data-urlencode "q=SELECT last(temperature) FROM kitchen WHERE time > now() - 5m GROUP BY institution"`,
    '',
    'Ctrl-C stops everything and keeps the data for the next start.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
  logger.info({ mqtt: running.urls.mqtt, http: running.urls.http, influx: influxUrl, dataDir }, 'anlian up ready');

  onShutdownSignal(logger, async () => {
    process.stdout.write('\nstopping …\n');
    // Alerting first: the simulated gateways saying "offline (shutdown)" as the demo stops is not
    // the county going blind.
    await dashboard.stop();
    await dutyChecks?.stop();
    await commands?.stop();
    await alerting.stop();
    await sim?.stop();
    await running.stop();
    await influxd?.halt();
    process.stdout.write(`stopped; data kept in ${dataDir}\n`);
    logger.flush();
  });
  const t0 = Date.now();
  await sim?.start();
  logger.info({ ms: Date.now() - t0 }, 'simulator started');
}
