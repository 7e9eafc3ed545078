import { AlertingClient } from '@anlian/alerting/client';
import { AlertBus, brokerFromEnv, CountyFeed, LatestStateCache, MediaBus, updateLatestState } from '@anlian/bus';
import { createLogger, createMetricsRegistry, hasCode, onShutdownSignal } from '@anlian/runtime';
import { openMediaStore, openStore, storeLocation } from '@anlian/store';
import { buildSupervision, migrateSupervision } from '@anlian/supervision';
import { influxTargetFromEnv, queryV1 } from '@anlian/timeseries';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { loadDashboardServiceConfig } from './config.js';
import { buildDashboard } from './dashboard.js';
import { migrateDashboard } from './store/dashboard-migrations.js';
import { hazardAuditFrom } from './supervision/hazard-audit.js';
import { hazardNotifierFrom } from './supervision/hazard-notifier.js';

/**
 * `anlian dashboard`: one dashboard node of the production form. Live state comes from its own
 * subscription on the broker (every node sees every gateway message, so every wall screen is
 * complete whichever node it is connected to); alerts come from alerting's HTTP API and the
 * county's alert topics on the broker; video-review pictures from the store ingest put them in
 * (PostgreSQL), announced on the county's media topic; socket.io's Redis Streams adapter joins the nodes for what
 * one node does to clients of another (ending a user's sessions everywhere).
 */
export async function runDashboardCommand(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: ReturnType<typeof loadDashboardServiceConfig>;
  try {
    config = loadDashboardServiceConfig(env);
  } catch (err) {
    if (hasCode(err, 'ANL_ERR_CONFIG')) {
      process.stderr.write(`anlian dashboard: ${(err as Error).message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.ANLIAN_LOG_LEVEL, svc: 'dashboard' });
  const metrics = createMetricsRegistry({ labels: { node: config.nodeId } });
  const store = await openStore(storeLocation(config), logger);
  await migrateDashboard(store.db, logger);
  await migrateSupervision(store.db, logger);

  const broker = brokerFromEnv(config, config.nodeId);
  if (!broker) throw new Error('unreachable: ANLIAN_BROKER_URL is required by the schema');
  const cache = new LatestStateCache();
  const feed = new CountyFeed({ broker, persistent: false, logger, metrics });
  // The cache first: the live model reads it when the hub hears the same message.
  feed.onEvent((e) => updateLatestState(cache, e));
  const alertBus = new AlertBus({ broker: { ...broker, clientId: `${config.nodeId}-alerts` }, logger, metrics });
  // Pictures ingest stored, whichever replica on whichever server: pushed as they are announced.
  const mediaBus = new MediaBus({ broker: { ...broker, clientId: `${config.nodeId}-media` }, logger, metrics });
  const alerts = new AlertingClient({
    urls: config.ANLIAN_ALERTING_URLS,
    serviceToken: config.ANLIAN_SERVICE_TOKEN,
    changes: (listener) => alertBus.onChange(listener),
  });

  let redis: ReturnType<typeof createClient> | undefined;
  if (config.ANLIAN_REDIS_URL) {
    redis = createClient({ url: config.ANLIAN_REDIS_URL });
    // node-redis reconnects by itself; say so once per outage, not per attempt.
    let down = false;
    redis.on('error', (err: Error) => {
      if (!down)
        logger.warn({ err: err.message }, 'Redis unreachable; socket.io works on this node alone until it is back');
      down = true;
    });
    redis.on('ready', () => {
      if (down) logger.info('Redis is back');
      down = false;
    });
    await redis.connect();
  }
  // Supervision (issue 16): every dashboard node runs the scheduler; a store lease lets one work
  // each county. Overdue hazards go out through alerting's channels (its HTTP API).
  const supervision = buildSupervision({
    db: store.db,
    logger,
    metrics,
    audit: hazardAuditFrom(store.db, logger),
    notifier: hazardNotifierFrom({
      send: (n) => alerts.sendNotice(n),
      publicUrl: config.ANLIAN_PUBLIC_URL,
      logger,
    }),
    scheduler: { holder: config.nodeId },
  });
  const influx = influxTargetFromEnv(config);
  const dashboard = await buildDashboard({
    db: store.db,
    cache,
    subscribeIngest: feed.onEvent,
    queryInflux: (q) => queryV1(influx, q),
    alerts,
    // Video review pictures where ingest stores them: the store's media table on PostgreSQL (any
    // server), the data directory's media/ on SQLite (ingest on the same host and data directory).
    media: openMediaStore(store, storeLocation(config).dataDir),
    subscribeMedia: (listener) => mediaBus.onStored(listener),
    supervision,
    logger,
    metrics,
    secureCookies: config.ANLIAN_DASHBOARD_SECURE_COOKIES,
    trustProxy: config.ANLIAN_DASHBOARD_TRUST_PROXY,
    ...(config.ANLIAN_COUNTY_GEOJSON ? { countyOutlinePath: config.ANLIAN_COUNTY_GEOJSON } : {}),
    ...(redis ? { socketAdapter: createAdapter(redis) } : {}),
    readiness: async () => ({
      broker: { ok: feed.connected() && alertBus.connected() && mediaBus.connected(), detail: feed.describe() },
      ...(redis ? { redis: { ok: redis.isReady, detail: redis.isReady ? 'up' : 'reconnecting' } } : {}),
    }),
  });
  await alertBus.start();
  await mediaBus.start();
  await feed.start();
  // After a broker outage the alert topics may have missed changes: start again from alerting.
  alertBus.onReconnect(() => void dashboard.hub.reloadAlerts());
  await dashboard.start();
  supervision.scheduler.start();
  const url = await dashboard.listen({ host: config.ANLIAN_DASHBOARD_HOST, port: config.ANLIAN_DASHBOARD_PORT });
  logger.info({ url, node: config.nodeId }, 'dashboard ready');
  process.stdout.write(
    `安联网 dashboard ${config.nodeId}: ${url}/  (wall screen ${url}/#/wall, API ${url}/api/openapi.json)\n` +
      `  store ${store.dialect === 'postgres' ? 'PostgreSQL' : 'SQLite'}, broker ${feed.describe()}, InfluxDB ${influx.url}, alerting ${config.ANLIAN_ALERTING_URLS.join(' ')}${redis ? `, Redis ${config.ANLIAN_REDIS_URL}` : ''}\n`,
  );
  onShutdownSignal(logger, async () => {
    await supervision.scheduler.stop();
    await dashboard.stop();
    await feed.stop();
    await alertBus.stop();
    await mediaBus.stop();
    await redis?.quit().catch(() => {});
    await store.close();
  });
}
