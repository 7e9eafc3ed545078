import path from 'node:path';
import { LatestStateCache, loadIngestConfig } from '@anlian/ingest';
import { onShutdownSignal } from '@anlian/runtime';
import { FilesystemMediaStore } from '@anlian/store';
import { queryV1 } from '@anlian/timeseries';
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
    // Video review pictures, where ingest stores them (the same data directory): served over HTTP;
    // without ingest's events here they are not pushed, the clients' poll finds them.
    media: new FilesystemMediaStore({ root: path.join(ingestConfig.dataDir, 'media') }),
    logger,
    secureCookies: config.ANLIAN_DASHBOARD_SECURE_COOKIES,
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
