import { LatestStateCache } from '@anlian/bus';
import { SequenceWindow } from '@anlian/protocol';
import type { Logger } from '@anlian/runtime';
import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { MessageSource } from './broker/message-source.js';
import { buildHealthServer, type ReadinessCheck } from './http/health-server.js';
import {
  IngestPipeline,
  type IngestPipelineOptions,
  type LineStore,
  type SnapshotSink,
} from './pipeline/ingest-pipeline.js';
import { LatestStateFile } from './pipeline/latest-state-file.js';
import { RegistryCache, type RegistrySource } from './pipeline/registry-cache.js';

/** The storage path as the service drives it: the InfluxDB writer with its spool. */
export interface StorageWriter extends LineStore {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): { healthy: boolean; pendingLines: number; lastError?: string | undefined };
}

export interface IngestServiceDeps {
  logger: Logger;
  metrics: Registry;
  registry: RegistrySource;
  writer: StorageWriter;
  source: MessageSource;
  /** Checks that the operational store answers. */
  storePing?: () => Promise<void>;
  registryRefreshMs?: number;
  /** See {@link IngestPipelineOptions.eventRetentionPolicy}. */
  eventRetentionPolicy?: string;
  /** Where the latest-state cache is kept across restarts; not kept when left out. */
  latestStatePath?: string;
  /** See {@link IngestPipelineOptions.simulation}. */
  simulation?: IngestPipelineOptions['simulation'];
  /** The media store for video-review snapshots; without one they are refused. */
  snapshots?: SnapshotSink;
}

export interface IngestService {
  readonly pipeline: IngestPipeline;
  readonly cache: LatestStateCache;
  readonly registry: RegistryCache;
  readonly http: FastifyInstance;
  readonly source: MessageSource;
  /** The storage path; alerting writes its `alert_event` points through it too. */
  readonly writer: StorageWriter;
  start(): Promise<void>;
  /** Graceful drain: stop taking messages, finish those in flight, flush storage. */
  stop(): Promise<void>;
}

/**
 * Wires the ingest service without starting it (CONVENTIONS.md §2): the caller decides
 * where the HTTP server listens and calls `start`/`stop`.
 */
export function buildIngestService(deps: IngestServiceDeps): IngestService {
  const log = deps.logger.child({ module: 'ingest' });
  const cache = new LatestStateCache();
  const stateFile = deps.latestStatePath ? new LatestStateFile(deps.latestStatePath, cache, log) : undefined;
  const registry = new RegistryCache({
    source: deps.registry,
    logger: deps.logger,
    ...(deps.registryRefreshMs ? { refreshMs: deps.registryRefreshMs } : {}),
  });
  const pipeline = new IngestPipeline({
    registry,
    store: deps.writer,
    cache,
    window: new SequenceWindow(),
    logger: deps.logger,
    metrics: deps.metrics,
    ...(deps.eventRetentionPolicy ? { eventRetentionPolicy: deps.eventRetentionPolicy } : {}),
    ...(deps.simulation ? { simulation: deps.simulation } : {}),
    ...(deps.snapshots ? { snapshots: deps.snapshots } : {}),
  });

  const readiness = async (): Promise<Record<string, ReadinessCheck>> => {
    const w = deps.writer.stats();
    const checks: Record<string, ReadinessCheck> = {
      broker: { ok: deps.source.connected(), detail: deps.source.describe() },
      influxdb: {
        ok: w.healthy,
        detail: w.healthy ? `${w.pendingLines} lines pending` : `failing: ${w.lastError ?? 'unknown'}`,
      },
    };
    if (deps.storePing) {
      checks.store = await deps.storePing().then(
        () => ({ ok: true }),
        (err: Error) => ({ ok: false, detail: err.message }),
      );
    }
    return checks;
  };
  const http = buildHealthServer({ logger: deps.logger, metrics: deps.metrics, cache, readiness });

  let started = false;
  return {
    pipeline,
    cache,
    registry,
    http,
    source: deps.source,
    writer: deps.writer,
    async start() {
      await stateFile?.start();
      await registry.start();
      // Storage first: the broker must not acknowledge anything before the spool can take it.
      await deps.writer.start();
      await deps.source.start((msg) => pipeline.handle(msg));
      started = true;
      log.info({ broker: deps.source.describe(), ...registry.counts }, 'ingest started');
    },
    async stop() {
      if (!started) return;
      started = false;
      await deps.source.stop();
      await registry.stop();
      await deps.writer.stop();
      await stateFile?.stop();
      await http.close();
      log.info('ingest stopped');
    },
  };
}
