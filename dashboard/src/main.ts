import { LatestStateCache, loadIngestConfig, onShutdownSignal, queryV1 } from '@anlian/ingest';
import { pino } from 'pino';
import { InMemoryAlerts } from './alerts/in-memory-alerts.js';
import { loadDashboardConfig } from './config.js';
import { buildDashboard } from './dashboard.js';
import { IngestStatePoller } from './ingest-state-poller.js';
import { openDashboardStore } from './store/open-dashboard-store.js';

/**
 * `anlian dashboard`: the dashboard in its own process, next to a separate ingest (whose latest
 * state it polls) on the same store and InfluxDB. Until alerting runs as a service of its own,
 * alerts here come from an in-memory alert service fed by gateway state changes only: run
 * `anlian up` for the full picture.
 */
export async function runDashboardCommand(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadDashboardConfig(env);
  const ingestConfig = loadIngestConfig(env);
  const logger = pino({
    level: ingestConfig.logLevel,
    base: { svc: 'dashboard' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
  const store = await openDashboardStore(ingestConfig, logger);
  const cache = new LatestStateCache();
  const poller = new IngestStatePoller({
    url: config.ANLIAN_INGEST_URL,
    cache,
    everyMs: config.ANLIAN_INGEST_POLL_MS,
    logger,
  });
  const alerts = new InMemoryAlerts({ subscribe: poller.subscribe });
  const dashboard = await buildDashboard({
    db: store.db,
    cache,
    subscribeIngest: poller.subscribe,
    queryInflux: (q) => queryV1(ingestConfig.influx.target, q),
    alerts,
    logger,
    secureCookies: config.ANLIAN_DASHBOARD_SECURE_COOKIES,
    trustProxy: config.ANLIAN_DASHBOARD_TRUST_PROXY,
    ...(config.ANLIAN_COUNTY_GEOJSON ? { countyOutlinePath: config.ANLIAN_COUNTY_GEOJSON } : {}),
  });
  alerts.start();
  await poller.start();
  await dashboard.start();
  const url = await dashboard.listen({ host: config.ANLIAN_DASHBOARD_HOST, port: config.ANLIAN_DASHBOARD_PORT });
  logger.info({ url }, 'dashboard ready');
  process.stdout.write(
    `安联网 dashboard: ${url}/  (wall screen ${url}/#/wall, manager ${url}/#/manager, API ${url}/api/openapi.json)\n`,
  );
  onShutdownSignal(logger, async () => {
    poller.stop();
    alerts.stop();
    await dashboard.stop();
    await store.close();
  });
}
