import { z } from 'zod';
import type { InfluxTarget } from './influx-target.js';

const optional = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/** The InfluxDB variables every service that reads or writes InfluxDB takes (ingest, alerting, dashboard). */
export const InfluxEnv = z.object({
  INFLUX_URL: z.url().default('http://127.0.0.1:8086'),
  INFLUX_GENERATION: z
    .enum(['1', '2', '3'])
    .default('1')
    .transform(Number)
    .pipe(z.union([z.literal(1), z.literal(2), z.literal(3)])),
  INFLUX_DATABASE: z.string().min(1).default('anlian').describe('v1/v3 database or v2 bucket'),
  INFLUX_ORG: optional,
  INFLUX_TOKEN: optional,
  INFLUX_USERNAME: optional,
  INFLUX_PASSWORD: optional,
  INFLUX_EVENTS_RP: z
    .string()
    .default('events_1y')
    .describe(
      'retention policy for device events, gateway status and alert events (kept ≥ 1 year); empty = the default policy',
    ),
});
export type InfluxEnv = z.infer<typeof InfluxEnv>;

export function influxTargetFromEnv(e: InfluxEnv): InfluxTarget {
  const t: InfluxTarget = { url: e.INFLUX_URL, generation: e.INFLUX_GENERATION, database: e.INFLUX_DATABASE };
  if (e.INFLUX_ORG) t.org = e.INFLUX_ORG;
  if (e.INFLUX_TOKEN) t.token = e.INFLUX_TOKEN;
  if (e.INFLUX_USERNAME) t.username = e.INFLUX_USERNAME;
  if (e.INFLUX_PASSWORD) t.password = e.INFLUX_PASSWORD;
  return t;
}
