import { DrillRecipients } from '@anlian/alerting';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Drill, DutyCheck, EscalationPolicy, Silence, SilenceScope } from '../../alerts/alerts-port.js';
import { canSeeInstitution } from '../../auth/principal.js';
import { DashboardError, DashboardErrorCode } from '../../errors.js';
import type { DashboardContext } from '../dashboard-context.js';
import { need, needInstitution } from '../request-principal.js';
import { errorResponses, Id } from './route-schemas.js';

/** Silences, drills (应急演练), duty checks (查岗) and escalation policies. */
export const operationsRoutes: FastifyPluginAsyncZod<{ ctx: DashboardContext }> = async (app, { ctx }) => {
  const countyOf = (id: string) => ctx.model.countyOf(id);
  const inCounty = (county: string, institution: string | undefined) =>
    institution === undefined || ctx.model.countyOf(institution) === county;

  app.get(
    '/api/silences',
    {
      schema: {
        tags: ['operations'],
        summary: 'Silences (a manager sees those of their institution)',
        response: { 200: z.object({ silences: z.array(Silence) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'read');
      const all = await ctx.alerts.listSilences();
      return {
        silences: all.filter(
          (s) =>
            inCounty(p.county, s.scope.institution) &&
            (p.institution === null || s.scope.institution === p.institution),
        ),
      };
    },
  );

  app.post(
    '/api/silences',
    {
      schema: {
        tags: ['operations'],
        summary: 'Silence notifications for an institution, gateway, device or rule for a while',
        body: z
          .object({
            scope: SilenceScope,
            startsAt: z.number().int(),
            endsAt: z.number().int(),
            reason: z.string().trim().min(1).max(500),
          })
          .refine((s) => s.endsAt > s.startsAt, { message: 'endsAt must be after startsAt', path: ['endsAt'] }),
        response: { 200: Silence, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'manageSilences');
      const { scope } = req.body;
      if (scope.institution !== undefined) needInstitution(req, 'manageSilences', scope.institution, countyOf);
      const silence = await ctx.alerts.createSilence({ ...req.body, scope, author: p.name });
      await ctx.audit.record(p, 'silence.create', {
        target: silence.id,
        institution: scope.institution ?? null,
        detail: req.body,
        ip: req.ip,
      });
      return silence;
    },
  );

  app.post(
    '/api/silences/:id/expire',
    {
      schema: {
        tags: ['operations'],
        summary: 'End a silence now',
        params: z.object({ id: z.string().min(1).max(128) }),
        response: { 200: Silence, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'manageSilences');
      const s = (await ctx.alerts.listSilences()).find((x) => x.id === req.params.id);
      if (!s || !inCounty(p.county, s.scope.institution))
        throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no silence ${req.params.id}`);
      const expired = await ctx.alerts.expireSilence(req.params.id, p.name);
      await ctx.audit.record(p, 'silence.expire', {
        target: s.id,
        institution: s.scope.institution ?? null,
        ip: req.ip,
      });
      return expired;
    },
  );

  app.get(
    '/api/drills',
    {
      schema: {
        tags: ['operations'],
        summary: 'Drills (应急演练)',
        response: { 200: z.object({ drills: z.array(Drill) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'read');
      const all = await ctx.alerts.listDrills();
      return {
        drills: all.filter(
          (d) =>
            d.institutions.every((i) => inCounty(p.county, i)) &&
            (p.institution === null || d.institutions.includes(p.institution)),
        ),
      };
    },
  );

  app.post(
    '/api/drills',
    {
      schema: {
        tags: ['operations'],
        summary: 'Plan a drill: alerts of these institutions in the window are marked as drill',
        body: z
          .object({
            name: z.string().trim().min(1).max(128),
            institutions: z.array(Id).min(1),
            startsAt: z.number().int(),
            endsAt: z.number().int(),
            recipients: DrillRecipients.optional().describe(
              'marker (default): the usual recipients, pushes marked [演练]; drill-channels: only channels that take drills',
            ),
          })
          .refine((d) => d.endsAt > d.startsAt, { message: 'endsAt must be after startsAt', path: ['endsAt'] }),
        response: { 200: Drill, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'manageDrills');
      for (const i of req.body.institutions) needInstitution(req, 'manageDrills', i, countyOf);
      const drill = await ctx.alerts.createDrill({ ...req.body, author: p.name });
      await ctx.audit.record(p, 'drill.create', { target: drill.id, detail: req.body, ip: req.ip });
      return drill;
    },
  );

  const visibleDrill = async (p: ReturnType<typeof need>, id: string) => {
    const d = (await ctx.alerts.listDrills()).find((x) => x.id === id);
    if (!d?.institutions.every((i) => inCounty(p.county, i)))
      throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no drill ${id}`);
    if (p.institution !== null && !d.institutions.includes(p.institution))
      throw new DashboardError(DashboardErrorCode.FORBIDDEN, `drill ${id} is not for your institution`);
    return d;
  };

  app.post(
    '/api/drills/:id/end',
    {
      schema: {
        tags: ['operations'],
        summary: 'End a drill now',
        params: z.object({ id: z.string().min(1).max(128) }),
        response: { 200: Drill, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'manageDrills');
      await visibleDrill(p, req.params.id);
      const d = await ctx.alerts.endDrill(req.params.id, p.name);
      await ctx.audit.record(p, 'drill.end', { target: d.id, ip: req.ip });
      return d;
    },
  );

  app.get(
    '/api/drills/:id/report',
    {
      schema: {
        tags: ['operations'],
        summary: 'A drill report as JSON, or CSV with ?format=csv',
        params: z.object({ id: z.string().min(1).max(128) }),
        querystring: z.object({ format: z.enum(['json', 'csv']).default('json') }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'read');
      await visibleDrill(p, req.params.id);
      const { report, csv } = await ctx.alerts.drillReport(req.params.id);
      if (req.query.format === 'csv') {
        return (
          reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="drill-${req.params.id}.csv"`)
            // A BOM so that Excel opens the Chinese text as UTF-8 (alerting's CSV carries one already).
            .send(csv.startsWith('\uFEFF') ? csv : `\uFEFF${csv}`)
        );
      }
      return report;
    },
  );

  app.get(
    '/api/institutions/:id/duty-checks',
    {
      schema: {
        tags: ['operations'],
        summary: 'Recent duty checks (查岗) of the institution’s fire control room, newest first, with their outcome',
        params: z.object({ id: Id }),
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(10) }),
        response: { 200: z.object({ checks: z.array(DutyCheck) }), ...errorResponses },
      },
    },
    async (req) => {
      needInstitution(req, 'read', req.params.id, countyOf);
      return { checks: await ctx.alerts.listDutyChecks({ institution: req.params.id, limit: req.query.limit }) };
    },
  );

  app.post(
    '/api/institutions/:id/duty-checks',
    {
      schema: {
        tags: ['operations'],
        summary:
          'Start a duty check (查岗): the gateway asks the fire control room to answer (GB/T 26875.3 type 91); pending until it does or the window ends',
        params: z.object({ id: Id }),
        body: z
          .object({
            // GB/T 26875.3: the UITD keeps the check up to 10 minutes.
            answerWindowS: z.number().int().min(60).max(600).optional(),
          })
          .default({}),
        response: { 202: z.object({ checks: z.array(DutyCheck) }), ...errorResponses },
      },
    },
    async (req, reply) => {
      const p = needInstitution(req, 'dutyChecks', req.params.id, countyOf);
      const checks = await ctx.alerts.requestDutyCheck({
        institution: req.params.id,
        requestedBy: p.name,
        ...(req.body.answerWindowS !== undefined ? { answerWindowS: req.body.answerWindowS } : {}),
      });
      await ctx.audit.record(p, 'duty-check.request', {
        target: checks.map((c) => c.id).join(','),
        institution: req.params.id,
        detail: { gateways: checks.map((c) => c.gateway), answerWindowS: checks[0]?.answerWindowS },
        ip: req.ip,
      });
      return reply.code(202).send({ checks });
    },
  );

  app.get(
    '/api/institutions/:id/escalation-policy',
    {
      schema: {
        tags: ['operations'],
        summary: 'Who is notified, and when, while nobody acknowledges',
        params: z.object({ id: Id }),
        response: { 200: EscalationPolicy, ...errorResponses },
      },
    },
    async (req) => {
      needInstitution(req, 'read', req.params.id, countyOf);
      return ctx.alerts.getPolicy(req.params.id);
    },
  );

  app.put(
    '/api/institutions/:id/escalation-policy',
    {
      schema: {
        tags: ['operations'],
        summary: 'Set the escalation policy',
        params: z.object({ id: Id }),
        body: EscalationPolicy,
        response: { 200: EscalationPolicy, ...errorResponses },
      },
    },
    async (req) => {
      const p = needInstitution(req, 'managePolicy', req.params.id, countyOf);
      if (!canSeeInstitution(p, req.params.id))
        throw new DashboardError(DashboardErrorCode.FORBIDDEN, 'not your institution');
      const policy = await ctx.alerts.setPolicy(req.params.id, req.body, p.name);
      await ctx.audit.record(p, 'policy.set', {
        target: req.params.id,
        institution: req.params.id,
        detail: req.body,
        ip: req.ip,
      });
      return policy;
    },
  );
};
