import type { LatestStateCache } from '@anlian/bus';
import { type Logger, type ReadinessCheck, registerHealthRoutes } from '@anlian/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export type { ReadinessCheck };

export interface HealthServerOptions {
  logger: Logger;
  metrics: Registry;
  cache: LatestStateCache;
  /** Each named part of the service says whether it is ready. */
  readiness: () => Promise<Record<string, ReadinessCheck>>;
}

/**
 * `/healthz` (the process answers), `/readyz` (every part is ready: broker, store, InfluxDB),
 * `/metrics` (prom-client) and read-only latest state for operators and the dashboard.
 * Built, not started: the caller listens (CONVENTIONS.md §2).
 */
export function buildHealthServer(opts: HealthServerOptions): FastifyInstance {
  // Request lines at info would log every scrape: fastify logs warnings and errors only.
  const app = Fastify({
    loggerInstance: opts.logger.child({ module: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
  }) as unknown as FastifyInstance;

  registerHealthRoutes(app, { metrics: opts.metrics, readiness: opts.readiness });

  app.get<{ Querystring: { institution?: string } }>('/v1/state/devices', async (req) => {
    const filter = req.query.institution ? { institution: req.query.institution } : undefined;
    return { devices: opts.cache.devices(filter) };
  });

  app.get<{ Querystring: { institution?: string } }>('/v1/state/gateways', async (req) => {
    const filter = req.query.institution ? { institution: req.query.institution } : undefined;
    return { gateways: opts.cache.gateways(filter) };
  });

  return app;
}
