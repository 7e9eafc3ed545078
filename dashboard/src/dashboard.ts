import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LatestStateCache } from '@anlian/bus';
import type { IngestEvent } from '@anlian/protocol';
import type { ReportService, ReportSource } from '@anlian/reports';
import type { ReadinessCheck } from '@anlian/runtime';
import type { Database, MediaStore } from '@anlian/store';
import type { Supervision } from '@anlian/supervision';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import type { AlertsPort } from './alerts/alerts-port.js';
import { AuditLog } from './audit/audit-log.js';
import { LoginGuard, type LoginGuardLimits } from './auth/login-guard.js';
import { UserStore } from './auth/user-store.js';
import type { DashboardContext, InfluxQuery } from './http/dashboard-context.js';
import { buildDashboardHttp } from './http/dashboard-http.js';
import { SESSION_COOKIE } from './http/request-principal.js';
import type { LoginLimit } from './http/routes/auth-routes.js';
import { CountyLiveModel } from './live/county-live-model.js';
import { DEFAULT_THRESHOLDS, type DeviceThresholds } from './live/device-thresholds.js';
import { LiveHub, type LiveHubOptions } from './live/live-hub.js';
import { LiveSessions } from './live/principal-rooms.js';
import { RegistryEditor } from './registry/registry-editor.js';
import { RegistryView } from './registry/registry-view.js';
import type { DashboardDatabase } from './store/dashboard-schema.js';

export interface DashboardDeps {
  /** The operational store, migrated with `DASHBOARD_MIGRATIONS` (after ingest's and alerting's). */
  db: Kysely<Database>;
  /** Ingest's latest-state cache. */
  cache: LatestStateCache;
  /** Ingest's events: `(listener) => unsubscribe` (`IngestPipeline.onEvent`). */
  subscribeIngest: (listener: (event: IngestEvent) => void) => () => void;
  /** InfluxQL against the county's InfluxDB: `(q) => queryV1(target, q)`. */
  queryInflux: InfluxQuery;
  alerts: AlertsPort;
  /**
   * The hazard ledger, grades and inspections (`buildSupervision`, built with `hazardAuditFrom` on
   * this store's audit log); absent: the dashboard serves no supervision routes. The dashboard
   * does not start its scheduler: the composition does (`anlian up`, `anlian dashboard`).
   */
  supervision?: Supervision;
  logger: Logger;
  clock?: () => number;
  /** The built web app; default the package's `web-dist`; null serves the API only. */
  webRoot?: string | null;
  /** County outline GeoJSON for the map; default the demo county's in deploy/counties. */
  countyOutlinePath?: string;
  /** `Secure` session cookies (set behind HTTPS). Default false. */
  secureCookies?: boolean;
  /** Reverse proxies whose `X-Forwarded-For` is believed (addresses or CIDR ranges). Default none. */
  trustProxy?: readonly string[];
  /** Login attempts per address and username; default 10 per 5 minutes. */
  loginLimit?: LoginLimit;
  /** Failed sign-ins per address and per username before further ones are refused unverified (`DEFAULT_LOGIN_GUARD_LIMITS`). */
  loginGuard?: Partial<LoginGuardLimits>;
  /** The county's media store: video-review snapshots of fire alarms. */
  media?: MediaStore;
  /**
   * Pictures stored by an ingest in another process (`MediaBus.onStored` in `anlian dashboard`),
   * pushed like those among ingest's events.
   */
  subscribeMedia?: LiveHubOptions['subscribeMedia'];
  /** Session idle timeout; default 12 h. */
  sessionIdleMs?: number;
  thresholds?: Partial<DeviceThresholds>;
  registryRefreshMs?: number;
  /** Batching of device values and ticker items; default 1000 ms. */
  flushMs?: number;
  /** Headline figures recomputed every; default 5000 ms. */
  statsMs?: number;
  /** How long socket.io keeps a dropped client's missed deltas for recovery; default 2 min. */
  recoveryWindowMs?: number;
  /** How long `stop()` lets responses in flight finish before it closes their connections; default 5 s. */
  closeGraceMs?: number;
  /** Supervision reports (issue 17): the service, and the data the page offers first. */
  reports?: { service: ReportService; defaultSource?: ReportSource };
  /** socket.io's adapter across dashboard nodes (the Redis Streams adapter); in memory when unset. */
  socketAdapter?: ServerOptions['adapter'];
  /** `/metrics` serves this registry; `/readyz` asks `readiness` besides the store. */
  metrics?: Registry;
  readiness?: () => Promise<Record<string, ReadinessCheck>>;
}

export interface Dashboard {
  readonly app: FastifyInstance;
  readonly io: Server;
  readonly hub: LiveHub;
  readonly users: UserStore;
  readonly model: CountyLiveModel;
  readonly registryView: RegistryView;
  /** Loads the registry and open alerts and starts the live feed; does not listen. */
  start(): Promise<void>;
  /** Listens (after `start`); returns the base URL. */
  listen(opts: { host: string; port: number }): Promise<string>;
  stop(): Promise<void>;
}

const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../web-dist/', import.meta.url));
export const DEMO_COUNTY_OUTLINE = fileURLToPath(
  new URL('../../deploy/counties/youyang-county.geojson', import.meta.url),
);

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(`${PACKAGE_ROOT}package.json`, 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** Reads the session cookie from a socket.io handshake. */
function handshakeSessionToken(socket: Socket): string | undefined {
  const header = socket.request.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === SESSION_COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/**
 * Wires the dashboard — HTTP API, socket.io live feed, web app — without starting it
 * (CONVENTIONS.md §2). socket.io shares fastify's HTTP server.
 */
export async function buildDashboard(deps: DashboardDeps): Promise<Dashboard> {
  const logger = deps.logger.child({ svc: 'dashboard' });
  const clock = deps.clock ?? Date.now;
  const db = deps.db as unknown as Kysely<DashboardDatabase>;
  const registryView = new RegistryView({
    db,
    logger,
    ...(deps.registryRefreshMs ? { refreshMs: deps.registryRefreshMs } : {}),
  });
  const users = new UserStore(db, { clock, ...(deps.sessionIdleMs ? { idleTimeoutMs: deps.sessionIdleMs } : {}) });
  const audit = new AuditLog(db, logger, clock);
  const model = new CountyLiveModel({
    registry: registryView,
    cache: deps.cache,
    thresholds: { ...DEFAULT_THRESHOLDS, ...deps.thresholds },
    clock,
  });
  const editor = new RegistryEditor(db, logger, clock);
  const liveSessions = new LiveSessions();
  const ctx: DashboardContext = {
    db,
    registry: editor.registry,
    registryView,
    users,
    loginGuard: new LoginGuard(deps.loginGuard, clock),
    audit,
    liveSessions,
    alerts: deps.alerts,
    model,
    queryInflux: deps.queryInflux,
    logger,
    clock,
    secureCookies: deps.secureCookies ?? false,
    ...(deps.media ? { media: deps.media } : {}),
    supervision: deps.supervision,
  };
  const app = await buildDashboardHttp({
    ctx,
    editor,
    loginLimit: deps.loginLimit ?? { max: 10, timeWindowMs: 5 * 60_000 },
    webRoot: deps.webRoot === undefined ? DEFAULT_WEB_ROOT : deps.webRoot,
    countyOutlinePath: deps.countyOutlinePath ?? DEMO_COUNTY_OUTLINE,
    version: packageVersion(),
    trustProxy: deps.trustProxy ?? [],
    reports: deps.reports ? { reports: deps.reports.service, defaultSource: deps.reports.defaultSource } : undefined,
    metrics: deps.metrics,
    readiness: deps.readiness,
  });
  const io = new Server(app.server, {
    path: '/socket.io/',
    ...(deps.socketAdapter ? { adapter: deps.socketAdapter } : {}),
    serveClient: false,
    connectionStateRecovery: { maxDisconnectionDuration: deps.recoveryWindowMs ?? 2 * 60_000, skipMiddlewares: false },
  });
  liveSessions.attach(io);
  const hub = new LiveHub({
    io,
    model,
    alerts: deps.alerts,
    subscribeIngest: deps.subscribeIngest,
    ...(deps.subscribeMedia ? { subscribeMedia: deps.subscribeMedia } : {}),
    authenticate: async (socket) => {
      const token = handshakeSessionToken(socket);
      return token ? users.resolveSession(token) : undefined;
    },
    logger,
    clock,
    ...(deps.flushMs ? { flushMs: deps.flushMs } : {}),
    ...(deps.statsMs ? { statsMs: deps.statsMs } : {}),
  });

  let started = false;
  return {
    app,
    io,
    hub,
    users,
    model,
    registryView,
    async start() {
      await registryView.start();
      await hub.start();
      await app.ready();
      started = true;
      logger.info({ institutions: registryView.snapshot.institutions.size }, 'dashboard started');
    },
    async listen(opts) {
      await app.listen(opts);
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : opts.port;
      return `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
    },
    async stop() {
      if (!started) return;
      started = false;
      await hub.stop();
      registryView.stop();
      // Clients first (they would hold the HTTP server open), then the server itself.
      io.disconnectSockets(true);
      io.engine.close();
      // app.close() waits for every response in flight; one client that stops reading mid-response
      // (a wall-screen PC on a bad line, a stalled download) would hold the county's shutdown
      // until its supervisor kills it. Responses get a grace, then their connections are closed.
      const force = setTimeout(() => app.server.closeAllConnections(), deps.closeGraceMs ?? 5000);
      try {
        await app.close();
      } finally {
        clearTimeout(force);
      }
      logger.info('dashboard stopped');
    },
  };
}
