import { CountyConfig } from '@anlian/protocol';
import { buildDemoCounty, importCountyConfig, migrateToLatest, type OpenedDatabase, openDatabase } from '@anlian/store';
import { buildSupervision, migrateSupervision, type Supervision, seedSupervisionDemo } from '@anlian/supervision';
import { startPostgres, type TestPostgres } from '@anlian/testing';
import ExcelJS from 'exceljs';
import type { Kysely } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportFigures } from '../src/figures/report-figures.js';
import type { ReportReadDatabase } from '../src/read/report-tables.js';
import { StoreReader } from '../src/read/store-reader.js';
import { StoreSupervisionSource, supervisionMarker } from '../src/read/supervision-source.js';
import { writeExcelReport } from '../src/render/excel-report.js';
import { figuresFixture } from './figures-fixture.js';

const NOW = Date.UTC(2026, 5, 1, 4, 0, 0);
const DAY = 86_400_000;
const COUNTY = 'youyang';
const SEED = 3;

type Available = Extract<ReportFigures['supervision'], { available: true }>;

/**
 * The report's hazard and grade figures from supervision's tables, checked against supervision's
 * own read API (`SupervisionFigures`: a separate implementation over the same ledger) on the demo
 * county's generated 60 days, on SQLite and PostgreSQL.
 */
function supervisionSuite(name: string, open: () => Promise<{ store: OpenedDatabase; dispose(): Promise<void> }>) {
  describe(`supervision figures in reports on ${name}`, () => {
    let store: OpenedDatabase;
    let dispose: () => Promise<void>;
    let source: StoreSupervisionSource;
    let sup: Supervision;

    beforeAll(async () => {
      ({ store, dispose } = await open());
      await migrateToLatest(store.db);
      const reader = new StoreReader(store.db as unknown as Kysely<ReportReadDatabase>);
      source = new StoreSupervisionSource(store.db, reader);
      // Before supervision's tables exist: "not available", not zeros.
      expect(await source.read({ county: COUNTY }, NOW - 30 * DAY, NOW, NOW, null)).toEqual({ available: false });
      await migrateSupervision(store.db);
      await importCountyConfig(store.db, CountyConfig.parse(buildDemoCounty(1)), { now: NOW - 90 * DAY });
      const seeded = await seedSupervisionDemo(store.db, { county: COUNTY, seed: SEED, now: NOW });
      expect(seeded, JSON.stringify(seeded)).toMatchObject({ seeded: true });
      expect(seeded.hazards, JSON.stringify(seeded)).toBeGreaterThan(40);
      sup = buildSupervision({ db: store.db, logger: pino({ level: 'silent' }), clock: () => NOW });
    });
    afterAll(async () => {
      await dispose?.();
    });

    for (const [label, from, to] of [
      ['the last 30 days', NOW - 30 * DAY, NOW],
      ['a fortnight in the middle', NOW - 45 * DAY, NOW - 31 * DAY],
    ] as const) {
      it(`counts the generated hazards of ${label} as supervision's own figures do, and grades as gradesAt`, async () => {
        const got = (await source.read({ county: COUNTY }, from, to, NOW, supervisionMarker(SEED))) as Available;
        expect(got.available).toBe(true);
        const want = await sup.figures.hazardFigures({ county: COUNTY, from, to });
        expect(want.found).toBeGreaterThan(0);
        expect(got.records).toBe(`demo-seed-${SEED}`);
        expect(got.hazards).toMatchObject({
          opened: want.found,
          closed: want.closed,
          closedOnTime: want.closedOnTime,
          open: want.openAtEnd,
          overdue: want.overdueAtEnd,
          becameOverdue: want.becameOverdue,
        });
        if (want.meanDaysToClose === null) expect(got.hazards.meanDaysToClose).toBeUndefined();
        else expect(got.hazards.meanDaysToClose).toBeCloseTo(want.meanDaysToClose, 1);
        for (const s of got.bySeverity) {
          expect(s, s.severity).toMatchObject({
            opened: want.bySeverity[s.severity].found,
            closed: want.bySeverity[s.severity].closed,
            open: want.bySeverity[s.severity].openAtEnd,
          });
        }
        // Per institution: every institution of the county, adding up to the totals.
        expect(got.byInstitution).toHaveLength(26);
        for (const k of ['opened', 'closed', 'open', 'overdue'] as const) {
          expect(
            got.byInstitution.reduce((a, r) => a + r[k], 0),
            k,
          ).toBe(got.hazards[k]);
        }
        const one = got.byInstitution.find((r) => r.opened > 0);
        if (!one) throw new Error('no institution with hazards');
        const wantOne = await sup.figures.hazardFigures({ county: COUNTY, institution: one.institution, from, to });
        expect(one).toMatchObject({ opened: wantOne.found, closed: wantOne.closed, open: wantOne.openAtEnd });
        // Grades at the end: the distribution and each institution's.
        const grades = await sup.figures.gradesAt(COUNTY, to);
        expect(grades.length).toBeGreaterThan(0);
        const dist = await sup.figures.gradeDistribution(COUNTY, to);
        expect(Object.fromEntries(got.grades.map((g) => [g.grade, g.institutions]))).toEqual(
          Object.fromEntries(Object.entries(dist).filter(([, n]) => n > 0)),
        );
        for (const g of grades) {
          expect(got.byInstitution.find((r) => r.institution === g.institution)?.grade).toBe(g.grade);
        }
        // An institution's report: its hazards only.
        const inst = (await source.read(
          { county: COUNTY, institution: one.institution },
          from,
          to,
          NOW,
          supervisionMarker(SEED),
        )) as Available;
        expect(inst.hazards).toMatchObject({ opened: wantOne.found, closed: wantOne.closed });
        expect(inst.byInstitution.map((r) => r.institution)).toEqual([one.institution]);
      });
    }

    it('leaves generated hazards out of a live report, and those of another seed out of a simulation', async () => {
      for (const records of [null, supervisionMarker(SEED + 1)]) {
        const got = (await source.read({ county: COUNTY }, NOW - 30 * DAY, NOW, NOW, records)) as Available;
        expect(got.available).toBe(true);
        expect(got.hazards).toMatchObject({ opened: 0, closed: 0, open: 0, overdue: 0, becameOverdue: 0 });
        // Grades carry no marker: the same in every report.
        expect(got.grades.length).toBeGreaterThan(0);
      }
    });

    it('puts the figures in the report: the hazards sheet has the totals, the grades and every institution', async () => {
      const supervision = await source.read({ county: COUNTY }, NOW - 30 * DAY, NOW, NOW, supervisionMarker(SEED));
      const f = figuresFixture({ supervision });
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load((await writeExcelReport(f)) as unknown as ArrayBuffer);
      const ws = wb.getWorksheet('隐患与风险');
      if (!ws) throw new Error('no hazards sheet');
      const rows: unknown[][] = [];
      ws.eachRow((r) => {
        rows.push((r.values as unknown[]).slice(1));
      });
      const s = supervision as Available;
      expect(rows.find((r) => r[0] === '合计')?.slice(1, 5)).toEqual([
        s.hazards.opened,
        s.hazards.closed,
        s.hazards.overdue,
        s.hazards.open,
      ]);
      expect(rows.flat()).toContain('各机构隐患与风险等级');
      // fixture institutions have other ids: the rows show the ids of the store's institutions
      for (const r of s.byInstitution) expect(rows.some((row) => row[0] === r.institution)).toBe(true);
      expect(rows.flat().join(' ')).not.toContain('暂无数据');
    });
  });
}

supervisionSuite('SQLite', async () => {
  const store = openDatabase({ sqlitePath: ':memory:' });
  return { store, dispose: () => store.close() };
});

let pg: TestPostgres | undefined;
supervisionSuite('PostgreSQL', async () => {
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
