import {
  type AlertingConfig,
  type AlertingNode,
  buildAlerting,
  type ChannelBinding,
  DutyCheckService,
  TransportGatewayCommands,
} from '@anlian/alerting';
import {
  buildDashboard,
  type Dashboard,
  type DashboardConfig,
  type DashboardDeps,
  hazardAuditFrom,
  hazardNotifierFrom,
  migrateDashboard,
} from '@anlian/dashboard';
import { EmbeddedBroker, type IngestConfig, type RunningIngest, startIngest } from '@anlian/ingest';
import type { Database } from '@anlian/store';
import {
  buildSupervision,
  type DemoSeedResult,
  migrateSupervision,
  type Supervision,
  seedSupervisionDemo,
} from '@anlian/supervision';
import { queryV1 } from '@anlian/timeseries';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';

export interface AllInOneOptions {
  ingest: IngestConfig;
  alerting: AlertingConfig;
  /** The dashboard's settings; no dashboard when left out (benches, tests of the alarm path). */
  dashboard?: DashboardConfig | undefined;
  logger: Logger;
  metrics: Registry;
  /** Channels besides the channel file's (a bench's loopback webhook, a test's). */
  channels?: readonly ChannelBinding[];
  /** The dashboard's web app; default the built one, null for the API only. */
  webRoot?: string | null;
  /**
   * Supervision reports for the dashboard (issue 17), made once the store is migrated: the
   * report service and the data its page offers first. No report routes when left out.
   */
  reports?: (db: Kysely<Database>) => Promise<DashboardDeps['reports']>;
  /**
   * The demo county's supervision history, generated from the simulator's seed on the first
   * start (`anlian up --demo`), before the supervision scheduler starts.
   */
  supervisionDemo?: { seed: number } | undefined;
}

/** A county in one process, started. `stop()` drains everything in the right order. */
export interface AllInOneCounty {
  ingest: RunningIngest;
  alerting: AlertingNode;
  dutyChecks: DutyCheckService | undefined;
  dashboard: Dashboard | undefined;
  /** The hazard ledger, grades and inspections (issue 16), with the dashboard; its scheduler runs. */
  supervision: Supervision | undefined;
  /** What the demo history generation did, when asked for. */
  supervisionDemo: DemoSeedResult | undefined;
  /** The dashboard's base URL, when it listens. */
  dashboardUrl: string | undefined;
  /** The county the store holds (the first by id), when there is one. */
  county: string | undefined;
  stop(): Promise<void>;
}

/**
 * The all-in-one county (`anlian up`, the all-in-one benches and tests): ingest with its broker,
 * alerting on ingest's events *before* they are stored (the alarm path never waits on the storage
 * path), county → gateway commands through the embedded broker, and the dashboard on the same
 * store, latest-state cache and events. The same builders as the production form
 * (`anlian ingest`, `anlian alerting`, `anlian dashboard`), whose transports are the broker
 * and HTTP instead of in-process calls.
 *
 * Throws (after stopping what it started) when a part cannot start; the dashboard's listen
 * error carries `code` `ANL_ERR_LISTEN`.
 */
export async function startAllInOne(o: AllInOneOptions): Promise<AllInOneCounty> {
  const { logger, metrics } = o;
  const ingest = await startIngest(o.ingest, logger, metrics);
  const stops: (() => Promise<void>)[] = [() => ingest.stop()];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse())
      await stop().catch((err: unknown) => logger.error({ err }, 'stop failed'));
  };
  try {
    const db = ingest.database.db;
    const county = (await db.selectFrom('counties').select('id').orderBy('id').executeTakeFirst())?.id;
    // County → gateway commands (drills, duty checks) through the embedded broker, in process;
    // stopped after alerting, which starts and stops drills at the gateways through them.
    const broker = ingest.service.source;
    const commands =
      broker instanceof EmbeddedBroker && county
        ? new TransportGatewayCommands({ transport: broker.countyLink(), county, logger })
        : undefined;
    if (commands) {
      await commands.start();
      stops.push(() => commands.stop());
    }
    const alerting = await buildAlerting({
      db,
      config: o.alerting,
      logger,
      metrics,
      subscribe: (listener) => ingest.service.pipeline.onEvent(listener),
      events: ingest.service.writer,
      eventsRetentionPolicy: o.ingest.influx.eventsRetentionPolicy,
      ...(o.channels ? { channels: o.channels } : {}),
      commands,
    });
    await alerting.start();
    stops.push(() => alerting.stop());

    let dutyChecks: DutyCheckService | undefined;
    if (commands) {
      dutyChecks = new DutyCheckService({
        db: db as never,
        commands,
        raise: (signal) => alerting.service.signal(signal),
        logger,
      });
      dutyChecks.start();
      const checks = dutyChecks;
      stops.push(() => checks.stop());
    }

    let dashboard: Dashboard | undefined;
    let dashboardUrl: string | undefined;
    let supervision: Supervision | undefined;
    let supervisionDemo: DemoSeedResult | undefined;
    if (o.dashboard) {
      await migrateDashboard(db, logger);
      const reports = o.reports ? await o.reports(db) : undefined;
      // Supervision (issue 16): the hazard ledger's transitions in the dashboard's audit log,
      // overdue hazards pushed through alerting's channels. Its scheduler runs once per county
      // across processes (a store lease).
      await migrateSupervision(db, logger);
      const sup = buildSupervision({
        db,
        logger,
        metrics,
        audit: hazardAuditFrom(db, logger),
        notifier: hazardNotifierFrom({
          send: (n) => alerting.api.sendNotice(n),
          publicUrl: o.alerting.publicUrl,
          logger,
        }),
      });
      supervision = sup;
      stops.push(() => sup.scheduler.stop());
      if (o.supervisionDemo && county) {
        supervisionDemo = await seedSupervisionDemo(db, {
          county,
          seed: o.supervisionDemo.seed,
          now: Date.now(),
          logger,
        });
      }
      const d = await buildDashboard({
        db,
        ...(reports ? { reports } : {}),
        cache: ingest.service.cache,
        subscribeIngest: (listener) => ingest.service.pipeline.onEvent(listener),
        queryInflux: (q) => queryV1(o.ingest.influx.target, q),
        alerts: alerting.api,
        // Video review (视频复核): the pictures ingest stores, served and pushed as they arrive.
        media: ingest.media,
        supervision: sup,
        logger,
        metrics,
        secureCookies: o.dashboard.ANLIAN_DASHBOARD_SECURE_COOKIES,
        ...(o.webRoot !== undefined ? { webRoot: o.webRoot } : {}),
        ...(o.dashboard.ANLIAN_COUNTY_GEOJSON ? { countyOutlinePath: o.dashboard.ANLIAN_COUNTY_GEOJSON } : {}),
      });
      dashboard = d;
      // The dashboard stops first: its clients are told before the services under it go.
      stops.push(() => d.stop());
      await d.start();
      try {
        dashboardUrl = await d.listen({
          host: o.dashboard.ANLIAN_DASHBOARD_HOST,
          port: o.dashboard.ANLIAN_DASHBOARD_PORT,
        });
      } catch (err) {
        throw Object.assign(
          new Error(
            `the dashboard cannot listen on ${o.dashboard.ANLIAN_DASHBOARD_HOST}:${o.dashboard.ANLIAN_DASHBOARD_PORT} (${(err as Error).message}); set ANLIAN_DASHBOARD_PORT to another port.`,
          ),
          { code: 'ANL_ERR_LISTEN' },
        );
      }
    }
    supervision?.scheduler.start();
    return {
      ingest,
      alerting,
      dutyChecks,
      dashboard,
      supervision,
      supervisionDemo,
      dashboardUrl,
      county,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
