import path from 'node:path';
import { AlertBus, brokerFromEnv, CountyFeed, mqttClientOptions } from '@anlian/bus';
import { createLogger, createMetricsRegistry, hasCode, onShutdownSignal, registerHealthRoutes } from '@anlian/runtime';
import { openStore, type PartitionLeases, PgAdvisoryLeases, SoleLeases, storeLocation } from '@anlian/store';
import { InfluxWriter, influxTargetFromEnv } from '@anlian/timeseries';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import mqtt from 'mqtt';
import { type AlertingNode, buildAlerting, loadRules } from './alerting-node.js';
import { registerAlertingRoutes } from './api/alerting-routes.js';
import { mqttCommandTransport, TransportGatewayCommands } from './commands/gateway-commands.js';
import type { AlertingConfig } from './config.js';
import { BulkLaneThread } from './lane/bulk-lane.js';
import { engineStateName } from './service/alerting-service.js';
import { type AlertingServiceConfig, loadAlertingServiceConfig } from './service-config.js';

/** A running `anlian alerting` node. */
export interface AlertingServiceHandle {
  node: AlertingNode;
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts one alerting node of the production form from its configuration: the store, its own
 * persistent broker sessions for the gateways' messages (the alarm lane apart from the bulk lane;
 * never behind ingest's storage path), `alert_event` points through its own spool, alert changes
 * published on the county topics, commands to gateways, and the HTTP API for the dashboards.
 */
export async function startAlertingService(
  config: AlertingServiceConfig,
  opts: {
    /** The bulk lane thread's module (tests wrap the compiled `bulk-lane-worker.js`). */
    bulkLaneEntry?: URL;
  } = {},
): Promise<AlertingServiceHandle> {
  const logger = createLogger({ level: config.ANLIAN_LOG_LEVEL, svc: 'alerting' }).child({ node: config.nodeId });
  const metrics = createMetricsRegistry({ labels: { node: config.nodeId } });
  const where = storeLocation(config);
  const alertingConfig: AlertingConfig = {
    rulesFile: config.ANLIAN_ALERT_RULES_FILE,
    channelsFile: config.ANLIAN_ALERT_CHANNELS_FILE,
    publicUrl: config.ANLIAN_PUBLIC_URL,
    tickMs: config.ANLIAN_ALERT_TICK_MS,
    silenceMaxHours: config.ANLIAN_ALERT_SILENCE_MAX_HOURS,
    dutyCheckEveryH: config.ANLIAN_DUTY_CHECK_EVERY_H,
  };
  const store = await openStore(where, logger);
  const stops: (() => Promise<void>)[] = [() => store.close()];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse())
      await stop().catch((err: unknown) => logger.error({ err }, 'stop failed'));
  };
  try {
    const broker = brokerFromEnv(config, config.nodeId);
    if (!broker) throw new Error('unreachable: ANLIAN_BROKER_URL is required by the schema');
    const influx = influxTargetFromEnv(config);
    const writer = new InfluxWriter({
      target: influx,
      spoolDir: path.join(where.dataDir, `spool-${config.nodeId}`),
      logger,
      metrics,
    });
    await writer.start();
    stops.push(() => writer.stop());
    const bus = new AlertBus({ broker: { ...broker, clientId: `${config.nodeId}-changes` }, logger, metrics });
    await bus.start();
    stops.push(() => bus.stop());
    // The alarm lane here, on the thread that pushes; the bulk lane on a thread of its own
    // (src/lane/bulk-lane.ts): a fire alarm never waits behind 10k msg/s of telemetry.
    const feed = new CountyFeed({ broker, lanes: ['alarm'], persistent: true, logger, metrics });
    const rules = await loadRules(alertingConfig);
    const bulkLane = new BulkLaneThread({
      init: {
        nodeId: config.nodeId,
        broker,
        store: { dbUrl: where.dbUrl, sqlitePath: where.sqlitePath },
        rules,
        tickMs: config.ANLIAN_ALERT_TICK_MS,
        snapshotMs: 30_000,
        directoryRefreshMs: 60_000,
        stateName: engineStateName(config.nodeId, 'bulk'),
        legacyStateName: engineStateName(config.nodeId),
        logLevel: config.ANLIAN_LOG_LEVEL,
        nice: config.ANLIAN_BULK_NICE,
      },
      logger,
      metrics,
      ...(opts.bulkLaneEntry ? { entry: opts.bulkLaneEntry } : {}),
    });
    const county = (await store.db.selectFrom('counties').select('id').orderBy('id').executeTakeFirst())?.id;
    // Several nodes on PostgreSQL share the institutions through leases; one node on SQLite holds all.
    const leases: PartitionLeases = where.dbUrl
      ? new PgAdvisoryLeases({
          url: where.dbUrl,
          name: 'alerting',
          partitions: config.ANLIAN_ALERTING_PARTITIONS,
          nodeId: config.nodeId,
          logger,
        })
      : new SoleLeases(config.ANLIAN_ALERTING_PARTITIONS);
    // Commands to gateways (duty checks) on the node's own connection, for the county the store holds.
    let commands: TransportGatewayCommands | undefined;
    if (county) {
      const client = mqtt.connect(broker.url, mqttClientOptions({ ...broker, clientId: `${config.nodeId}-commands` }));
      stops.push(() => client.endAsync().then(() => undefined));
      commands = new TransportGatewayCommands({ transport: mqttCommandTransport(client), county, logger });
      await commands.start();
      const c = commands;
      stops.push(() => c.stop());
    }
    const node = await buildAlerting({
      db: store.db,
      config: alertingConfig,
      rules,
      logger,
      metrics,
      subscribe: feed.onEvent,
      events: writer,
      eventsRetentionPolicy: config.INFLUX_EVENTS_RP || undefined,
      publishChange: (m) => bus.publishChange(m),
      nodeId: config.nodeId,
      leases,
      publishConfigChanged: (what) => {
        if (county) bus.publishConfigChanged(county, { v: 1, what, node: config.nodeId, at: Date.now() });
      },
      commands,
      bulkLane,
    });
    await node.start();
    stops.push(() => node.stop());
    bus.onConfigChanged((m) => {
      if (m.node !== config.nodeId) void node.service.reloadConfig(m.what);
    });
    // Messages flow once alerting has its open alerts and engine state back.
    await feed.start();
    stops.push(() => feed.stop());

    const http = Fastify({
      loggerInstance: logger.child({ module: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    }) as unknown as FastifyInstance;
    registerHealthRoutes(http, {
      metrics,
      readiness: async () => {
        const w = writer.stats();
        return {
          broker: { ok: feed.connected() && bus.connected(), detail: feed.describe() },
          bulkLane: bulkLane.health(),
          store: await store.db
            .selectFrom('counties')
            .select('id')
            .limit(1)
            .execute()
            .then(
              () => ({ ok: true }),
              (err: Error) => ({ ok: false, detail: err.message }),
            ),
          influxdb: {
            ok: w.healthy,
            detail: w.healthy ? `${w.pendingLines} lines pending` : (w.lastError ?? 'failing'),
          },
        };
      },
    });
    // Which institutions this node acts for now (operators, and the tests of failover).
    http.get('/v1/node', async () => ({ node: config.nodeId, partitions: node.service.partitions() }));
    registerAlertingRoutes(http, {
      api: node.api,
      ...(config.ANLIAN_SERVICE_TOKEN ? { serviceToken: config.ANLIAN_SERVICE_TOKEN } : {}),
    });
    await http.listen({ host: config.ANLIAN_ALERTING_HOST, port: config.ANLIAN_ALERTING_PORT });
    stops.push(() => http.close());
    const addr = http.server.address();
    const port = typeof addr === 'object' && addr ? addr.port : config.ANLIAN_ALERTING_PORT;
    const url = `http://${config.ANLIAN_ALERTING_HOST}:${port}`;
    logger.info(
      {
        url,
        store: store.dialect,
        broker: feed.describe(),
        influx: influx.url,
        open: node.service.openAlerts().length,
      },
      'alerting ready',
    );
    return { node, url, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** `anlian alerting`: read the environment, start, serve until a signal. */
export async function runAlertingCommand(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: AlertingServiceConfig;
  try {
    config = loadAlertingServiceConfig(env);
  } catch (err) {
    if (hasCode(err, 'ANL_ERR_CONFIG')) {
      process.stderr.write(`anlian alerting: ${(err as Error).message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const handle = await startAlertingService(config);
  process.stdout.write(
    `安联网 alerting ${config.nodeId}: API ${handle.url}/v1  health ${handle.url}/healthz ${handle.url}/readyz ${handle.url}/metrics\n`,
  );
  const logger = createLogger({ level: config.ANLIAN_LOG_LEVEL, svc: 'alerting' });
  onShutdownSignal(logger, () => handle.stop());
}
