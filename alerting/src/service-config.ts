import { hostname } from 'node:os';
import { BrokerEnv } from '@anlian/bus';
import { envBulkNice, envLogLevel, envOptional, envPort, parseEnv } from '@anlian/runtime';
import { StoreEnv } from '@anlian/store';
import { InfluxEnv } from '@anlian/timeseries';
import { z } from 'zod';
import { AlertingConfigSchema } from './config.js';

/**
 * `anlian alerting`, a node of the production form, from its environment: alerting's own
 * settings (rules, channels, tick), the store (PostgreSQL), the broker it reads gateways' messages
 * from and publishes alert changes and commands to, InfluxDB for `alert_event`, its HTTP API.
 */
export const AlertingServiceSchema = AlertingConfigSchema.extend(StoreEnv.shape)
  .extend(InfluxEnv.shape)
  .extend(BrokerEnv.shape)
  .extend({
    ANLIAN_LOG_LEVEL: envLogLevel,
    ANLIAN_NODE_ID: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)
      .optional()
      .describe(
        'this node’s name: its broker sessions (keep it stable across restarts), leases, logs; default alerting-<hostname>',
      ),
    ANLIAN_ALERTING_HOST: z.string().default('127.0.0.1').describe('HTTP API, health and metrics listener'),
    ANLIAN_ALERTING_PORT: envPort.default(9190),
    ANLIAN_ALERTING_PUBLIC_URL: envOptional.describe(
      'how other alerting nodes reach this one’s API (default http://<host>:<port>)',
    ),
    ANLIAN_SERVICE_TOKEN: envOptional.describe('the county’s service token; the API asks for it when set'),
    ANLIAN_BULK_NICE: envBulkNice.describe(
      'CPU priority of the bulk lane’s thread (telemetry, heartbeats, their rules) below the alarm lane’s, as a nice increment 0–19 (0 = the same)',
    ),
    ANLIAN_ALERTING_PARTITIONS: z.coerce
      .number()
      .int()
      .min(1)
      .max(4096)
      .default(1)
      .describe(
        'institutions are split into this many partitions, each acted for by one alerting node at a time (the same on every node); 1: one active node and standbys',
      ),
  })
  .superRefine((c, ctx) => {
    if (!c.ANLIAN_BROKER_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['ANLIAN_BROKER_URL'],
        message: 'required: alerting reads the gateways’ messages from the broker',
      });
    }
  });

export type AlertingServiceConfig = z.infer<typeof AlertingServiceSchema> & { nodeId: string; apiUrl: string };

export function loadAlertingServiceConfig(env: NodeJS.ProcessEnv = process.env): Readonly<AlertingServiceConfig> {
  const c = parseEnv(AlertingServiceSchema, env);
  const host = c.ANLIAN_ALERTING_HOST === '0.0.0.0' ? hostname() : c.ANLIAN_ALERTING_HOST;
  return Object.freeze({
    ...c,
    nodeId: c.ANLIAN_NODE_ID ?? `alerting-${hostname()}`,
    apiUrl: c.ANLIAN_ALERTING_PUBLIC_URL ?? `http://${host}:${c.ANLIAN_ALERTING_PORT}`,
  });
}

export function describeAlertingServiceConfig(): { name: string; description: string }[] {
  return Object.entries(AlertingServiceSchema.shape).map(([name, schema]) => ({
    name,
    description: (schema as z.ZodType).description ?? '',
  }));
}
