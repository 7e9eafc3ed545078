import { CountyConfig } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import {
  importCountyConfig,
  migrateToLatest,
  type OpenedDatabase,
  openDatabase,
  PgAdvisoryLeases,
} from '@anlian/store';
import { startPostgres, type TestPostgres } from '@anlian/testing';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { defaultRuleSet } from '../../src/rules/default-rules.js';
import { AlertingService } from '../../src/service/alerting-service.js';
import { migrateAlerting } from '../../src/store/alerting-migrations.js';
import type { AlertingDatabase } from '../../src/store/alerting-schema.js';
import { deviceEvent, T0 } from '../support.js';
import { RecordingNotifier, testCounty } from './service-support.js';

/**
 * Issue 12: PostgreSQL goes away while fire alarms are raised — stopped (a fast shutdown: every
 * connection closed, new ones refused) or frozen (SIGSTOP: connections open, nothing answers, as
 * a hung or partitioned server). The alarm is pushed at once either way, and it is in the store
 * once PostgreSQL is back (bin/test/production-faults.int.test.ts found it missing).
 */
describe('alerting on PostgreSQL that goes away', () => {
  let postgres: TestPostgres;
  let database: OpenedDatabase;
  let service: AlertingService | undefined;
  let leases: PgAdvisoryLeases | undefined;
  let notifier: RecordingNotifier;

  beforeAll(async () => {
    postgres = await startPostgres();
    const setup = openDatabase({ url: postgres.url });
    await migrateToLatest(setup.db);
    await migrateAlerting(setup.db);
    await importCountyConfig(setup.db, CountyConfig.parse(testCounty(6)), { now: T0 });
    await setup.close();
  }, 120_000);

  afterAll(async () => {
    await postgres?.stop();
  });

  afterEach(async () => {
    await postgres.thaw();
    if (postgres.pid === undefined) await postgres.resume();
    await service?.stop();
    await leases?.stop();
    await database?.close();
    service = undefined;
    leases = undefined;
  });

  /** A node as `anlian alerting` runs it on PostgreSQL: the pool, a lease on the one partition. */
  async function startNode(): Promise<AlertingService> {
    database = openDatabase({ url: postgres.url, logger: silentLogger() });
    leases = new PgAdvisoryLeases({
      url: postgres.url,
      name: 'alerting',
      partitions: 1,
      nodeId: 'alerting-test',
      logger: silentLogger(),
      pollMs: 200,
    });
    notifier = new RecordingNotifier();
    service = new AlertingService({
      db: database.db as unknown as Kysely<AlertingDatabase>,
      logger: silentLogger(),
      metrics: new Registry(),
      rules: defaultRuleSet(),
      notifier,
      leases,
      nodeId: 'alerting-test',
    });
    await service.start();
    return service;
  }

  /** Raises a fire alarm on a detector (one per test: alerts stay open in the store) and returns its id, pushed at once. */
  function fire(s: AlertingService, device: string): string {
    const now = Date.now();
    s.handle(deviceEvent(device, 'fire', 'fire', now));
    const alert = s.openAlerts().find((a) => a.device === device);
    if (!alert) throw new Error(`no alert raised for ${device}`);
    expect(notifier.sent.some((n) => n.alertId === alert.id)).toBe(true);
    return alert.id;
  }

  async function stored(s: AlertingService, ids: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = await Promise.all(ids.map((id) => s.store.get(id).catch(() => undefined)));
      if (found.every((a) => a?.status === 'open')) return;
      if (Date.now() > deadline) {
        throw new Error(
          `not in the store ${timeoutMs} ms after PostgreSQL came back: ${ids.filter((_, i) => !found[i])}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('stopped for 8 s: alarms raised before and during the outage are stored once it is back', async () => {
    const s = await startNode();
    const before = fire(s, 'smoke-x0');
    await postgres.halt();
    const during = [fire(s, 'smoke-x1')];
    // Past the first retries of the store writer (200 ms, 400 ms, …): a later alarm joins the retried write.
    await new Promise((r) => setTimeout(r, 4000));
    during.push(fire(s, 'smoke-x2'));
    await new Promise((r) => setTimeout(r, 4000));
    await postgres.resume();
    // The writer's backoff is at most 10 s.
    await stored(s, [before, ...during], 20_000);
    expect((await s.list({ institution: 'yy-a' })).map((a) => a.id).sort()).toEqual([before, ...during].sort());
    // It still acts for the institution (the lease was taken again) and acknowledging works.
    expect(s.actsFor('yy-a')).toBe(true);
    await s.acknowledge(during[0] as string, 'mgr');
    expect(await s.store.get(during[0] as string)).toMatchObject({ status: 'acknowledged' });
  }, 60_000);

  it('frozen for 8 s (SIGSTOP): alarms raised meanwhile are pushed at once and stored once it answers', async () => {
    const s = await startNode();
    fire(s, 'smoke-x3');
    await s.flushed();
    await postgres.freeze();
    const during = [fire(s, 'smoke-x4')];
    await new Promise((r) => setTimeout(r, 4000));
    during.push(fire(s, 'smoke-x5'));
    await new Promise((r) => setTimeout(r, 4000));
    await postgres.thaw();
    await stored(s, during, 20_000);
    expect(s.actsFor('yy-a')).toBe(true);
  }, 60_000);
});
