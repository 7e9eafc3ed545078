import { mkdir } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadAlertingConfig } from '@anlian/alerting';
import { type AllInOneCounty, startAllInOne } from '@anlian/county';
import { type DemoUsers, loadDashboardConfig, seedDemoUsers } from '@anlian/dashboard';
import {
  CountySimulator,
  DEMO_COUNTY_FILE,
  loadCountyFile,
  loadScenario,
  resolveScenarioPath,
} from '@anlian/device-simulators';
import { type IngestConfig, loadIngestConfig } from '@anlian/ingest';
import {
  CjkFonts,
  FileReportStorage,
  MonthlyReportScheduler,
  migrateReports,
  ReportService,
  StoreLease,
  WorkerRenderer,
} from '@anlian/reports';
import { createMetricsRegistry, hasCode, onShutdownSignal } from '@anlian/runtime';
import { type Database, openStore, Registry, readCountyFile } from '@anlian/store';
import type { Supervision } from '@anlian/supervision';
import { type Influxd, queryV1, startInfluxd } from '@anlian/timeseries';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { ensureDemoHistory } from './demo-history.js';
import { registerScenarioDrill } from './scenario-drill.js';
import { terminalLogStream } from './terminal-log-stream.js';
import type { UpOptions } from './up-command.js';

/** A URL without its password, for the banner. */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

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

/** One line for the banner: open and overdue hazards, and how many institutions have each grade. */
async function supervisionSummary(supervision: Supervision, county: string | undefined): Promise<string> {
  if (county === undefined) return 'no county';
  const open = await supervision.ledger.list({ county, open: true, limit: 1 });
  const overdue = await supervision.ledger.list({ county, overdue: true, limit: 1 });
  const grades = await supervision.grader.current(county);
  const n = (g: string) => grades.filter((x) => x.grade === g).length;
  return `${open.total} open hazards (${overdue.total} overdue); grades 红 ${n('red')} · 橙 ${n('orange')} · 黄 ${n('yellow')} · 蓝 ${n('blue')}`;
}

/** `anlian up`: everything of a county in one process, on embedded defaults. */
export async function runUp(opts: UpOptions): Promise<void> {
  const env: NodeJS.ProcessEnv = { ...process.env, ANLIAN_DATA_DIR: opts.dataDir };
  // The all-in-one county is where simulations run (a demo at --speed 60, a simulated month for a
  // report): their points are kept apart (tag sim_run), not refused as a production county does.
  env.ANLIAN_SIM_RUNS ??= 'keep';
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
  if (config.mqtt.tls && !(await portIsFree(config.mqtt.tls.port, config.mqtt.host))) {
    await influxd?.halt();
    fail(`MQTT over TLS port ${config.mqtt.tls.port} is in use. Set ANLIAN_MQTT_TLS_PORT to another port.`);
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
  // Supervision reports (issue 17): on demand from the dashboard, and last month's on the 1st;
  // PDFs are laid out on a worker thread, never on the event loop that carries the alarm path.
  let reports: ReportService | undefined;
  let reportSchedule: MonthlyReportScheduler | undefined;
  let demoHistory: Awaited<ReturnType<typeof ensureDemoHistory>> | undefined;
  const reportsFor = async (db: Kysely<Database>) => {
    await migrateReports(db, logger);
    let fonts: CjkFonts | undefined;
    reports = new ReportService({
      db,
      queryInflux: (q) => queryV1(config.influx.target, q),
      storage: new FileReportStorage(path.join(dataDir, 'reports')),
      fonts: () => {
        fonts ??= CjkFonts.load();
        return fonts;
      },
      logger,
      renderer: new WorkerRenderer(),
      ...(config.influx.eventsRetentionPolicy
        ? { influxPolicies: { events: config.influx.eventsRetentionPolicy } }
        : {}),
    });
    reportSchedule = new MonthlyReportScheduler({
      service: reports,
      lease: new StoreLease(db),
      holder: `${os.hostname()}:${process.pid}`,
      logger,
    });
    // The demo county's month of history, so that its report for the last 30 days has data.
    if (opts.demo) {
      demoHistory = await ensureDemoHistory({
        db,
        county: await loadCountyFile(countyFile),
        seed: Number(opts.seed),
        influx: config.influx,
        logger,
      }).catch((err: unknown) => {
        logger.error({ err }, 'demo history not written; reports show live data only');
        return undefined;
      });
    }
    return {
      service: reports,
      ...(demoHistory ? { defaultSource: { kind: 'simulation' as const, runId: demoHistory.runId } } : {}),
    };
  };
  // One composition (@anlian/county): the same builders as the production services.
  let county: AllInOneCounty;
  try {
    county = await startAllInOne({
      ingest: config,
      alerting: alertingConfig,
      dashboard: dashboardConfig,
      logger,
      metrics,
      reports: reportsFor,
      // The demo county's supervision history, generated from the simulator's seed on the first start.
      ...(opts.demo ? { supervisionDemo: { seed: Number(opts.seed) } } : {}),
    });
  } catch (err) {
    await influxd?.halt();
    if (hasCode(err, 'ANL_ERR_LISTEN')) return fail((err as Error).message);
    throw err;
  }
  const running = county.ingest;
  const alerting = county.alerting;
  const demoUsers: DemoUsers | undefined =
    opts.demo && county.county ? await seedDemoUsers(running.database.db, county.county) : undefined;
  const dashboardUrl = county.dashboardUrl ?? '';

  let sim: CountySimulator | undefined;
  const scenario = opts.demo && opts.scenario ? await loadScenario(resolveScenarioPath(opts.scenario)) : undefined;
  if (opts.demo) {
    const county = await loadCountyFile(countyFile);
    sim = new CountySimulator({
      county,
      brokerUrl: `mqtt://127.0.0.1:${mqttPort}`,
      seed: Number(opts.seed),
      speed: Number(opts.speed),
      ...(scenario
        ? { scenario, onConnected: registerScenarioDrill(alerting.service, scenario, Number(opts.speed)) }
        : {}),
      logger,
      output: process.stdout,
    });
  }

  const influxUrl = config.influx.target.url;
  const by = summary.devices.byKind;
  const lines = [
    '',
    '安联网 Anlian — all-in-one county',
    `  county          ${summary.institutions} institutions, ${summary.gateways} gateways, ${summary.devices.total} devices (${Object.entries(
      by,
    )
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')})${seeded ? `  — seeded from ${path.relative(process.cwd(), countyFile) || countyFile}` : ''}`,
    `  MQTT broker     embedded (aedes) mqtt://${config.mqtt.host}:${mqttPort}   (gateways log in with their id and secret)`,
    config.mqtt.tls
      ? `                  and mqtts://${config.mqtt.host}:${config.mqtt.tls.port}   (TLS, certificate ${config.mqtt.tls.certFile})`
      : '                  no TLS listener (set ANLIAN_MQTT_TLS_PORT, ANLIAN_MQTT_TLS_CERT, ANLIAN_MQTT_TLS_KEY for gateways on the internet)',
    `  health          ${running.urls.http}/healthz   ${running.urls.http}/readyz   ${running.urls.http}/metrics`,
    `  latest state    ${running.urls.http}/v1/state/devices   ${running.urls.http}/v1/state/gateways`,
    `  dashboard       ${dashboardUrl}/   (大屏 wall screen ${dashboardUrl}/#/wall${demoUsers ? `?kiosk=${demoUsers.kioskToken}` : ''})`,
    ...(demoUsers
      ? [
          `                  demo logins: ${demoUsers.admin.username} / ${demoUsers.admin.password} (county admin), ${demoUsers.operator.username} / ${demoUsers.operator.password} (operator),`,
          `                  each institution's manager: <institution id> / ${demoUsers.managers[0]?.password ?? ''} (phone view ${dashboardUrl}/#/m)`,
        ]
      : []),
    ...(county.supervision
      ? [
          `  supervision     ${await supervisionSummary(county.supervision, county.county)}${county.supervisionDemo?.seeded ? `  — ${county.supervisionDemo.days} days of history generated from seed ${opts.seed} (${county.supervisionDemo.hazards} hazards, ${county.supervisionDemo.inspections} inspections)` : ''}`,
          `                  hazards ${dashboardUrl}/#/hazards   risk grades ${dashboardUrl}/#/grades   inspections on a phone ${dashboardUrl}/#/m/inspect`,
        ]
      : []),
    `  alerting        ${alerting.service.openAlerts().length} open alerts; rules ${alertingConfig.rulesFile ?? 'default (shared/DOMAIN.md)'}; channels ${alertingConfig.channelsFile ?? 'none configured (dashboard stream only; set ANLIAN_ALERT_CHANNELS_FILE)'}`,
    `  InfluxDB        ${influxUrl}  database ${config.influx.target.database}${influxd ? `  (local influxd, data in ${path.join(dataDir, 'influxdb')})` : ''}`,
    `  store           ${running.database.dialect === 'postgres' ? `PostgreSQL ${redactedUrl(config.dbUrl ?? '')}` : `SQLite ${config.sqlitePath}`}`,
    `  data directory  ${dataDir}   (${running.database.dialect === 'postgres' ? '' : 'anlian.db, '}spool/, logs/anlian.log)`,
    sim
      ? `  simulator       demo county, speed ${opts.speed}×, seed ${opts.seed}${opts.scenario ? `, scenario ${opts.scenario}` : ''}${
          Number(opts.speed) !== 1 || scenario?.start !== undefined
            ? "\n                  not real time: a simulation run, stored apart (InfluxDB tag sim_run) and left out of the live screens, charts and alerts (a drill scenario's own alarms excepted)"
            : ''
        }`
      : '  simulator       off (add --demo for the simulated county)',
    `  reports         ${dashboardUrl}/#/reports   (last month's on the 1st, into ${path.join(dataDir, 'reports')})`,
    ...(demoHistory
      ? [
          `                  demo history: simulation run ${demoHistory.runId} (the 30 days before the first start${demoHistory.created ? `; ${demoHistory.alerts} alerts written now` : ''}) — the report page reads it by default`,
        ]
      : []),
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
    await reportSchedule?.stop();
    await reports?.close();
    // Alerting first: the simulated gateways saying "offline (shutdown)" as the demo stops is not
    // the county going blind.
    await county.supervision?.scheduler.stop();
    await county.dashboard?.stop();
    await alerting.stop();
    await sim?.stop();
    await county.stop();
    await influxd?.halt();
    process.stdout.write(`stopped; data kept in ${dataDir}\n`);
    logger.flush();
  });
  reportSchedule?.start();
  const t0 = Date.now();
  await sim?.start();
  logger.info({ ms: Date.now() - t0 }, 'simulator started');
}
