import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrateAlerting } from '@anlian/alerting';
import { CjkFonts, FileReportStorage, migrateReports, ReportService } from '@anlian/reports';
import { silentLogger } from '@anlian/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, login, startHarness } from './dashboard-harness.js';

describe('report routes', () => {
  let h: Harness;
  let dir: string;
  let admin: string;
  let managerA: string;
  let managerB: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'anlian-report-routes-'));
    const fonts = CjkFonts.load();
    h = await startHarness({
      deps: async (db) => {
        await migrateAlerting(db);
        await migrateReports(db);
        return {
          reports: {
            service: new ReportService({
              db,
              // No InfluxDB history in this test: every query answers with no series.
              queryInflux: async (q) => q.split(';').map((_, i) => ({ statementId: i, series: [] })),
              storage: new FileReportStorage(dir),
              fonts: () => fonts,
              logger: silentLogger(),
            }),
          },
        };
      },
    });
    admin = await login(h, h.demo.admin.username, h.demo.admin.password);
    const [a, b] = h.demo.managers;
    managerA = await login(h, a?.username ?? '', a?.password ?? '');
    managerB = await login(h, b?.username ?? '', b?.password ?? '');
  });
  afterAll(async () => {
    await h?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const post = (cookie: string, payload: object) =>
    h.dashboard.app.inject({ method: 'POST', url: '/api/reports', headers: { cookie }, payload });
  const get = (cookie: string, url: string) => h.dashboard.app.inject({ method: 'GET', url, headers: { cookie } });

  it('lets county staff generate the county report and download its files', async () => {
    const res = await post(admin, { period: { month: '2026-11' } });
    expect(res.statusCode).toBe(200);
    const report = res.json() as { id: string; institution: string | null; periodLabel: string; sourceKey: string };
    expect(report).toMatchObject({ institution: null, periodLabel: '2026年11月', sourceKey: 'live' });
    const pdf = await get(admin, `/api/reports/${report.id}/pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toContain('anlian-report-testcounty-2026-11.pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const xlsx = await get(admin, `/api/reports/${report.id}/xlsx`);
    expect(xlsx.headers['content-type']).toContain('spreadsheetml');
    // A manager does not see the county's report.
    expect((await get(managerA, `/api/reports/${report.id}/pdf`)).statusCode).toBe(404);
  });

  it('gives a manager their own institution’s reports only', async () => {
    const own = await post(managerA, { period: { lastDays: 30 } });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ institution: 'inst-a' });
    expect((await post(managerA, { institution: 'inst-b', period: { month: '2026-11' } })).statusCode).toBe(403);
    const listA = (await get(managerA, '/api/reports')).json() as { reports: { institution: string | null }[] };
    expect(listA.reports.map((r) => r.institution)).toEqual(['inst-a']);
    const listB = (await get(managerB, '/api/reports')).json() as { reports: unknown[] };
    expect(listB.reports).toEqual([]);
    const all = (await get(admin, '/api/reports')).json() as { reports: { institution: string | null }[] };
    expect(all.reports.map((r) => r.institution).sort()).toEqual(['inst-a', null].sort());
    expect((await get(managerB, `/api/reports/${(own.json() as { id: string }).id}/xlsx`)).statusCode).toBe(404);
  });

  it('checks the request with its schema and names unknown simulation runs', async () => {
    expect((await post(admin, { period: { month: '2026-13' } })).statusCode).toBe(400);
    expect((await post(admin, { period: { from: '2026-11-10', to: '2026-11-01' } })).statusCode).toBe(400);
    const sim = await post(admin, { period: { lastDays: 30 }, source: { kind: 'simulation', runId: 'nope' } });
    expect(sim.statusCode).toBe(404);
    const sources = (await get(admin, '/api/reports/sources')).json() as { sources: unknown[]; defaultSource: unknown };
    expect(sources).toEqual({
      sources: [{ source: { kind: 'live' }, description: '实时运行数据' }],
      defaultSource: { kind: 'live' },
    });
    expect((await h.dashboard.app.inject({ method: 'GET', url: '/api/reports' })).statusCode).toBe(401);
  });
});
