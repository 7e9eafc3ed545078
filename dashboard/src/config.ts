import { isIP } from 'node:net';
import { z } from 'zod';
import { DashboardError, DashboardErrorCode } from './errors.js';

const port = z.coerce.number().int().min(0).max(65_535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/**
 * `anlian dashboard`'s own settings, from the environment; the store and InfluxDB settings are
 * ingest's (`anlian ingest --help`), so that both processes point at the same data.
 */
export const DashboardConfigSchema = z.object({
  ANLIAN_DASHBOARD_HOST: z.string().default('127.0.0.1').describe('dashboard listen address'),
  ANLIAN_DASHBOARD_PORT: port.default(8080).describe('dashboard port (wall screen, API, socket.io)'),
  ANLIAN_DASHBOARD_SECURE_COOKIES: bool.default(false).describe('mark session cookies Secure (set behind HTTPS)'),
  ANLIAN_DASHBOARD_TRUST_PROXY: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((a) => a.trim())
        .filter((a) => a !== ''),
    )
    .refine((list) => list.every(isProxyAddress), 'a comma-separated list of IP addresses or CIDR ranges')
    .describe(
      'reverse proxies whose X-Forwarded-For is believed (IP addresses or CIDR ranges, comma-separated); unset: none, the peer address counts',
    ),
  ANLIAN_COUNTY_GEOJSON: z
    .string()
    .optional()
    .describe('county outline GeoJSON for the map (default: the demo county)'),
  ANLIAN_INGEST_URL: z
    .url()
    .default('http://127.0.0.1:9180')
    .describe('a separate ingest’s HTTP address, polled for latest state (not needed inside `anlian up`)'),
  ANLIAN_INGEST_POLL_MS: z.coerce.number().int().min(500).max(600_000).default(5000),
});
export type DashboardConfig = z.infer<typeof DashboardConfigSchema>;

/** `10.0.0.5`, `::1`, `10.0.0.0/8`, `fd00::/8`: what fastify's `trustProxy` (proxy-addr) takes. */
function isProxyAddress(a: string): boolean {
  const [ip, bits, ...rest] = a.split('/');
  const family = isIP(ip ?? '');
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const n = Number(bits);
  return /^\d+$/.test(bits) && n >= 0 && n <= (family === 4 ? 32 : 128);
}

/** Parses once; every problem is listed in one error (CONVENTIONS.md §5). */
export function loadDashboardConfig(env: NodeJS.ProcessEnv = process.env): Readonly<DashboardConfig> {
  const r = DashboardConfigSchema.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new DashboardError(DashboardErrorCode.CONFIG, `invalid dashboard configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze(r.data);
}

export function describeDashboardConfig(): { name: string; description: string }[] {
  return Object.entries(DashboardConfigSchema.shape).map(([name, schema]) => ({
    name,
    description: schema.description ?? '',
  }));
}
