import { collectDefaultMetrics, Registry } from 'prom-client';

/** A fresh prom-client registry with the process metrics; one per process (or per test). */
export function createMetricsRegistry(
  opts: { defaultMetrics?: boolean; labels?: Record<string, string> } = {},
): Registry {
  const registry = new Registry();
  if (opts.labels) registry.setDefaultLabels(opts.labels);
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'anlian_' });
  return registry;
}
