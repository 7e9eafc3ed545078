import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { MediaBus } from '@anlian/bus';
import {
  createLogger,
  createMetricsRegistry,
  hasCode,
  type Logger,
  lowerThreadPriority,
  onShutdownSignal,
} from '@anlian/runtime';
import {
  describeStore,
  type MediaRecord,
  type MediaStore,
  type OpenedDatabase,
  openMediaStore,
  openStore,
  Registry,
} from '@anlian/store';
import { ensureDatabaseV1, InfluxWriter } from '@anlian/timeseries';
import type { Registry as MetricsRegistry } from 'prom-client';
import { EmbeddedBroker } from './broker/embedded-broker.js';
import { ExternalSubscriber } from './broker/external-subscriber.js';
import type { MessageSource } from './broker/message-source.js';
import type { IngestConfig } from './config.js';
import { loadIngestConfig } from './config.js';
import { IngestError } from './errors.js';
import { buildIngestService, type IngestService } from './ingest-service.js';

export interface RunningIngest {
  service: IngestService;
  database: OpenedDatabase;
  /** Video-review snapshots: the store's `media` table on PostgreSQL, the data directory's `media/` on SQLite. */
  media: MediaStore;
  /** Where it listens, for the start-up banner. */
  urls: { mqtt: string; http: string };
  stop(): Promise<void>;
}

async function readPem(file: string, variable: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new IngestError('ANL_ERR_CONFIG', `${variable}: cannot read ${file} (${(err as Error).message})`, {
      cause: err,
    });
  }
}

/** The embedded broker's certificate and key, read once at start (a renewal restarts ingest). */
async function readTlsFiles(tls: NonNullable<IngestConfig['mqtt']['tls']>) {
  return {
    port: tls.port,
    cert: await readPem(tls.certFile, 'ANLIAN_MQTT_TLS_CERT'),
    key: await readPem(tls.keyFile, 'ANLIAN_MQTT_TLS_KEY'),
  };
}

/**
 * Builds and starts ingest from configuration: store, InfluxDB writer, broker, health server.
 * Used by `anlian ingest` and by the all-in-one `anlian up`.
 */
export async function startIngest(
  config: IngestConfig,
  logger: Logger,
  metrics: MetricsRegistry = createMetricsRegistry(),
): Promise<RunningIngest> {
  const database = await openStore(config, logger);
  const registry = new Registry(database.db, { logger });
  const { target } = config.influx;
  if (config.influx.setup && target.generation === 1) {
    await ensureDatabaseV1(target);
  }
  const writer = new InfluxWriter({
    target,
    spoolDir: config.spoolDir,
    logger,
    metrics,
    batchSize: config.influx.batchSize,
    flushIntervalMs: config.influx.flushIntervalMs,
    maxSpoolBytes: config.influx.maxSpoolBytes,
  });
  const source: MessageSource =
    config.broker.mode === 'embedded'
      ? new EmbeddedBroker({
          host: config.mqtt.host,
          port: config.mqtt.port,
          directory: registry,
          logger,
          metrics,
          authLimits: config.mqttAuth,
          ...(config.mqtt.tls ? { tls: await readTlsFiles(config.mqtt.tls) } : {}),
        })
      : new ExternalSubscriber({
          ...config.broker,
          logger,
          metrics,
          ...(config.broker.caFile
            ? { tls: { ca: await readPem(config.broker.caFile, 'ANLIAN_BROKER_CA_FILE') } }
            : {}),
        });
  // On PostgreSQL the pictures go to the store every dashboard node reads (openMediaStore).
  const media = openMediaStore(database, config.dataDir);
  // With an external broker the dashboards are processes of their own, maybe on other servers:
  // each stored picture is announced to them on the county topics (in the all-in-one they hear
  // ingest's events in-process).
  const mediaBus =
    config.broker.mode === 'external'
      ? new MediaBus({
          broker: {
            url: config.broker.url,
            clientId: `${config.broker.clientId}-media`,
            username: config.broker.username,
            password: config.broker.password,
            caFile: config.broker.caFile,
          },
          logger,
          metrics,
        })
      : undefined;
  const announce = (record: MediaRecord) => {
    // Not awaited: the picture is stored, the gateway's snapshot may be acknowledged; the push to
    // the screens follows when the broker takes it (queued by mqtt.js while it is away).
    mediaBus
      ?.publishStored({ v: 1, ...record })
      .catch((err: unknown) =>
        logger.warn({ err, key: record.key }, 'stored snapshot could not be announced to the dashboards'),
      );
    return record.key;
  };
  const service = buildIngestService({
    logger,
    metrics,
    registry,
    writer,
    source,
    snapshots: {
      put: async (m, jpeg) =>
        announce(
          await media.put(
            {
              county: m.county,
              institution: m.institution,
              gateway: m.gateway,
              device: m.device,
              contentType: 'image/jpeg',
              cause: m.payload.cause,
              shot: m.payload.shot,
              ts: m.payload.ts,
              ...(m.payload.width ? { width: m.payload.width } : {}),
              ...(m.payload.height ? { height: m.payload.height } : {}),
            },
            jpeg,
          ),
        ),
    },
    storePing: () => registry.ping(),
    latestStatePath: path.join(config.dataDir, 'latest-state.json'),
    simulation: config.simulation,
    ...(config.influx.eventsRetentionPolicy ? { eventRetentionPolicy: config.influx.eventsRetentionPolicy } : {}),
  });
  try {
    await mediaBus?.start();
    await service.start();
    await service.http.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await service.stop().catch((e: unknown) => logger.error({ err: e }, 'cleanup after a failed start'));
    await mediaBus?.stop();
    await database.close();
    throw err;
  }
  // Retention of the pictures (default 30 days, the 2025 public video regulation): checked every 6 h.
  const retentionMs = config.mediaRetentionDays * 86_400_000;
  const purge = () =>
    media.purge(Date.now() - retentionMs).then(
      (n) => n > 0 && logger.info({ removed: n, days: config.mediaRetentionDays }, 'old snapshots removed'),
      (err: unknown) => logger.error({ err }, 'snapshot retention failed'),
    );
  void purge();
  const purgeTimer = setInterval(purge, 6 * 3600_000);
  purgeTimer.unref();
  const addr = service.http.server.address();
  const httpPort = typeof addr === 'object' && addr ? addr.port : config.http.port;
  return {
    service,
    database,
    media,
    urls: { mqtt: source.describe(), http: `http://${config.http.host}:${httpPort}` },
    async stop() {
      clearInterval(purgeTimer);
      await service.stop();
      await mediaBus?.stop();
      await database.close();
    },
  };
}

/** What `anlian ingest` prints once it serves: where it takes messages from and where it puts them. */
export function ingestBanner(config: IngestConfig, running: Pick<RunningIngest, 'urls'>): string {
  const { target } = config.influx;
  const broker =
    config.broker.mode === 'embedded'
      ? `embedded (aedes) ${running.urls.mqtt.replace(/ \(embedded aedes\)$/, '')}`
      : `${running.urls.mqtt}, user ${config.broker.username ?? '(anonymous)'}`;
  return [
    '安联网 Anlian ingest',
    `  broker     ${broker}`,
    `  store      ${describeStore(config)}`,
    `  InfluxDB   ${target.url}  database ${target.database}  (spool ${config.spoolDir})`,
    `  health     ${running.urls.http}/healthz  ${running.urls.http}/readyz  ${running.urls.http}/metrics`,
    '',
  ].join('\n');
}

/** `anlian ingest`: read the environment, start, serve until a signal. */
export async function runIngestCommand(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let config: IngestConfig;
  try {
    config = loadIngestConfig(env);
  } catch (err) {
    if (hasCode(err, 'ANL_ERR_CONFIG')) {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel, svc: 'ingest' });
  // On an external broker this process is bulk work only (alarms reach alerting on its own
  // sessions): it yields the CPU to the alarm path when cores are contended. Before anything starts,
  // so that libuv's pool inherits it.
  if (config.broker.mode === 'external') lowerThreadPriority(config.broker.bulkNice, logger, 'ingest');
  const running = await startIngest(config, logger);
  logger.info({ mqtt: running.urls.mqtt, http: running.urls.http, dataDir: config.dataDir }, 'ingest ready');
  process.stdout.write(ingestBanner(config, running));
  onShutdownSignal(logger, () => running.stop());
}
