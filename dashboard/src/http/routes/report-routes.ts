import { PeriodRequest, ReportError, ReportErrorCode, type ReportService, ReportSource } from '@anlian/reports';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSeeInstitution, type Principal } from '../../auth/principal.js';
import { DashboardError, DashboardErrorCode } from '../../errors.js';
import type { DashboardContext } from '../dashboard-context.js';
import { need, needInstitution } from '../request-principal.js';
import { errorResponses, Id } from './route-schemas.js';

export interface ReportRoutesOptions {
  ctx: DashboardContext;
  reports: ReportService;
  /** The data the page offers first (the demo: its generated month of history). */
  defaultSource?: ReportSource | undefined;
}

const ArchivedReport = z.object({
  id: z.string(),
  county: z.string(),
  institution: z.string().nullable(),
  periodKey: z.string(),
  periodFrom: z.number(),
  periodTo: z.number(),
  periodLabel: z.string(),
  sourceKey: z.string(),
  lang: z.string(),
  generatedAt: z.number(),
  generatedBy: z.string(),
  scheduled: z.boolean(),
  xlsxBytes: z.number(),
  pdfBytes: z.number(),
  summary: z.record(z.string(), z.number().nullable()),
});

/** A reports error as the dashboard's: a missing run or institution is 404, a bad period 400. */
function dashboardError(err: unknown): unknown {
  if (!(err instanceof ReportError)) return err;
  if (err.code === ReportErrorCode.NOT_FOUND) return new DashboardError(DashboardErrorCode.NOT_FOUND, err.message);
  if (err.code === ReportErrorCode.BAD_REQUEST) return new DashboardError(DashboardErrorCode.BAD_REQUEST, err.message);
  if (err.code === ReportErrorCode.INFLUX)
    return new DashboardError(DashboardErrorCode.HISTORY_UNAVAILABLE, err.message);
  return err;
}

/** A manager may see their institution's reports only; county roles every report of their county. */
function maySee(p: Principal, entry: { county: string; institution: string | null }): boolean {
  if (entry.county !== p.county) return false;
  return entry.institution === null ? p.institution === null : canSeeInstitution(p, entry.institution);
}

/**
 * Supervision reports (issue 17): the archive (scheduled and on demand), generating one, and its
 * Excel and PDF files. County admins and operators see every report of the county; an
 * institution's manager only their institution's.
 */
export const reportRoutes: FastifyPluginAsyncZod<ReportRoutesOptions> = async (
  app,
  { ctx, reports, defaultSource },
) => {
  const countyOf = (id: string) => ctx.model.countyOf(id);

  app.get(
    '/api/reports/sources',
    {
      schema: {
        tags: ['reports'],
        summary: 'The data a report can be computed from: live data, or a completed simulation run',
        response: {
          200: z.object({
            sources: z.array(
              z.object({
                source: ReportSource,
                description: z.string(),
                startsAt: z.number().optional(),
                endsAt: z.number().optional(),
                seed: z.number().optional(),
              }),
            ),
            defaultSource: ReportSource,
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = need(req, 'readReports');
      const runs = await reports.simulationRuns(p.county);
      return {
        sources: [
          { source: { kind: 'live' as const }, description: '实时运行数据' },
          ...runs.map((r) => ({
            source: { kind: 'simulation' as const, runId: r.id },
            description: r.description,
            startsAt: r.startsAt,
            endsAt: r.endsAt,
            seed: r.seed,
          })),
        ],
        defaultSource: defaultSource ?? { kind: 'live' },
      };
    },
  );

  app.get(
    '/api/reports',
    {
      schema: {
        tags: ['reports'],
        summary: 'The report archive, newest first (a manager sees their institution’s)',
        querystring: z.object({
          institution: Id.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ reports: z.array(ArchivedReport) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'readReports');
      const institution = req.query.institution ?? p.institution ?? undefined;
      if (institution !== undefined) needInstitution(req, 'readReports', institution, countyOf);
      const list = await reports.archive.list({ county: p.county, institution, limit: req.query.limit });
      return {
        reports: list.filter((e) => maySee(p, e)).map(({ xlsxKey: _x, pdfKey: _p, scheduleKey: _s, ...e }) => e),
      };
    },
  );

  app.post(
    '/api/reports',
    {
      schema: {
        tags: ['reports'],
        summary: 'Generate a report now (Excel and PDF) and archive it',
        body: z
          .object({
            institution: Id.optional(),
            period: PeriodRequest,
            source: ReportSource.default({ kind: 'live' }),
            lang: z.enum(['zh', 'en']).default('zh'),
          })
          .strict(),
        response: { 200: ArchivedReport, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'readReports');
      // A manager's report is always their institution's; asking for another is refused.
      const institution = req.body.institution ?? p.institution ?? undefined;
      if (institution !== undefined) needInstitution(req, 'readReports', institution, countyOf);
      try {
        const report = await reports.generate({
          county: p.county,
          institution,
          period: req.body.period,
          source: req.body.source,
          lang: req.body.lang,
          by: p.name,
        });
        await ctx.audit.record(p, 'report.generate', {
          target: report.id,
          institution: institution ?? null,
          detail: { period: req.body.period, source: req.body.source },
          ip: req.ip,
        });
        return report;
      } catch (err) {
        throw dashboardError(err);
      }
    },
  );

  app.get(
    '/api/reports/:id/:format',
    {
      schema: {
        tags: ['reports'],
        summary: 'A report’s Excel (xlsx) or PDF file',
        params: z.object({ id: z.string().min(1).max(64), format: z.enum(['xlsx', 'pdf']) }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'readReports');
      const entry = await reports.archive.get(req.params.id);
      if (!entry || !maySee(p, entry))
        throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no report ${req.params.id}`);
      const file = await reports.file(entry.id, req.params.format);
      if (!file) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `the file of report ${entry.id} is missing`);
      return reply
        .type(file.contentType)
        .header('content-disposition', `attachment; filename="${file.filename}"`)
        .send(file.bytes);
    },
  );
};
