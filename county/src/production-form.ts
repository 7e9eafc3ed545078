import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { migrateAlerting } from '@anlian/alerting';
import { type DemoUsers, migrateDashboard, seedDemoUsers } from '@anlian/dashboard';
import { silentLogger } from '@anlian/runtime';
import { type CountySummary, describeStore, openStore, Registry, seedCounty } from '@anlian/store';
import {
  createTestCertificates,
  type Mosquitto,
  type Redis,
  startMosquitto,
  startPostgres,
  startRedis,
  type TestCertificates,
  type TestPostgres,
} from '@anlian/testing';
import { type Influxd, type PortReservation, reservePort, startInfluxd } from '@anlian/timeseries';
import { ServiceProcess, type ServiceRole } from './service-process.js';

const execFileAsync = promisify(execFile);

type CountyService = Exclude<ServiceRole, 'simulator'>;

export interface ProductionFormOptions {
  /** The engines' and services' data, logs and certificates live here (kept across runs). */
  dataDir: string;
  /** The `anlian` command line the services run from: the repository's `bin/anlian.js`. */
  cli: string;
  /** The county seeded into PostgreSQL (idempotent on a second start). */
  countyFile: string;
  /** Processes per service. Default 2 each (issue 11: no single node of a kind). */
  replicas?: Partial<Record<CountyService, number>>;
  /** Extra environment per service, e.g. `{ alerting: { ANLIAN_ALERT_CHANNELS_FILE } }`. */
  env?: Partial<Record<CountyService, NodeJS.ProcessEnv>>;
  /** The services' log level. Default `info`. */
  logLevel?: string;
  /** The simulated county publishing over TLS with the gateways' own credentials; none when left out. */
  simulator?: { speed: number; seed: number; scenario?: string; institutions?: number };
  /** Progress while starting, one line each. */
  progress?: (line: string) => void;
  /** How long each service may take to become ready. Default 120 s. */
  readyTimeoutMs?: number;
}

/**
 * An engine of the production form that can be taken away and brought back (fault tests): `halt()`
 * stops its process as an outage would (data kept), `resume()` starts it again on the same port.
 */
export interface EngineControl {
  /** The process id while it runs. */
  readonly pid: number | undefined;
  halt(): Promise<void>;
  resume(): Promise<void>;
}

/** The production form on one machine, running. */
export interface ProductionForm {
  readonly dataDir: string;
  /** The county the store holds. */
  readonly county: string;
  readonly summary: CountySummary;
  readonly certificates: TestCertificates;
  /** mosquitto: `url` plain on loopback for the county services, `tlsUrl` for gateways. */
  readonly broker: EngineControl & { url: string; tlsUrl: string; authDir: string };
  readonly postgres: EngineControl & { url: string };
  readonly redis: EngineControl & { url: string };
  readonly influx: { url: string; database: string; dataDir: string };
  /** What the dashboards present to alerting's API (`ANLIAN_SERVICE_TOKEN`). */
  readonly serviceToken: string;
  readonly demoUsers: DemoUsers;
  readonly ingest: readonly ServiceProcess[];
  readonly alerting: readonly ServiceProcess[];
  readonly dashboards: readonly ServiceProcess[];
  readonly simulator: ServiceProcess | undefined;
  /** Stops everything it started, in order: dashboards, alerting, simulator, ingest, then the engines. */
  stop(): Promise<void>;
}

const INFLUX_DATABASE = 'anlian';
const BROKER_ROLES: readonly CountyService[] = ['ingest', 'alerting', 'dashboard'];

/** The inherited environment without Anlian's or InfluxDB's settings: each service gets exactly its own. */
function baseEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(ANLIAN_|INFLUX_)/.test(k)));
}

const secret = () => randomBytes(18).toString('base64url');

/**
 * The county in its production form on one machine, every part a real process: mosquitto 2 with a
 * TLS listener for gateways and the password and ACL files of `anlian broker-config`, PostgreSQL,
 * Redis and influxd from the Debian packages with their data under `dataDir`, then
 * `anlian ingest` × N on the shared subscription, `anlian alerting` × N and `anlian dashboard` × N
 * (Redis Streams adapter) as `node bin/anlian.js <service>` with per-process environments, and
 * optionally the simulator publishing over TLS. `anlian cluster up` and the production-form test
 * both start it here.
 *
 * Throws after stopping what it started when a part cannot start (the message carries the part's
 * last output).
 */
export async function startProductionForm(o: ProductionFormOptions): Promise<ProductionForm> {
  const dataDir = path.resolve(o.dataDir);
  const progress = o.progress ?? (() => {});
  const readyMs = o.readyTimeoutMs ?? 120_000;
  const replicas = { ingest: 2, alerting: 2, dashboard: 2, ...o.replicas };
  const logs = path.join(dataDir, 'logs');
  await mkdir(logs, { recursive: true });
  // Stopped in reverse order of starting: the engines last.
  const stops: { what: string; stop: () => Promise<void> }[] = [];
  // Ports for the services and influxd, held until everything stopped: no other test worker or
  // `anlian` process on this machine can take one meanwhile (reservePort).
  const reservations: PortReservation[] = [];
  const freePort = async () => {
    const r = await reservePort();
    reservations.push(r);
    return r.port;
  };
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) {
      progress(`stopping ${s.what}`);
      await s.stop().catch((err: unknown) => progress(`  ${s.what} did not stop cleanly: ${(err as Error).message}`));
    }
    for (const r of reservations.splice(0)) r.release();
  };
  try {
    // ---------------------------------------------------------------- engines
    const tlsDir = path.join(dataDir, 'tls');
    const haveCerts = await access(path.join(tlsDir, 'server.crt')).then(
      () => true,
      () => false,
    );
    const certificates: TestCertificates = haveCerts
      ? {
          dir: tlsDir,
          caFile: path.join(tlsDir, 'ca.crt'),
          certFile: path.join(tlsDir, 'server.crt'),
          keyFile: path.join(tlsDir, 'server.key'),
          remove: async () => {},
        }
      : await createTestCertificates({ dir: tlsDir, days: 365, caName: 'Anlian cluster CA (this machine)' });
    if (!haveCerts) progress(`made a CA and the broker's certificate for 127.0.0.1 and localhost in ${tlsDir}`);

    progress('starting PostgreSQL …');
    let postgres: TestPostgres;
    try {
      postgres = await startPostgres({
        dataDir: path.join(dataDir, 'postgres'),
        database: 'anlian',
        ownProcessGroup: true,
      });
    } catch (err) {
      const asRoot = process.getuid?.() === 0;
      throw new Error(
        `${(err as Error).message}${asRoot ? `\n(as root PostgreSQL runs as the postgres user, which must be able to enter ${dataDir} and every directory above it)` : ''}`,
        { cause: err },
      );
    }
    stops.push({ what: 'PostgreSQL', stop: () => postgres.stop() });

    // The county, its tables for every service, and demo logins, before any service starts.
    const summaryOfSeed = await seedCounty({ file: o.countyFile, db: { url: postgres.url }, print: progress });
    const store = await openStore({ dataDir, dbUrl: postgres.url, sqlitePath: '' }, silentLogger());
    let demoUsers: DemoUsers;
    let summary: CountySummary;
    try {
      await migrateAlerting(store.db);
      await migrateDashboard(store.db);
      demoUsers = await seedDemoUsers(store.db, summaryOfSeed.county.id);
      summary = await new Registry(store.db).countySummary(summaryOfSeed.county.id);
    } finally {
      await store.close();
    }
    const county = summaryOfSeed.county.id;
    progress(
      `county ${county}: ${summary.institutions} institutions, ${summary.gateways} gateways, ${summary.devices.total} devices in PostgreSQL`,
    );

    // Each service its own broker account (fresh passwords each start), as `anlian broker-config` writes them.
    const passwords = Object.fromEntries(BROKER_ROLES.map((r) => [r, secret()])) as Record<CountyService, string>;
    const authDir = path.join(dataDir, 'mosquitto', 'auth');
    const brokerConfig = await execFileAsync(
      process.execPath,
      [o.cli, 'broker-config', '--out', authDir, '--db-url', postgres.url],
      {
        env: {
          ...baseEnv(),
          ANLIAN_INGEST_BROKER_PASSWORD: passwords.ingest,
          ANLIAN_ALERTING_BROKER_PASSWORD: passwords.alerting,
          ANLIAN_DASHBOARD_BROKER_PASSWORD: passwords.dashboard,
        },
      },
    );
    for (const line of brokerConfig.stdout.trim().split('\n')) progress(`broker-config: ${line}`);

    progress('starting mosquitto, Redis and influxd …');
    const engines = await Promise.allSettled([
      startMosquitto({
        authDir,
        dataDir: path.join(dataDir, 'mosquitto'),
        tls: { certFile: certificates.certFile, keyFile: certificates.keyFile },
        // Room for a replica's share while it restarts (deploy/mosquitto/mosquitto.conf).
        configExtra: 'max_queued_messages 200000\nmax_inflight_messages 100',
        ownProcessGroup: true,
      }),
      startRedis({ dataDir: path.join(dataDir, 'redis'), ownProcessGroup: true }),
      startInfluxd({
        dataDir: path.join(dataDir, 'influxdb'),
        port: await freePort(),
        startTimeoutMs: 60_000,
        ownProcessGroup: true,
      }),
    ] as const);
    const [m, r, i] = engines;
    if (i.status === 'fulfilled') stops.push({ what: 'influxd', stop: () => i.value.stop() });
    if (r.status === 'fulfilled') stops.push({ what: 'Redis', stop: () => r.value.stop() });
    if (m.status === 'fulfilled') stops.push({ what: 'mosquitto', stop: () => m.value.stop() });
    for (const e of engines) if (e.status === 'rejected') throw e.reason;
    const [mosquitto, redis, influxd] = [m, r, i].map((e) => (e as PromiseFulfilledResult<unknown>).value) as [
      Mosquitto,
      Redis,
      Influxd,
    ];
    const tlsUrl = mosquitto.tlsUrl;
    if (!tlsUrl) throw new Error('mosquitto started without its TLS listener');

    // ---------------------------------------------------------------- services
    const serviceToken = secret();
    const storeName = describeStore({ dbUrl: postgres.url, sqlitePath: '' });
    const common = (role: CountyService): NodeJS.ProcessEnv => ({
      ...baseEnv(),
      ANLIAN_LOG_LEVEL: o.logLevel ?? 'info',
      ANLIAN_DB_URL: postgres.url,
      INFLUX_URL: influxd.url,
      INFLUX_DATABASE,
      ANLIAN_BROKER_URL: mosquitto.url,
      ANLIAN_BROKER_USERNAME: role,
      ANLIAN_BROKER_PASSWORD: passwords[role],
      ...o.env?.[role],
    });
    const uses = (role: CountyService) => ({
      store: storeName,
      broker: `${mosquitto.url} (user ${role})`,
      influx: influxd.url,
    });
    const service = (role: CountyService, i: number, env: NodeJS.ProcessEnv, port: number) =>
      new ServiceProcess({
        name: `${role}-${i}`,
        role,
        cli: o.cli,
        args: [role],
        env,
        url: `http://127.0.0.1:${port}`,
        uses: uses(role),
        logFile: path.join(logs, `${role}-${i}.log`),
      });
    const launch = async (list: ServiceProcess[]) => {
      for (const s of list) {
        await s.start();
        stops.push({ what: s.name, stop: () => s.stop() });
      }
      await Promise.all(list.map((s) => s.ready(readyMs)));
    };

    const ingest: ServiceProcess[] = [];
    for (let i = 1; i <= replicas.ingest; i++) {
      const port = await freePort();
      ingest.push(
        service(
          'ingest',
          i,
          {
            ...common('ingest'),
            ANLIAN_DATA_DIR: path.join(dataDir, `ingest-${i}`),
            ANLIAN_HTTP_HOST: '127.0.0.1',
            ANLIAN_HTTP_PORT: String(port),
            ANLIAN_BROKER_CLIENT_ID: `ingest-${i}`,
            ANLIAN_SHARE_GROUP: 'ingest',
            // The first replica sets InfluxDB up (database, retention policies); the others find it done.
            INFLUX_SETUP: i === 1 ? 'true' : 'false',
          },
          port,
        ),
      );
    }
    progress(`starting ${ingest.length} ingest replicas …`);
    await launch(ingest.slice(0, 1));
    await launch(ingest.slice(1));

    const alerting: ServiceProcess[] = [];
    for (let i = 1; i <= replicas.alerting; i++) {
      const port = await freePort();
      alerting.push(
        service(
          'alerting',
          i,
          {
            ...common('alerting'),
            ANLIAN_DATA_DIR: path.join(dataDir, `alerting-${i}`),
            ANLIAN_NODE_ID: `alerting-${i}`,
            ANLIAN_ALERTING_HOST: '127.0.0.1',
            ANLIAN_ALERTING_PORT: String(port),
            ANLIAN_SERVICE_TOKEN: serviceToken,
          },
          port,
        ),
      );
    }
    progress(`starting ${alerting.length} alerting nodes …`);
    await launch(alerting);
    const alertingUrls = alerting.map((a) => a.url ?? '').join(',');

    const dashboards: ServiceProcess[] = [];
    for (let i = 1; i <= replicas.dashboard; i++) {
      const port = await freePort();
      const d = service(
        'dashboard',
        i,
        {
          ...common('dashboard'),
          ANLIAN_DATA_DIR: path.join(dataDir, `dashboard-${i}`),
          ANLIAN_NODE_ID: `dashboard-${i}`,
          ANLIAN_DASHBOARD_HOST: '127.0.0.1',
          ANLIAN_DASHBOARD_PORT: String(port),
          ANLIAN_REDIS_URL: redis.url,
          ANLIAN_ALERTING_URLS: alertingUrls,
          ANLIAN_SERVICE_TOKEN: serviceToken,
        },
        port,
      );
      Object.assign(d.uses, { redis: redis.url, alerting: alertingUrls });
      dashboards.push(d);
    }
    await ensureDashboardWeb(o.cli, progress);
    progress(`starting ${dashboards.length} dashboard nodes …`);
    await launch(dashboards);

    let simulator: ServiceProcess | undefined;
    if (o.simulator) {
      const s = o.simulator;
      simulator = new ServiceProcess({
        name: 'simulator',
        role: 'simulator',
        cli: o.cli,
        args: [
          'sim',
          '--county',
          o.countyFile,
          '--broker',
          tlsUrl,
          '--ca-file',
          certificates.caFile,
          '--speed',
          String(s.speed),
          '--seed',
          String(s.seed),
          ...(s.scenario ? ['--scenario', s.scenario] : []),
          ...(s.institutions ? ['--institutions', String(s.institutions)] : []),
        ],
        env: baseEnv(),
        uses: { broker: `${tlsUrl} (TLS, each gateway its own id and secret)` },
        logFile: path.join(logs, 'simulator.log'),
      });
      await simulator.start();
      const sim = simulator;
      // Stopped after alerting and the dashboards, before ingest: the simulated gateways saying
      // "offline" as the cluster stops is not the county going blind.
      const at = stops.findIndex((x) => x.what.startsWith('alerting-'));
      stops.splice(at === -1 ? stops.length : at, 0, { what: 'simulator', stop: () => sim.stop() });
    }

    return {
      dataDir,
      county,
      summary,
      certificates,
      broker: Object.assign(control(mosquitto), { url: mosquitto.url, tlsUrl, authDir }),
      postgres: Object.assign(control(postgres), { url: postgres.url }),
      redis: Object.assign(control(redis), { url: redis.url }),
      influx: { url: influxd.url, database: INFLUX_DATABASE, dataDir: influxd.dataDir },
      serviceToken,
      demoUsers,
      ingest,
      alerting,
      dashboards,
      simulator,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** An engine's halt and resume, and its current pid (a resumed engine runs under a new one). */
function control(engine: {
  readonly pid: number | undefined;
  halt(): Promise<void>;
  resume(): Promise<void>;
}): EngineControl {
  return {
    get pid() {
      return engine.pid;
    },
    halt: () => engine.halt(),
    resume: () => engine.resume(),
  };
}

/**
 * The dashboard nodes serve the built web app (dashboard/web-dist); on a fresh clone it is built
 * first, as the error of a dashboard without it says: `npx vite build --config dashboard/web/vite.config.ts`.
 */
async function ensureDashboardWeb(cli: string, progress: (line: string) => void): Promise<void> {
  const root = path.resolve(path.dirname(cli), '..');
  const built = await access(path.join(root, 'dashboard', 'web-dist', 'index.html')).then(
    () => true,
    () => false,
  );
  if (built) return;
  progress('building the dashboard’s web app (first start) …');
  const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  await execFileAsync(
    process.execPath,
    [vite, 'build', '--config', 'dashboard/web/vite.config.ts', '--logLevel', 'warn'],
    {
      cwd: root,
    },
  );
}

/** The start-up banner of the production form: where everything runs and what each service uses. */
export function describeProductionForm(f: ProductionForm): string {
  const rows: string[][] = [['process', 'pid', 'address', 'store', 'broker', 'InfluxDB']];
  for (const s of [...f.ingest, ...f.alerting, ...f.dashboards]) {
    rows.push([
      s.name,
      String(s.pid ?? '-'),
      s.url ?? '',
      s.uses.store ?? '',
      s.uses.broker ?? '',
      s.uses.influx ?? '',
    ]);
  }
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  const table = rows.map((r) => `  ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')}`.trimEnd());
  const by = f.summary.devices.byKind;
  const wall = f.dashboards[0]?.url ?? '';
  const manager = f.demoUsers.managers[0];
  return [
    '',
    '安联网 Anlian — production form on one machine',
    `  county       ${f.county}: ${f.summary.institutions} institutions, ${f.summary.gateways} gateways, ${f.summary.devices.total} devices (${Object.entries(
      by,
    )
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')})`,
    `  mosquitto    gateways ${f.broker.tlsUrl} (TLS, CA ${f.certificates.caFile}); services ${f.broker.url}   pid ${f.broker.pid ?? '-'}`,
    `               accounts and ACL from anlian broker-config in ${f.broker.authDir}`,
    `  PostgreSQL   ${f.postgres.url}   pid ${f.postgres.pid ?? '-'}`,
    `  Redis        ${f.redis.url}   pid ${f.redis.pid ?? '-'}   (socket.io between the dashboard nodes)`,
    `  InfluxDB     ${f.influx.url}  database ${f.influx.database}  (data in ${f.influx.dataDir})`,
    '',
    ...table,
    '',
    `  dashboards   ${f.dashboards.map((d) => `${d.url}/`).join('   ')}   (wall screen ${wall}/#/wall?kiosk=${f.demoUsers.kioskToken})`,
    `               logins: ${f.demoUsers.admin.username} / ${f.demoUsers.admin.password} (county admin), ${f.demoUsers.operator.username} / ${f.demoUsers.operator.password} (operator)${manager ? `, <institution id> / ${manager.password} (manager)` : ''}`,
    `  alerting     ${f.alerting.map((a) => `${a.url}/v1`).join('   ')}   (service token in the dashboards' environment)`,
    f.simulator ? `  simulator    pid ${f.simulator.pid ?? '-'}, ${f.simulator.uses.broker}` : '  simulator    off',
    `  logs         ${path.join(f.dataDir, 'logs')}/<process>.log`,
    '',
    'Ctrl-C stops everything (dashboards, alerting, simulator, ingest, then the engines) and keeps the data.',
    '',
  ].join('\n');
}

export { ServiceProcess, type ServiceRole, type ServiceUses } from './service-process.js';
