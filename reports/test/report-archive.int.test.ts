import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateAlerting } from '@anlian/alerting';
import { CountyConfig } from '@anlian/protocol';
import { importCountyConfig, migrateToLatest, type OpenedDatabase, openDatabase } from '@anlian/store';
import { startPostgres, type TestPostgres } from '@anlian/testing';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonthlyReportScheduler } from '../src/archive/monthly-report-scheduler.js';
import { StoreLease } from '../src/archive/report-archive.js';
import { FileReportStorage } from '../src/archive/report-storage.js';
import { migrateReports } from '../src/archive/reports-migrations.js';
import type { InfluxQuery } from '../src/read/influx-reader.js';
import { CjkFonts } from '../src/render/cjk-font.js';
import { ReportService } from '../src/report-service.js';
import { monthCounty } from './report-stack.js';

/** 2026-12-01 02:00 in Beijing: last month's reports are due. */
const DUE = Date.UTC(2026, 10, 30, 18);
/** 2026-12-01 00:30 in Beijing: the 1st, but not yet. */
const EARLY = Date.UTC(2026, 10, 30, 16, 30);

// This suite is about the archive and the schedule; InfluxDB has nothing for it (no status history).
const emptyInflux: InfluxQuery = async (q) => q.split(';').map(() => ({ series: [] }));

function archiveSuite(name: string, open: () => Promise<{ store: OpenedDatabase; dispose(): Promise<void> }>) {
  describe(`report archive and monthly schedule on ${name}`, () => {
    let store: OpenedDatabase;
    let dispose: () => Promise<void>;
    let dir: string;
    let now = DUE;
    const fonts = CjkFonts.load();
    const service = (root: string) =>
      new ReportService({
        db: store.db,
        queryInflux: emptyInflux,
        storage: new FileReportStorage(root),
        fonts: () => fonts,
        logger: pino({ level: 'silent' }),
        clock: () => now,
      });

    beforeAll(async () => {
      ({ store, dispose } = await open());
      dir = await mkdtemp(join(tmpdir(), 'anlian-archive-'));
      await migrateToLatest(store.db);
      await migrateAlerting(store.db);
      await migrateReports(store.db);
      await importCountyConfig(store.db, CountyConfig.parse(monthCounty()), { now: Date.UTC(2026, 9, 1) });
    });
    afterAll(async () => {
      await dispose?.();
      await rm(dir, { recursive: true, force: true });
    });

    it('a lease has one holder until it expires', async () => {
      const lease = new StoreLease(store.db);
      expect(await lease.acquire('x', 'node-a', 1000, 10_000)).toBe(true);
      expect(await lease.acquire('x', 'node-b', 1000, 10_500)).toBe(false);
      expect(await lease.acquire('x', 'node-a', 1000, 10_600)).toBe(true);
      expect(await lease.acquire('x', 'node-b', 1000, 11_700)).toBe(true);
      expect(await lease.acquire('x', 'node-a', 1000, 11_800)).toBe(false);
      await lease.release('x', 'node-b');
      expect(await lease.acquire('x', 'node-a', 1000, 11_900)).toBe(true);
    });

    it('generates last month’s reports once, on one of two nodes, on the 1st', async () => {
      const storage = join(dir, 'files');
      const nodes = ['node-a', 'node-b'].map(
        (holder) =>
          new MonthlyReportScheduler({
            service: service(storage),
            lease: new StoreLease(store.db),
            holder,
            logger: pino({ level: 'silent' }),
            clock: () => now,
          }),
      );
      now = EARLY;
      await Promise.all(nodes.map((n) => n.check()));
      const s = service(storage);
      expect(await s.archive.list({ county: 'simcounty' })).toEqual([]);

      now = DUE;
      await Promise.all(nodes.map((n) => n.check()));
      await Promise.all(nodes.map((n) => n.check()));
      const list = await s.archive.list({ county: 'simcounty' });
      expect(list.map((e) => [e.institution, e.periodKey, e.generatedBy, e.sourceKey]).sort()).toEqual(
        [
          ['inst-a', '2026-11', 'schedule', 'live'],
          ['inst-b', '2026-11', 'schedule', 'live'],
          [null, '2026-11', 'schedule', 'live'],
        ].sort(),
      );
      const county = list.find((e) => e.institution === null);
      const pdf = await s.file(county?.id ?? '', 'pdf');
      expect(pdf?.bytes.subarray(0, 5).toString()).toBe('%PDF-');
      expect(pdf?.filename).toBe('anlian-report-simcounty-2026-11.pdf');
      const xlsx = await s.file(county?.id ?? '', 'xlsx');
      expect(xlsx?.bytes.subarray(0, 2).toString()).toBe('PK');
      expect(xlsx?.bytes.length).toBe(county?.xlsxBytes);
      // A manager's view: one institution's reports only.
      expect((await s.archive.list({ county: 'simcounty', institution: 'inst-a' })).map((e) => e.institution)).toEqual([
        'inst-a',
      ]);
      // start() checks at once and stop() waits for it: nothing more to do this month.
      nodes[0]?.start();
      await nodes[0]?.stop();
      expect(await s.archive.list({ county: 'simcounty' })).toHaveLength(3);
    });

    it('archives reports on demand beside the scheduled ones, newest first', async () => {
      const s = service(join(dir, 'files'));
      now = DUE + 60_000;
      const a = await s.generate({ period: { month: '2026-10' }, source: { kind: 'live' }, by: 'operator' });
      now = DUE + 120_000;
      const b = await s.generate({
        institution: 'inst-b',
        period: { from: '2026-11-01', to: '2026-11-15' },
        source: { kind: 'live' },
        by: 'manager-b',
        lang: 'en',
      });
      const list = await s.archive.list({ county: 'simcounty' });
      expect(list.slice(0, 2).map((e) => e.id)).toEqual([b.id, a.id]);
      expect(b).toMatchObject({
        institution: 'inst-b',
        periodKey: '2026-11-01..2026-11-15',
        lang: 'en',
        scheduled: false,
      });
      expect(a.summary).toMatchObject({ devices: 22, alarms: 0, onlineRate: 0 });
    });
  });
}

archiveSuite('SQLite', async () => {
  const store = openDatabase({ sqlitePath: ':memory:' });
  return { store, dispose: () => store.close() };
});

let pg: TestPostgres | undefined;
archiveSuite('PostgreSQL', async () => {
  pg = await startPostgres();
  const store = openDatabase({ url: pg.url });
  return {
    store,
    dispose: async () => {
      await store.close();
      await pg?.stop();
    },
  };
});
