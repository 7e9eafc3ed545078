import {
  CountyInput,
  CountyInputKind,
  GRADES,
  Grade,
  GradeExplanation,
  InspectionDraw,
  type SettingName,
  type Supervision,
} from '@anlian/supervision';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../../auth/principal.js';
import type { DashboardContext } from '../dashboard-context.js';
import { need, needInstitution } from '../request-principal.js';
import { actorOf } from './hazard-routes.js';
import { errorResponses, Id, LooseObject } from './route-schemas.js';

const DAY_MS = 86_400_000;
const YEAR_MS = 365 * DAY_MS;
const SettingNameParam = z.enum(['ledger', 'sources', 'grading']);

const GradeRow = z.object({
  institution: z.string(),
  name: z.string(),
  grade: Grade.nullable(),
  score: z.number().nullable(),
  at: z.number().nullable(),
  reason: z.string().nullable(),
  scoreGrade: Grade.nullable(),
  floor: GradeExplanation.shape.floor,
  inspectionsPerYear: z.number().nullable(),
  lastInspectionAt: z.number().nullable(),
  /** When the county's policy wants the next inspection (last + a year / frequency). */
  nextInspectionDueAt: z.number().nullable(),
  /** The three factors that weigh most, for the list. */
  topFactors: z.array(z.object({ id: z.string(), label: z.string(), contribution: z.number() })),
});

const GradePolicyOut = z.object({
  windowDays: z.number(),
  thresholds: z.object({ red: z.number(), orange: z.number(), yellow: z.number() }),
  floors: LooseObject,
  inspectionsPerYear: z.record(Grade, z.number()),
  drawWeights: z.record(Grade, z.number()),
  factors: z.array(z.object({ id: z.string(), weight: z.number(), saturation: z.number() })),
  recomputeEveryMinutes: z.number(),
});

/**
 * Risk grading (风险分级, seeds 003/004): the county's grades with why, each institution's grade
 * with its explanation and history, the policy (weights, thresholds, inspections per grade), the
 * county's own inputs (complaints, violations) and the random inspection draw (双随机).
 */
export const gradeRoutes: FastifyPluginAsyncZod<{ ctx: DashboardContext; supervision: Supervision }> = async (
  app,
  { ctx, supervision: sup },
) => {
  const countyOf = (id: string) => ctx.model.countyOf(id);

  const gradeRows = async (p: Principal) => {
    const policy = await sup.settings.get(p.county, 'grading');
    const grades = new Map((await sup.grader.current(p.county)).map((g) => [g.institution, g]));
    const last = await sup.inspections.lastInspections(p.county);
    const snap = ctx.registryView.snapshot;
    const ids = p.institution ? [p.institution] : ctx.model.institutionIds(p.county);
    return {
      policy,
      rows: ids.map((id) => {
        const g = grades.get(id);
        const lastAt = last.get(id) ?? null;
        const perYear = g ? policy.inspectionsPerYear[g.grade] : null;
        return {
          institution: id,
          name: snap.institutions.get(id)?.name ?? id,
          grade: g?.grade ?? null,
          score: g?.score ?? null,
          at: g?.at ?? null,
          reason: g?.reason ?? null,
          scoreGrade: g?.explanation.scoreGrade ?? null,
          floor: g?.explanation.floor ?? null,
          inspectionsPerYear: perYear,
          lastInspectionAt: lastAt,
          nextInspectionDueAt:
            perYear === null || perYear <= 0 ? null : lastAt === null ? (g?.at ?? null) : lastAt + YEAR_MS / perYear,
          topFactors: (g?.explanation.factors ?? [])
            .filter((f) => f.contribution > 0)
            .sort((a, b) => b.contribution - a.contribution)
            .slice(0, 3)
            .map((f) => ({ id: f.id, label: f.label.zh, contribution: f.contribution })),
        };
      }),
    };
  };

  app.get(
    '/api/grades',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Every institution’s risk grade with its score, floor, top factors and inspection frequency',
        response: {
          200: z.object({
            policy: GradePolicyOut,
            counts: z.record(Grade, z.number()),
            institutions: z.array(GradeRow),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = need(req, 'read');
      const { policy, rows } = await gradeRows(p);
      const counts = Object.fromEntries(GRADES.map((g) => [g, rows.filter((r) => r.grade === g).length])) as Record<
        Grade,
        number
      >;
      return { policy, counts, institutions: rows };
    },
  );

  app.get(
    '/api/institutions/:id/grade',
    {
      schema: {
        tags: ['supervision'],
        summary: 'An institution’s grade, why (every factor and its weight), and its history',
        params: z.object({ id: Id }),
        querystring: z.object({ days: z.coerce.number().int().min(1).max(730).default(90) }),
        response: {
          200: z.object({
            current: z
              .object({
                grade: Grade,
                score: z.number(),
                at: z.number(),
                reason: z.string(),
                explanation: GradeExplanation,
              })
              .nullable(),
            history: z.array(z.object({ at: z.number(), grade: Grade, score: z.number() })),
            inspectionsPerYear: z.record(Grade, z.number()),
          }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = needInstitution(req, 'read', req.params.id, countyOf);
      const now = ctx.clock();
      const current = await sup.grader.currentOf(req.params.id);
      const history = await sup.grader.history(req.params.id, now - req.query.days * DAY_MS, now + 1);
      const policy = await sup.settings.get(p.county, 'grading');
      return {
        current: current
          ? {
              grade: current.grade,
              score: current.score,
              at: current.at,
              reason: current.reason,
              explanation: current.explanation,
            }
          : null,
        history: history.map((h) => ({ at: h.at, grade: h.grade, score: h.score })),
        inspectionsPerYear: policy.inspectionsPerYear,
      };
    },
  );

  app.post(
    '/api/grades/recompute',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Regrade every institution of the county now',
        response: { 200: z.object({ graded: z.number() }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'supervise');
      const graded = (await sup.grader.recompute(p.county, { reason: 'request' })).length;
      await ctx.audit.record(p, 'grades.recompute', { detail: { graded }, ip: req.ip });
      return { graded };
    },
  );

  app.get(
    '/api/supervision/settings',
    {
      schema: {
        tags: ['supervision'],
        summary: 'The county’s ledger policy (deadlines, escalation), automatic sources and grading policy',
        response: { 200: z.record(SettingNameParam, LooseObject), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'supervise');
      const [ledger, sources, grading] = await Promise.all(
        (['ledger', 'sources', 'grading'] as const).map((n) => sup.settings.record(p.county, n)),
      );
      return { ledger, sources, grading } as unknown as Record<SettingName, Record<string, unknown>>;
    },
  );

  app.put(
    '/api/supervision/settings/:name',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Set one settings document (county admins); a new grading policy regrades at once',
        params: z.object({ name: SettingNameParam }),
        body: LooseObject,
        response: { 200: LooseObject, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      const value = await sup.settings.set(p.county, req.params.name, req.body, p.name);
      await ctx.audit.record(p, `supervision.settings.${req.params.name}`, { detail: req.body, ip: req.ip });
      if (req.params.name === 'grading') await sup.grader.recompute(p.county, { reason: 'policy' });
      return value as unknown as Record<string, unknown>;
    },
  );

  app.delete(
    '/api/supervision/settings/:name',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Back to the shipped default',
        params: z.object({ name: SettingNameParam }),
        response: { 200: z.object({ reset: z.boolean() }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      await sup.settings.reset(p.county, req.params.name);
      await ctx.audit.record(p, `supervision.settings.${req.params.name}.reset`, { ip: req.ip });
      if (req.params.name === 'grading') await sup.grader.recompute(p.county, { reason: 'policy' });
      return { reset: true };
    },
  );

  /** The county's inspectors: its staff (admins and operators) who are not disabled. */
  const inspectorPool = async (county: string): Promise<string[]> => {
    const rows = await ctx.db
      .selectFrom('users')
      .select(['display_name'])
      .where('county_id', '=', county)
      .where('role', 'in', ['county_admin', 'county_operator'])
      .where('disabled', '=', 0)
      .orderBy('display_name')
      .execute();
    return rows.map((r) => r.display_name);
  };

  app.get(
    '/api/inspection-draws',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Random inspection draws (双随机), newest first, and the pool of inspectors',
        response: {
          200: z.object({ draws: z.array(InspectionDraw), pool: z.array(z.string()) }),
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const p = need(req, 'supervise');
      return { draws: await sup.draws.list(p.county), pool: await inspectorPool(p.county) };
    },
  );

  app.post(
    '/api/inspection-draws',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Draw institutions at random, weighted by grade, and inspectors for each; the draw is recorded',
        body: z.object({
          count: z.number().int().min(1).max(1000),
          inspectors: z.array(z.string().trim().min(1).max(64)).max(200).optional(),
          inspectorsPerInstitution: z.number().int().min(0).max(5).default(2),
          note: z.string().trim().max(500).optional(),
        }),
        response: { 200: InspectionDraw, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'supervise');
      const draw = await sup.draws.draw(
        p.county,
        {
          count: req.body.count,
          inspectors: req.body.inspectors ?? (await inspectorPool(p.county)),
          inspectorsPerInstitution: req.body.inspectorsPerInstitution,
          ...(req.body.note ? { note: req.body.note } : {}),
        },
        actorOf(p, req),
      );
      await ctx.audit.record(p, 'inspection.draw', {
        target: draw.id,
        detail: { seed: draw.seed, drawn: draw.drawn.map((d) => d.institution) },
        ip: req.ip,
      });
      return draw;
    },
  );

  app.get(
    '/api/institutions/:id/inputs',
    {
      schema: {
        tags: ['supervision'],
        summary: 'The county’s own inputs on an institution: complaints and violations',
        params: z.object({ id: Id }),
        response: { 200: z.object({ inputs: z.array(CountyInput) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = needInstitution(req, 'read', req.params.id, countyOf);
      return { inputs: await sup.countyInputs.list({ county: p.county, institution: req.params.id }) };
    },
  );

  app.post(
    '/api/institutions/:id/inputs',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Record a complaint (投诉举报) or a violation (违法违规记录); the grade follows',
        params: z.object({ id: Id }),
        body: z.object({
          kind: CountyInputKind,
          at: z.number().int().optional(),
          note: z.string().trim().min(1).max(1000),
        }),
        response: { 200: CountyInput, ...errorResponses },
      },
    },
    async (req) => {
      const p = needInstitution(req, 'supervise', req.params.id, countyOf);
      const input = await sup.countyInputs.record(
        {
          institution: req.params.id,
          kind: req.body.kind,
          note: req.body.note,
          ...(req.body.at !== undefined ? { at: req.body.at } : {}),
        },
        actorOf(p, req),
      );
      await ctx.audit.record(p, `county-input.${req.body.kind}`, {
        target: input.id,
        institution: req.params.id,
        detail: { note: req.body.note, at: input.at },
        ip: req.ip,
      });
      sup.inputsChanged([req.params.id]);
      return input;
    },
  );
};
