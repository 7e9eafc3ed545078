import { InfluxError } from './errors.js';
import type { InfluxTarget } from './influx-target.js';
import { type QueryOptions, queryV1 } from './query.js';

/**
 * Retention (ARCHITECTURE.md, Storage): raw telemetry 90 days, alert events at least a year,
 * hourly downsamples 3 years. `raw_90d` is the DEFAULT, so writes that name no policy land there.
 */
export const RETENTION_POLICIES = [
  { name: 'raw_90d', duration: '90d', isDefault: true },
  { name: 'events_1y', duration: '52w', isDefault: false },
  { name: 'hourly_3y', duration: '156w', isDefault: false },
] as const;

export type RetentionPolicyName = (typeof RETENTION_POLICIES)[number]['name'];

/** Device-kind measurements whose numeric fields are downsampled hourly into `hourly_3y`. */
export const DOWNSAMPLED_MEASUREMENTS = ['fire', 'extinguisher', 'kitchen', 'camera'] as const;

/**
 * How far back each hourly run recomputes. Gateways store and forward through uplink outages,
 * so data for an hour can arrive after that hour's first run; 2 h covers short outages at twice
 * the work of the default. Longer gaps need the backfill statement in deploy/influxdb/README.md.
 */
export const RESAMPLE_FOR = '2h';

function ident(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function continuousQueryName(measurement: string): string {
  return `cq_${measurement}_hourly`;
}

function retentionPolicyStatement(verb: 'CREATE' | 'ALTER', database: string, rp: (typeof RETENTION_POLICIES)[number]) {
  return `${verb} RETENTION POLICY ${ident(rp.name)} ON ${ident(database)} DURATION ${rp.duration} REPLICATION 1${rp.isDefault ? ' DEFAULT' : ''}`;
}

/**
 * Hourly mean/min/max of every field, keeping all tags (`GROUP BY *`). Output fields are
 * `mean_<field>`, `min_<field>`, `max_<field>`. Wildcards skip what a function cannot take:
 * strings everywhere, booleans in mean; min/max of a boolean (false < true) keep "was a camera
 * offline at all in this hour" (`min_online`). Verified against influxd 1.6 in setup-v1.int.test.ts.
 */
export function continuousQueryStatement(database: string, measurement: string): string {
  const db = ident(database);
  return (
    `CREATE CONTINUOUS QUERY ${ident(continuousQueryName(measurement))} ON ${db} RESAMPLE FOR ${RESAMPLE_FOR} BEGIN ` +
    `SELECT mean(*), min(*), max(*) INTO ${db}."hourly_3y".:MEASUREMENT FROM ${db}."raw_90d".${ident(measurement)} ` +
    'GROUP BY time(1h), * END'
  );
}

/**
 * Recomputes the hourly downsample of `measurement` for `[from, to)` — for data that arrived
 * later than {@link RESAMPLE_FOR} after its hour (a gateway offline for a day), or for history
 * written before the continuous queries existed. Idempotent: it overwrites the same points.
 */
export function downsampleBackfillStatement(database: string, measurement: string, from: Date, to: Date): string {
  const db = ident(database);
  return (
    `SELECT mean(*), min(*), max(*) INTO ${db}."hourly_3y".:MEASUREMENT FROM ${db}."raw_90d".${ident(measurement)} ` +
    `WHERE time >= '${from.toISOString()}' AND time < '${to.toISOString()}' GROUP BY time(1h), *`
  );
}

/** Every statement of the InfluxDB 1.x setup, in order. Also rendered into deploy/influxdb/setup.influxql. */
export function setupStatementsV1(database: string): string[] {
  return [
    `CREATE DATABASE ${ident(database)}`,
    ...RETENTION_POLICIES.map((rp) => retentionPolicyStatement('CREATE', database, rp)),
    ...DOWNSAMPLED_MEASUREMENTS.map((m) => continuousQueryStatement(database, m)),
  ];
}

/** The text of deploy/influxdb/setup.influxql (a test keeps the file equal to this). */
export function renderSetupInfluxql(database = 'anlian'): string {
  return [
    '# Generated from timeseries/src/setup-v1.ts (renderSetupInfluxql); do not edit by hand.',
    '# InfluxDB 1.x setup for Anlian: database, retention policies, hourly downsampling.',
    `# Usage: influx -host HOST -username ADMIN -password … -import -path setup.influxql`,
    '# ingest runs the same at start when INFLUX_SETUP is on (ensureDatabaseV1), which also updates changed',
    '# policies and continuous queries; this file only creates (DROP a changed CQ before re-importing).',
    '# DDL',
    ...setupStatementsV1(database),
    '',
  ].join('\n');
}

/**
 * Creates the database, retention policies and continuous queries if missing and brings changed
 * ones to this definition. Safe to run at every start: InfluxDB 1.x accepts an identical CREATE;
 * a policy with another duration is ALTERed, a continuous query with another text is dropped and
 * created again (CQs cannot be altered).
 */
export async function ensureDatabaseV1(
  target: InfluxTarget,
  opts: Pick<QueryOptions, 'fetch' | 'timeoutMs'> = {},
): Promise<void> {
  const db = target.database;
  const run = async (q: string): Promise<string | undefined> => {
    const [result] = await queryV1(target, q, { ...opts, db: null });
    return result?.error;
  };
  const fail = (q: string, error: string) =>
    new InfluxError('ANL_ERR_INFLUX_SETUP', `InfluxDB setup of ${db} failed: ${error} (in: ${q})`);

  const createDb = `CREATE DATABASE ${ident(db)}`;
  const dbError = await run(createDb);
  if (dbError !== undefined) throw fail(createDb, dbError);

  for (const rp of RETENTION_POLICIES) {
    const create = retentionPolicyStatement('CREATE', db, rp);
    const error = await run(create);
    if (error === undefined) continue;
    if (!/already exists/i.test(error)) throw fail(create, error);
    const alter = retentionPolicyStatement('ALTER', db, rp);
    const alterError = await run(alter);
    if (alterError !== undefined) throw fail(alter, alterError);
  }

  for (const m of DOWNSAMPLED_MEASUREMENTS) {
    const create = continuousQueryStatement(db, m);
    const error = await run(create);
    if (error === undefined) continue;
    if (!/already exists/i.test(error)) throw fail(create, error);
    const drop = `DROP CONTINUOUS QUERY ${ident(continuousQueryName(m))} ON ${ident(db)}`;
    const dropError = await run(drop);
    if (dropError !== undefined) throw fail(drop, dropError);
    const again = await run(create);
    if (again !== undefined) throw fail(create, again);
  }
}
