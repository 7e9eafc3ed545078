import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  continuousQueryStatement,
  downsampleBackfillStatement,
  renderSetupInfluxql,
  setupStatementsV1,
} from '../src/setup-v1.js';

describe('InfluxDB 1.x setup statements', () => {
  it('deploy/influxdb/setup.influxql is up to date with setup-v1.ts', async () => {
    const file = await readFile(new URL('../../deploy/influxdb/setup.influxql', import.meta.url), 'utf8');
    // Regenerate: npx tsc -b && node -e "import('./timeseries/dist/setup-v1.js').then(m => process.stdout.write(m.renderSetupInfluxql()))" > deploy/influxdb/setup.influxql
    expect(file).toBe(renderSetupInfluxql());
  });

  it('creates the database, three retention policies and four hourly continuous queries', () => {
    const statements = setupStatementsV1('anlian');
    expect(statements[0]).toBe('CREATE DATABASE "anlian"');
    expect(statements.filter((s) => s.startsWith('CREATE RETENTION POLICY'))).toEqual([
      'CREATE RETENTION POLICY "raw_90d" ON "anlian" DURATION 90d REPLICATION 1 DEFAULT',
      'CREATE RETENTION POLICY "events_1y" ON "anlian" DURATION 52w REPLICATION 1',
      'CREATE RETENTION POLICY "hourly_3y" ON "anlian" DURATION 156w REPLICATION 1',
    ]);
    expect(statements.filter((s) => s.startsWith('CREATE CONTINUOUS QUERY'))).toHaveLength(4);
  });

  it('quotes identifiers', () => {
    expect(continuousQueryStatement('a"b', 'kitchen')).toContain('ON "a\\"b" RESAMPLE FOR 2h');
    expect(downsampleBackfillStatement('anlian', 'fire', new Date(0), new Date(3_600_000))).toBe(
      'SELECT mean(*), min(*), max(*) INTO "anlian"."hourly_3y".:MEASUREMENT FROM "anlian"."raw_90d"."fire" ' +
        "WHERE time >= '1970-01-01T00:00:00.000Z' AND time < '1970-01-01T01:00:00.000Z' GROUP BY time(1h), *",
    );
  });
});
