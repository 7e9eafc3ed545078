import { LatestStateCache } from '@anlian/bus';
import type { CountyConfigInput, IngestEvent } from '@anlian/protocol';
import { CountyConfig } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import type { Database } from '@anlian/store';
import { migrateToLatest, openDatabase, Registry } from '@anlian/store';
import { buildSupervision, migrateSupervision, type Supervision } from '@anlian/supervision';
import type { Kysely } from 'kysely';
import {
  buildDashboard,
  type Dashboard,
  type DashboardDeps,
  type DemoUsers,
  hazardAuditFrom,
  migrateDashboard,
  SESSION_COOKIE,
  seedDemoUsers,
} from '../src/index.js';
import { InMemoryAlerts } from './in-memory-alerts.js';

/** A small county: two institutions with one gateway each and a device of every kind. */
export const SMALL_COUNTY: CountyConfigInput = {
  county: { id: 'testcounty', name: '测试县', adcode: '500242', center: { lng: 108.77, lat: 28.84 } },
  institutions: ['a', 'b'].map((x, n) => ({
    id: `inst-${x}`,
    name: `测试养老院${x.toUpperCase()}`,
    address: `测试路${n + 1}号`,
    location: { lng: 108.7 + n * 0.1, lat: 28.8 + n * 0.1 },
    beds: 50,
    gateways: [
      {
        id: `gw-${x}`,
        secret: `secret-of-gateway-${x}`,
        devices: [
          {
            id: 'smk-1',
            kind: 'fire' as const,
            name: '1F 101 感烟',
            location: { building: '主楼', floor: '1F', room: '101' },
          },
          {
            id: 'ext-1',
            kind: 'extinguisher' as const,
            name: '1F 走廊 灭火器',
            location: { building: '主楼', floor: '1F', room: '走廊' },
          },
          {
            id: 'kit-1',
            kind: 'kitchen' as const,
            name: '厨房 温度',
            location: { building: '食堂', floor: '1F', room: '厨房' },
          },
          {
            id: 'cam-1',
            kind: 'camera' as const,
            name: '大门 摄像头',
            location: { building: '主楼', floor: '1F', room: '大门' },
          },
          {
            id: 'elec-1',
            kind: 'electrical' as const,
            name: '1F 配电房 照明回路 电气火灾监控探测器',
            location: { building: '主楼', floor: '1F', room: '配电房' },
          },
        ],
      },
    ],
    contacts: [{ id: 'mgr', name: '张三', role: 'manager' as const, phone: '13800138000' }],
  })),
};

/** A tiny event bus standing in for `IngestPipeline.onEvent`. */
export class EventBus {
  readonly #listeners = new Set<(e: IngestEvent) => void>();
  subscribe = (listener: (e: IngestEvent) => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };
  emit(e: IngestEvent): void {
    for (const l of this.#listeners) l(e);
  }
}

export interface Harness {
  dashboard: Dashboard;
  db: Kysely<Database>;
  alerts: InMemoryAlerts;
  cache: LatestStateCache;
  bus: EventBus;
  demo: DemoUsers;
  influxQueries: string[];
  /** Built when `startHarness({ supervision: true })`; its scheduler is not started. */
  supervision: Supervision | undefined;
  /** Emits an ingest event to the cache (as the pipeline does) and to listeners. */
  ingest(e: IngestEvent): void;
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    county?: CountyConfigInput;
    deps?: Partial<DashboardDeps> | ((db: Kysely<Database>) => Promise<Partial<DashboardDeps>>);
    seedUsers?: boolean;
    supervision?: boolean;
    clock?: () => number;
  } = {},
): Promise<Harness> {
  const { db, close } = openDatabase({ sqlitePath: ':memory:' });
  await migrateToLatest(db);
  await migrateDashboard(db);
  const county = CountyConfig.parse(opts.county ?? SMALL_COUNTY);
  await new Registry(db).importCounty(county);
  const cache = new LatestStateCache();
  const bus = new EventBus();
  const alerts = new InMemoryAlerts({ subscribe: bus.subscribe });
  alerts.start();
  const influxQueries: string[] = [];
  const extra = typeof opts.deps === 'function' ? await opts.deps(db) : opts.deps;
  let supervision: Supervision | undefined;
  if (opts.supervision) {
    await migrateSupervision(db);
    supervision = buildSupervision({
      db,
      logger: silentLogger(),
      audit: hazardAuditFrom(db, silentLogger(), opts.clock),
      ...(opts.clock ? { clock: opts.clock } : {}),
    });
  }
  const dashboard = await buildDashboard({
    db,
    cache,
    subscribeIngest: bus.subscribe,
    queryInflux: async (q) => {
      influxQueries.push(q);
      return [
        {
          statementId: 0,
          series: [
            { name: 'kitchen', tags: { device: 'kit-1' }, columns: ['time', 'v'], values: [[1_700_000_000_000, 31.5]] },
          ],
        },
      ];
    },
    alerts,
    logger: silentLogger(),
    webRoot: null,
    flushMs: 100,
    statsMs: 500,
    ...(supervision ? { supervision } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...extra,
  });
  const demo = await seedDemoUsers(db, county.county.id);
  await dashboard.start();
  return {
    dashboard,
    db,
    alerts,
    cache,
    bus,
    demo,
    influxQueries,
    supervision,
    ingest(e) {
      if (e.type === 'telemetry') {
        const { v: _v, ts, seq: _s, ...values } = e.payload;
        cache.updateTelemetry(
          {
            county: e.county,
            institution: e.institution,
            gateway: e.gateway,
            device: e.device,
            kind: e.payload.kind,
            confirmed: e.confirmed,
          },
          ts,
          e.receivedAt,
          values as Record<string, number | boolean | string>,
        );
      } else if (e.type === 'event') {
        cache.updateEvent(
          {
            county: e.county,
            institution: e.institution,
            gateway: e.gateway,
            device: e.device,
            kind: e.payload.kind,
            confirmed: e.confirmed,
          },
          { event: e.payload.event, ts: e.payload.ts, ...(e.payload.zone ? { zone: e.payload.zone } : {}) },
          e.receivedAt,
        );
      } else if (e.type === 'status') {
        cache.updateGateway({
          county: e.county,
          institution: e.institution,
          gateway: e.gateway,
          state: e.payload.state,
          since: e.payload.ts,
          receivedAt: e.receivedAt,
        });
      }
      bus.emit(e);
    },
    async close() {
      await supervision?.scheduler.stop();
      alerts.stop();
      await dashboard.stop();
      await close();
    },
  };
}

/** Signs in through the API; returns the Cookie header value. */
export async function login(h: Pick<Harness, 'dashboard'>, username: string, password: string): Promise<string> {
  const res = await h.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`login ${username} failed: ${res.statusCode} ${res.body}`);
  const cookie = res.cookies.find((c) => c.name === SESSION_COOKIE);
  if (!cookie) throw new Error('no session cookie');
  return `${SESSION_COOKIE}=${cookie.value}`;
}

let seq = 1;
/** A fire alarm from a device, as ingest emits it. */
export function fireEvent(institution: string, gateway: string, device: string, county = 'testcounty'): IngestEvent {
  const now = Date.now();
  return {
    type: 'event',
    county,
    institution,
    gateway,
    device,
    confirmed: true,
    receivedAt: now,
    payload: { v: 1, ts: now, seq: seq++, kind: 'fire', event: 'fire', zone: '主楼 1F 101' },
  };
}

export function statusEvent(
  institution: string,
  gateway: string,
  state: 'online' | 'offline',
  county = 'testcounty',
): IngestEvent {
  const now = Date.now();
  return {
    type: 'status',
    county,
    institution,
    gateway,
    receivedAt: now,
    payload: { v: 1, ts: now, seq: seq++, state },
  };
}

export function kitchenTelemetry(
  institution: string,
  gateway: string,
  device: string,
  temperature: number,
  county = 'testcounty',
): IngestEvent {
  const now = Date.now();
  return {
    type: 'telemetry',
    county,
    institution,
    gateway,
    device,
    confirmed: true,
    receivedAt: now,
    payload: { v: 1, ts: now, seq: seq++, kind: 'kitchen', temperature },
  };
}

export function electricalTelemetry(
  institution: string,
  gateway: string,
  device: string,
  values: { residualCurrent?: number; cableTemperature?: number },
  county = 'testcounty',
): IngestEvent {
  const now = Date.now();
  return {
    type: 'telemetry',
    county,
    institution,
    gateway,
    device,
    confirmed: true,
    receivedAt: now,
    payload: { v: 1, ts: now, seq: seq++, kind: 'electrical', ...values },
  };
}
