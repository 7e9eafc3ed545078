import { hostname } from 'node:os';
import { BrokerEnv } from '@anlian/bus';
import { envBool, envLogLevel, envOptional, envPort, parseEnv } from '@anlian/runtime';
import { StoreEnv } from '@anlian/store';
import { InfluxEnv } from '@anlian/timeseries';
import { z } from 'zod';

/** The dashboard's own settings (both forms): where it listens, cookies, the county outline. */
export const DashboardConfigSchema = z.object({
  ANLIAN_DASHBOARD_HOST: z.string().default('127.0.0.1').describe('dashboard listen address'),
  ANLIAN_DASHBOARD_PORT: envPort.default(8080).describe('dashboard port (wall screen, API, socket.io)'),
  ANLIAN_DASHBOARD_SECURE_COOKIES: envBool.default(false).describe('mark session cookies Secure (set behind HTTPS)'),
  ANLIAN_COUNTY_GEOJSON: envOptional.describe('county outline GeoJSON for the map (default: the demo county)'),
});
export type DashboardConfig = z.infer<typeof DashboardConfigSchema>;

/** Parses once; every problem is listed in one error (CONVENTIONS.md §5). */
export function loadDashboardConfig(env: NodeJS.ProcessEnv = process.env): Readonly<DashboardConfig> {
  return Object.freeze(parseEnv(DashboardConfigSchema, env));
}

/**
 * `anlian dashboard`, a node of the production form: its own broker subscription for live state,
 * alerting over HTTP, PostgreSQL, InfluxDB for history, and Redis for socket.io across nodes.
 */
export const DashboardServiceSchema = DashboardConfigSchema.extend(StoreEnv.shape)
  .extend(InfluxEnv.shape)
  .extend(BrokerEnv.shape)
  .extend({
    ANLIAN_LOG_LEVEL: envLogLevel,
    ANLIAN_NODE_ID: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)
      .optional()
      .describe('this node’s name (broker client ids, logs); default dashboard-<hostname>-<port>'),
    ANLIAN_ALERTING_URLS: z
      .string()
      .default('http://127.0.0.1:9190')
      .transform((s) =>
        s
          .split(',')
          .map((u) => u.trim())
          .filter((u) => u !== ''),
      )
      .pipe(z.array(z.url()).min(1))
      .describe('alerting nodes’ HTTP addresses, comma-separated'),
    ANLIAN_SERVICE_TOKEN: envOptional.describe('the county’s service token for alerting’s API'),
    ANLIAN_PUBLIC_URL: envOptional.describe('the dashboard’s public base URL, for links in hazard notices'),
    ANLIAN_REDIS_URL: envOptional.describe(
      'Redis for socket.io across dashboard nodes (redis://host:6379); one node needs none',
    ),
  })
  .superRefine((c, ctx) => {
    if (!c.ANLIAN_BROKER_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['ANLIAN_BROKER_URL'],
        message: 'required: the dashboard reads live state from the broker',
      });
    }
  });
export type DashboardServiceConfig = z.infer<typeof DashboardServiceSchema> & { nodeId: string };

export function loadDashboardServiceConfig(env: NodeJS.ProcessEnv = process.env): Readonly<DashboardServiceConfig> {
  const c = parseEnv(DashboardServiceSchema, env);
  return Object.freeze({ ...c, nodeId: c.ANLIAN_NODE_ID ?? `dashboard-${hostname()}-${c.ANLIAN_DASHBOARD_PORT}` });
}

export function describeDashboardConfig(): { name: string; description: string }[] {
  return Object.entries(DashboardServiceSchema.shape).map(([name, schema]) => ({
    name,
    description: (schema as z.ZodType).description ?? '',
  }));
}
