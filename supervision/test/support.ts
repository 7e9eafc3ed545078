import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { migrateAlerting } from '@anlian/alerting';
import { CountyConfig, type CountyConfigInput, type IngestEvent } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import { type Database, importCountyConfig, migrateToLatest, type OpenedDatabase, openDatabase } from '@anlian/store';
import { fixtureRoom, startPostgres, twoInstitutionCounty } from '@anlian/testing';
import type { Kysely } from 'kysely';
import type { Actor } from '../src/hazards/hazard.js';
import { migrateSupervision } from '../src/store/supervision-migrations.js';
import type { SupervisionDatabase } from '../src/store/supervision-schema.js';
import { buildSupervision, type Supervision, type SupervisionDeps } from '../src/supervision.js';

/** 2026-03-02 08:00 UTC (16:00 in Youyang): tests pass every time explicitly. */
export const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

const loc = (room: string) => fixtureRoom(room);

/** Two institutions: yy-a with a device of every kind and the usual contacts, yy-b small. */
export function testCounty(): CountyConfigInput {
  const countyDuty = { id: 'county-duty', name: '县值班员刘德明', role: 'duty_officer', phone: '13800130001' } as const;
  return twoInstitutionCounty(
    {
      address: '酉阳县桃花源街道1号',
      contacts: [
        { id: 'mgr', name: '龙丽萍', role: 'manager', phone: '13800130100' },
        { id: 'fire', name: '白国强', role: 'fire_safety', phone: '13800130101' },
        countyDuty,
      ],
      gateways: [
        {
          id: 'gw-1',
          secret: 'secret-of-gateway-1',
          devices: [
            { id: 'smoke-1', kind: 'fire', name: '烟感 201', location: loc('201室') },
            { id: 'smoke-2', kind: 'fire', name: '烟感 202', location: loc('202室') },
            { id: 'k-1', kind: 'kitchen', name: '厨房温度', location: loc('厨房') },
            { id: 'ext-1', kind: 'extinguisher', name: '灭火器 走廊', location: loc('走廊'), medium: 'dry_powder' },
            {
              id: 'hyd-1',
              kind: 'extinguisher',
              name: '消火栓 静压',
              location: loc('楼梯间'),
              medium: 'hydrant_static',
            },
            { id: 'cam-1', kind: 'camera', name: '出入口', location: loc('出入口') },
          ],
        },
      ],
    },
    {
      address: '酉阳县龙潭镇2号',
      contacts: [{ id: 'mgr', name: '冉小红', role: 'manager', phone: '13800130200' }, countyDuty],
      gateways: [
        {
          id: 'gw-2',
          secret: 'secret-of-gateway-2',
          devices: [{ id: 'smoke-1', kind: 'fire', name: '烟感 101', location: loc('101室') }],
        },
      ],
    },
  );
}

export const OPERATOR: Actor = { name: 'operator', role: 'county_operator' };
export const MANAGER_A: Actor = { name: 'yy-a', role: 'institution_manager' };

/** Opens a fresh, empty store of one dialect. */
export interface DialectFactory {
  name: string;
  open(): Promise<{ store: OpenedDatabase; dispose(): Promise<void> }>;
}

export const sqliteFile: DialectFactory = {
  name: 'SQLite',
  async open() {
    const dir = await mkdtemp(path.join(tmpdir(), 'anlian-supervision-'));
    const store = openDatabase({ sqlitePath: path.join(dir, 'anlian.db') });
    return {
      store,
      async dispose() {
        await store.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
};

export const postgres: DialectFactory = {
  name: 'PostgreSQL',
  async open() {
    const pg = await startPostgres();
    const store = openDatabase({ url: pg.url });
    return {
      store,
      async dispose() {
        await store.close();
        await pg.stop();
      },
    };
  },
};

export interface Fixture {
  db: Kysely<Database>;
  sdb: Kysely<SupervisionDatabase>;
  clock: { now: number };
  sup: Supervision;
  audit: { action: string; actor: string; hazard: string; note: string | null }[];
  close(): Promise<void>;
}

/**
 * A migrated store (registry, alerting's tables, supervision's) with the test county, and
 * supervision built on it with a hand-driven clock and an in-memory audit log.
 */
export async function openFixture(
  factory: DialectFactory = sqliteFile,
  opts: { alerting?: boolean; deps?: Partial<SupervisionDeps> } = {},
): Promise<Fixture> {
  const { store, dispose } = await factory.open();
  await migrateToLatest(store.db);
  if (opts.alerting !== false) await migrateAlerting(store.db);
  await migrateSupervision(store.db);
  await importCountyConfig(store.db, CountyConfig.parse(testCounty()), { now: T0 - 400 * DAY });
  const clock = { now: T0 };
  const audit: Fixture['audit'] = [];
  const sup = buildSupervision({
    db: store.db,
    logger: silentLogger(),
    clock: () => clock.now,
    audit: {
      async record(e) {
        audit.push({ action: e.action, actor: e.actor.name, hazard: e.hazard.id, note: e.note });
      },
    },
    ...opts.deps,
  });
  return {
    db: store.db,
    sdb: store.db as unknown as Kysely<SupervisionDatabase>,
    clock,
    sup,
    audit,
    async close() {
      await sup.scheduler.stop();
      await dispose();
    },
  };
}

let seq = 0;

/** An ingest event of the test county, as ingest hands it to alerting. */
export function deviceEvent(
  institution: string,
  gateway: string,
  device: string,
  kind: 'fire' | 'extinguisher' | 'kitchen' | 'camera',
  event: string,
  at: number,
): IngestEvent {
  return {
    type: 'event',
    county: 'youyang',
    institution,
    gateway,
    device,
    receivedAt: at,
    confirmed: true,
    payload: { v: 1, ts: at, seq: seq++, kind, event } as Extract<IngestEvent, { type: 'event' }>['payload'],
  };
}

export function gauge(device: string, pressure: number, at: number, medium = 'dry_powder'): IngestEvent {
  return {
    type: 'telemetry',
    county: 'youyang',
    institution: 'yy-a',
    gateway: 'gw-1',
    device,
    receivedAt: at,
    confirmed: true,
    payload: { v: 1, ts: at, seq: seq++, kind: 'extinguisher', medium, pressure } as Extract<
      IngestEvent,
      { type: 'telemetry' }
    >['payload'],
  };
}

export function gatewayStatus(
  gateway: string,
  institution: string,
  state: 'online' | 'offline',
  at: number,
): IngestEvent {
  return {
    type: 'status',
    county: 'youyang',
    institution,
    gateway,
    receivedAt: at,
    payload: { v: 1, ts: at, seq: seq++, state, ...(state === 'offline' ? { reason: 'will' as const } : {}) },
  };
}
