import path from 'node:path';
import { envBulkNice } from '@anlian/runtime';
import type { InfluxTarget } from '@anlian/timeseries';
import { z } from 'zod';
import { IngestError } from './errors.js';

const port = z.coerce.number().int().min(0).max(65_535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

/**
 * Ingest configuration, from the environment. Every default lives here; `anlian ingest --help`
 * and the README's configuration reference list the same variables.
 */
export const IngestConfigSchema = z
  .object({
    ANLIAN_DATA_DIR: z.string().default('.anlian'),
    ANLIAN_DB_URL: optionalString.describe('PostgreSQL URL; SQLite in the data directory when unset'),
    ANLIAN_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

    ANLIAN_MQTT_HOST: z.string().default('0.0.0.0').describe('embedded broker: listen address'),
    ANLIAN_MQTT_PORT: port.default(1883).describe('embedded broker: TCP port (0 = any free port)'),
    ANLIAN_MQTT_TLS_PORT: port
      .optional()
      .describe('embedded broker: also listen for MQTT over TLS (mqtts) on this port, e.g. 8883; needs the two below'),
    ANLIAN_MQTT_TLS_CERT: optionalString.describe('embedded broker: PEM certificate (chain) for the mqtts listener'),
    ANLIAN_MQTT_TLS_KEY: optionalString.describe('embedded broker: PEM private key of that certificate'),
    ANLIAN_MQTT_AUTH_FAILURES_PER_ADDRESS: z.coerce
      .number()
      .int()
      .min(1)
      .default(20)
      .describe(
        'embedded broker: failed CONNECTs per source address per window before further ones are refused unverified',
      ),
    ANLIAN_MQTT_AUTH_BURST_PER_ADDRESS: z.coerce
      .number()
      .int()
      .min(1)
      .default(100)
      .describe(
        'embedded broker: CONNECTs verified at once from a source address with no failure in the window (the gateways behind one NAT reconnecting together); from its first failure on, the limit above counts them too',
      ),
    ANLIAN_MQTT_AUTH_FAILURES_PER_GATEWAY: z.coerce
      .number()
      .int()
      .min(1)
      .default(10)
      .describe(
        'embedded broker: failed CONNECTs per gateway id per window; beyond, only a recently verified secret passes',
      ),
    ANLIAN_MQTT_AUTH_WINDOW_S: z.coerce
      .number()
      .int()
      .min(1)
      .default(60)
      .describe('embedded broker: the window of those limits, in seconds'),
    ANLIAN_BROKER_URL: optionalString.describe(
      'external MQTT 5 broker (mqtt://host:1883); the embedded broker when unset',
    ),
    ANLIAN_BROKER_USERNAME: optionalString,
    ANLIAN_BROKER_PASSWORD: optionalString,
    ANLIAN_BROKER_CA_FILE: optionalString.describe(
      'external broker: PEM of the CA that signed its certificate (mqtts://); the system CAs when unset',
    ),
    ANLIAN_BROKER_CLIENT_ID: optionalString.describe(
      'external broker: this replica’s client id (default ingest-<hostname>-<pid>)',
    ),
    ANLIAN_SHARE_GROUP: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('ingest'),
    ANLIAN_BROKER_SESSIONS: z.coerce
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe('external broker: MQTT sessions per replica in the share group; keep constant across restarts'),
    ANLIAN_BROKER_RECEIVE_MAXIMUM: z.coerce
      .number()
      .int()
      .min(1)
      .max(65_535)
      .default(1000)
      .describe('external broker: unacknowledged messages the broker may send each session (MQTT 5 Receive Maximum)'),

    ANLIAN_BULK_NICE: envBulkNice.describe(
      'external broker: CPU priority of this process below the alarm path’s (alerting’s alarm lane, the broker), as a nice increment 0–19 (0 = the same); ignored with the embedded broker, which carries the alarms itself',
    ),
    ANLIAN_HTTP_HOST: z.string().default('127.0.0.1').describe('health and metrics listener'),
    ANLIAN_HTTP_PORT: port.default(9180),

    INFLUX_URL: z.url().default('http://127.0.0.1:8086'),
    INFLUX_GENERATION: z
      .enum(['1', '2', '3'])
      .default('1')
      .transform(Number)
      .pipe(z.union([z.literal(1), z.literal(2), z.literal(3)])),
    INFLUX_DATABASE: z.string().min(1).default('anlian').describe('v1/v3 database or v2 bucket'),
    INFLUX_ORG: optionalString,
    INFLUX_TOKEN: optionalString,
    INFLUX_USERNAME: optionalString,
    INFLUX_PASSWORD: optionalString,
    INFLUX_SETUP: bool.default(true).describe('v1: create the database, retention policies and downsampling at start'),
    INFLUX_EVENTS_RP: z
      .string()
      .default('events_1y')
      .describe('retention policy for device events and gateway status (kept ≥ 1 year); empty = the default policy'),
    INFLUX_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(5000),
    INFLUX_FLUSH_INTERVAL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
    ANLIAN_SIM_RUNS: z
      .enum(['keep', 'refuse'])
      .default('refuse')
      .describe(
        'messages of a simulation run (protocol simRun): keep them apart (InfluxDB tag sim_run, out of live views) or refuse them',
      ),
    ANLIAN_MAX_CLOCK_AHEAD_S: z.coerce
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .default(300)
      .describe('points dated further ahead of the county clock are kept apart (tag sim_run=clock-ahead)'),
    ANLIAN_SPOOL_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024 * 1024)
      .default(1024 ** 3),
    /** Video-review snapshots are kept this long (公共安全视频图像信息系统管理条例, 2025: ≥ 30 days). */
    ANLIAN_MEDIA_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  })
  .superRefine((c, ctx) => {
    if (c.INFLUX_GENERATION === 2 && !c.INFLUX_ORG) {
      ctx.addIssue({ code: 'custom', path: ['INFLUX_ORG'], message: 'required when INFLUX_GENERATION=2' });
    }
    const tls = [c.ANLIAN_MQTT_TLS_PORT, c.ANLIAN_MQTT_TLS_CERT, c.ANLIAN_MQTT_TLS_KEY];
    if (tls.some((v) => v !== undefined) && tls.some((v) => v === undefined)) {
      for (const [name, v] of [
        ['ANLIAN_MQTT_TLS_PORT', c.ANLIAN_MQTT_TLS_PORT],
        ['ANLIAN_MQTT_TLS_CERT', c.ANLIAN_MQTT_TLS_CERT],
        ['ANLIAN_MQTT_TLS_KEY', c.ANLIAN_MQTT_TLS_KEY],
      ] as const) {
        if (v === undefined)
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message:
              'the mqtts listener needs ANLIAN_MQTT_TLS_PORT, ANLIAN_MQTT_TLS_CERT and ANLIAN_MQTT_TLS_KEY together',
          });
      }
    }
    if (c.ANLIAN_BROKER_URL && !/^(mqtts?|wss?|tcp|tls):\/\//.test(c.ANLIAN_BROKER_URL)) {
      ctx.addIssue({
        code: 'custom',
        path: ['ANLIAN_BROKER_URL'],
        message: 'must start with mqtt://, mqtts://, ws:// or wss://',
      });
    }
  });

export type IngestEnv = z.infer<typeof IngestConfigSchema>;

export interface IngestConfig {
  dataDir: string;
  dbUrl: string | undefined;
  sqlitePath: string;
  spoolDir: string;
  /** Days video-review snapshots are kept (`openMediaStore`: the store's media table on PostgreSQL, `dataDir/media` on SQLite). */
  mediaRetentionDays: number;
  logLevel: IngestEnv['ANLIAN_LOG_LEVEL'];
  /** The embedded broker's listeners; `tls` is the mqtts one, when configured. */
  mqtt: { host: string; port: number; tls?: { port: number; certFile: string; keyFile: string } };
  /** Embedded broker: limits on failed CONNECTs (`BrokerAuthLimits`). */
  mqttAuth: { perAddress: number; burstPerAddress: number; perGateway: number; windowMs: number };
  broker:
    | { mode: 'embedded' }
    | {
        mode: 'external';
        url: string;
        username?: string;
        password?: string;
        /** PEM file of the CA that signed the broker's certificate (mqtts://). */
        caFile?: string;
        clientId: string;
        shareGroup: string;
        sessions: number;
        receiveMaximum: number;
        /** Nice increment of the process (`ANLIAN_BULK_NICE`): it stores bulk telemetry, not the alarm path. */
        bulkNice: number;
      };
  http: { host: string; port: number };
  /**
   * Simulated time (design.md): what to do with messages of a simulation run, and how far ahead of
   * the county's clock an unmarked point may be before it is kept apart.
   */
  simulation: { runs: 'keep' | 'refuse'; maxClockAheadMs: number };
  /** Where points go (see {@link InfluxTarget}) and how the writer batches them. */
  influx: {
    target: InfluxTarget;
    setup: boolean;
    eventsRetentionPolicy: string | undefined;
    batchSize: number;
    flushIntervalMs: number;
    maxSpoolBytes: number;
  };
}

const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/**
 * Parses the environment once at boot. On any problem throws an error listing every one of them
 * (variable and reason); `main` prints it and exits non-zero.
 */
export function loadIngestConfig(env: NodeJS.ProcessEnv = process.env): Readonly<IngestConfig> {
  const r = IngestConfigSchema.safeParse(env);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(environment)'}: ${i.message}`);
    throw new IngestError('ANL_ERR_CONFIG', `invalid configuration:\n${lines.join('\n')}`);
  }
  const e = r.data;
  const dataDir = path.resolve(e.ANLIAN_DATA_DIR);
  return Object.freeze({
    dataDir,
    dbUrl: e.ANLIAN_DB_URL,
    sqlitePath: path.join(dataDir, 'anlian.db'),
    spoolDir: path.join(dataDir, 'spool'),
    mediaRetentionDays: e.ANLIAN_MEDIA_RETENTION_DAYS,
    logLevel: e.ANLIAN_LOG_LEVEL,
    mqtt: {
      host: e.ANLIAN_MQTT_HOST,
      port: e.ANLIAN_MQTT_PORT,
      ...(e.ANLIAN_MQTT_TLS_PORT !== undefined && e.ANLIAN_MQTT_TLS_CERT && e.ANLIAN_MQTT_TLS_KEY
        ? {
            tls: {
              port: e.ANLIAN_MQTT_TLS_PORT,
              certFile: path.resolve(e.ANLIAN_MQTT_TLS_CERT),
              keyFile: path.resolve(e.ANLIAN_MQTT_TLS_KEY),
            },
          }
        : {}),
    },
    mqttAuth: {
      perAddress: e.ANLIAN_MQTT_AUTH_FAILURES_PER_ADDRESS,
      // Never below the failure limit: the limiter refuses a burst smaller than its max.
      burstPerAddress: Math.max(e.ANLIAN_MQTT_AUTH_BURST_PER_ADDRESS, e.ANLIAN_MQTT_AUTH_FAILURES_PER_ADDRESS),
      perGateway: e.ANLIAN_MQTT_AUTH_FAILURES_PER_GATEWAY,
      windowMs: e.ANLIAN_MQTT_AUTH_WINDOW_S * 1000,
    },
    broker: e.ANLIAN_BROKER_URL
      ? defined({
          mode: 'external' as const,
          url: e.ANLIAN_BROKER_URL,
          username: e.ANLIAN_BROKER_USERNAME,
          password: e.ANLIAN_BROKER_PASSWORD,
          caFile: e.ANLIAN_BROKER_CA_FILE,
          clientId: e.ANLIAN_BROKER_CLIENT_ID ?? `ingest-${process.pid}`,
          shareGroup: e.ANLIAN_SHARE_GROUP,
          sessions: e.ANLIAN_BROKER_SESSIONS,
          receiveMaximum: e.ANLIAN_BROKER_RECEIVE_MAXIMUM,
          bulkNice: e.ANLIAN_BULK_NICE,
        })
      : { mode: 'embedded' as const },
    http: { host: e.ANLIAN_HTTP_HOST, port: e.ANLIAN_HTTP_PORT },
    simulation: { runs: e.ANLIAN_SIM_RUNS, maxClockAheadMs: e.ANLIAN_MAX_CLOCK_AHEAD_S * 1000 },
    influx: defined({
      target: defined({
        url: e.INFLUX_URL,
        generation: e.INFLUX_GENERATION,
        database: e.INFLUX_DATABASE,
        org: e.INFLUX_ORG,
        token: e.INFLUX_TOKEN,
        username: e.INFLUX_USERNAME,
        password: e.INFLUX_PASSWORD,
      }),
      setup: e.INFLUX_SETUP,
      eventsRetentionPolicy: e.INFLUX_EVENTS_RP || undefined,
      batchSize: e.INFLUX_BATCH_SIZE,
      flushIntervalMs: e.INFLUX_FLUSH_INTERVAL_MS,
      maxSpoolBytes: e.ANLIAN_SPOOL_MAX_BYTES,
    }),
  });
}

/** The variables and their descriptions, for `--help` and the README. */
export function describeIngestConfig(): { name: string; description: string }[] {
  return Object.entries(IngestConfigSchema.def.shape ?? {}).map(([name, schema]) => ({
    name,
    description: (schema as z.ZodType).description ?? '',
  }));
}
