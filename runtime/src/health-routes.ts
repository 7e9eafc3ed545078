import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  ok: boolean;
  detail?: string;
}

export interface HealthRoutesOptions {
  metrics: Registry;
  /** Each named part of the service says whether it is ready (broker, store, InfluxDB …). */
  readiness: () => Promise<Record<string, ReadinessCheck>>;
}

/**
 * What every county service answers (ARCHITECTURE.md, Production): `/healthz` — the process
 * answers; `/readyz` — every part is ready (503 naming the failing part otherwise); `/metrics` —
 * prom-client's exposition for Prometheus.
 */
export function registerHealthRoutes(app: FastifyInstance, opts: HealthRoutesOptions): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const checks = await opts.readiness();
    const ready = Object.values(checks).every((c) => c.ok);
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
  });

  app.get('/metrics', async (_req, reply) => {
    const body = await opts.metrics.metrics();
    return reply.type(opts.metrics.contentType).send(body);
  });
}
