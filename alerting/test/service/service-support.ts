import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CountyConfig, type CountyConfigInput } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import { importCountyConfig, migrateToLatest, type OpenedDatabase, openDatabase } from '@anlian/store';
import { fixtureRoom, twoInstitutionCounty } from '@anlian/testing';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import type { AlertNotification } from '../../src/notify/notification.js';
import { defaultRuleSet } from '../../src/rules/default-rules.js';
import type { RuleSet } from '../../src/rules/rule-schema.js';
import {
  AlertingService,
  type AlertingServiceDeps,
  type NotificationSink,
} from '../../src/service/alerting-service.js';
import { migrateAlerting } from '../../src/store/alerting-migrations.js';
import type { AlertingDatabase } from '../../src/store/alerting-schema.js';
import { T0 } from '../support.js';

const loc = (room: string) => fixtureRoom(room);

/** The county of the unit tests' `GW`: institution yy-a with gateway gw-1, yy-b with gw-2. */
export function testCounty(extraFireDevices = 0): CountyConfigInput {
  return twoInstitutionCounty(
    {
      contacts: [
        { id: 'mgr', name: '龙丽萍', role: 'manager', phone: '13800130100' },
        { id: 'dep', name: '白国强', role: 'deputy', phone: '13800130101' },
        { id: 'duty', name: '刘德明', role: 'duty_officer', phone: '13800130001' },
      ],
      gateways: [
        {
          id: 'gw-1',
          secret: 'secret-of-gateway-1',
          devices: [
            { id: 'smoke-1', kind: 'fire', name: '烟感 201', location: loc('201室') },
            { id: 'k-1', kind: 'kitchen', name: '厨房温度', location: loc('厨房') },
            { id: 'ext-1', kind: 'extinguisher', name: '灭火器', location: loc('走廊'), medium: 'dry_powder' },
            { id: 'cam-1', kind: 'camera', name: '出入口', location: loc('出入口') },
            ...Array.from({ length: extraFireDevices }, (_, i) => ({
              id: `smoke-x${i}`,
              kind: 'fire' as const,
              name: `烟感 x${i}`,
              location: loc(`${300 + i}室`),
            })),
          ],
        },
      ],
    },
    {
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

/** Records what the service hands to the dispatcher. */
export class RecordingNotifier implements NotificationSink {
  readonly sent: AlertNotification[] = [];
  readonly cancelled: string[] = [];
  start(): void {}
  async stop(): Promise<void> {}
  dispatch(n: AlertNotification): void {
    this.sent.push(n);
  }
  cancel(alertId: string): void {
    this.cancelled.push(alertId);
  }
}

export interface StoreFixture {
  dir: string;
  database: OpenedDatabase;
  db: Kysely<AlertingDatabase>;
  close(): Promise<void>;
}

/** A temporary SQLite store, migrated, with the test county imported. */
export async function openTestStore(county: CountyConfigInput = testCounty()): Promise<StoreFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'anlian-alerting-'));
  const database = openDatabase({ sqlitePath: path.join(dir, 'anlian.db') });
  await migrateToLatest(database.db);
  await migrateAlerting(database.db);
  await importCountyConfig(database.db, CountyConfig.parse(county), { now: T0 });
  return {
    dir,
    database,
    db: database.db as unknown as Kysely<AlertingDatabase>,
    async close() {
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface ServiceFixture {
  service: AlertingService;
  notifier: RecordingNotifier;
  clock: { now: number };
}

/** A service on the fixture's store with a hand-driven clock; ticks only when the test calls `tick`. */
export async function startService(
  store: StoreFixture,
  opts: { rules?: RuleSet; now?: number; deps?: Partial<AlertingServiceDeps> } = {},
): Promise<ServiceFixture> {
  const clock = { now: opts.now ?? T0 };
  const notifier = new RecordingNotifier();
  const service = new AlertingService({
    db: store.db,
    logger: silentLogger(),
    metrics: new Registry(),
    rules: opts.rules ?? defaultRuleSet(),
    notifier,
    clock: () => clock.now,
    tickMs: 3_600_000,
    snapshotMs: 3_600_000,
    ...opts.deps,
  });
  await service.start();
  return { service, notifier, clock };
}
