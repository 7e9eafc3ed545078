import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateAlerting } from '@anlian/alerting';
import type { CountyConfigInput } from '@anlian/protocol';
import { CountyConfig } from '@anlian/protocol';
import { importCountyConfig, migrateToLatest, type OpenedDatabase, openDatabase } from '@anlian/store';
import { type Influxd, startInfluxd } from '@anlian/testing';
import { queryV1 } from '@anlian/timeseries';
import type { Kysely } from 'kysely';
import type { InfluxQuery } from '../src/read/influx-reader.js';
import type { ReportReadDatabase } from '../src/read/report-tables.js';

export interface ReportStack {
  influxd: Influxd;
  store: OpenedDatabase;
  db: Kysely<ReportReadDatabase>;
  dir: string;
  query: InfluxQuery;
  target: { url: string; generation: 1; database: string };
  stop(): Promise<void>;
}

/** A real influxd (database `anlian` with ingest's retention policies) and a migrated store. */
export async function startReportStack(opts: { postgresUrl?: string } = {}): Promise<ReportStack> {
  const dir = await mkdtemp(join(tmpdir(), 'anlian-reports-'));
  const influxd = await startInfluxd();
  const target = { url: influxd.url, generation: 1 as const, database: 'anlian' };
  for (const q of [
    'CREATE DATABASE "anlian"',
    'CREATE RETENTION POLICY "raw_90d" ON "anlian" DURATION 90d REPLICATION 1 DEFAULT',
    'CREATE RETENTION POLICY "events_1y" ON "anlian" DURATION 52w REPLICATION 1',
  ]) {
    await queryV1(target, q, { db: null });
  }
  const store = opts.postgresUrl
    ? openDatabase({ url: opts.postgresUrl })
    : openDatabase({ sqlitePath: join(dir, 'anlian.db') });
  await migrateToLatest(store.db);
  await migrateAlerting(store.db);
  return {
    influxd,
    store,
    db: store.db as unknown as Kysely<ReportReadDatabase>,
    dir,
    target,
    query: async (q) => queryV1(target, q),
    async stop() {
      await store.close();
      await influxd.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function importCounty(stack: ReportStack, input: CountyConfigInput, now: number): Promise<CountyConfig> {
  const county = CountyConfig.parse(input);
  await importCountyConfig(stack.store.db, county, { now });
  return county;
}

/** A small county for a simulated month: two institutions, every device kind, short intervals. */
export function monthCounty(): CountyConfigInput {
  const contacts = (inst: string) => [
    { id: `${inst}-m`, name: '院长', role: 'manager' as const, phone: '13800138001' },
    { id: `${inst}-d`, name: '副院长', role: 'deputy' as const, phone: '13800138002' },
    { id: `${inst}-f`, name: '消防负责人', role: 'fire_safety' as const, phone: '13800138003' },
    { id: `${inst}-o`, name: '县值班员', role: 'duty_officer' as const, phone: '13800138004' },
  ];
  const loc = (room: string) => ({ building: '主楼', floor: '1F', room });
  const inst = (id: string, name: string, lng: number) => ({
    id,
    name,
    address: `${name}地址`,
    location: { lng, lat: 28.84 },
    beds: 60,
    contacts: contacts(id),
    gateways: [
      {
        id: `gw-${id}`,
        secret: `secret-${id}-0001`,
        devices: [
          ...['101', '102', '103', '201', '202', '203'].map((r) => ({
            id: `smk-${r}`,
            kind: 'fire' as const,
            name: `${r}室 感烟`,
            location: loc(`${r}室`),
            reportIntervalS: 600,
          })),
          {
            id: 'ext-1',
            kind: 'extinguisher' as const,
            medium: 'dry_powder' as const,
            name: '1F 灭火器',
            location: loc('走廊'),
            reportIntervalS: 600,
          },
          {
            id: 'ext-2',
            kind: 'extinguisher' as const,
            medium: 'dry_powder' as const,
            name: '2F 灭火器',
            location: loc('走廊'),
            reportIntervalS: 600,
          },
          { id: 'kit-1', kind: 'kitchen' as const, name: '厨房温度', location: loc('厨房'), reportIntervalS: 300 },
          { id: 'cam-1', kind: 'camera' as const, name: '出入口', location: loc('出入口'), reportIntervalS: 300 },
          { id: 'cam-2', kind: 'camera' as const, name: '餐厅', location: loc('餐厅'), reportIntervalS: 300 },
        ],
      },
    ],
  });
  return {
    county: { id: 'simcounty', name: '模拟县', adcode: '500242', center: { lng: 108.77, lat: 28.84 } },
    institutions: [inst('inst-a', '甲镇敬老院', 108.7), inst('inst-b', '乙乡养老服务中心', 108.8)],
  };
}
