import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  Alert,
  AlertDetail,
  AlertDeviceKind,
  AlertPage,
  AlertSeverity,
  AlertStatus,
  AlertVerdict,
} from '../../alerts/alerts-port.js';
import { canSeeInstitution, type Principal } from '../../auth/principal.js';
import { DashboardError, DashboardErrorCode } from '../../errors.js';
import type { DashboardContext } from '../dashboard-context.js';
import { need } from '../request-principal.js';
import { errorResponses, Id } from './route-schemas.js';

const Note = z.string().trim().min(1).max(1000);

/** An alert with its handling record, and the display names of the people in it. */
const AlertRecord = AlertDetail.extend({
  /** By user name: who acknowledged, verified and closed it (`张三`, not `yy-a-mgr`). */
  actors: z.record(z.string(), z.string()),
});

/** Alerts: the list, one alert with its timeline, and the operator's acknowledge → verify → close. */
export const alertRoutes: FastifyPluginAsyncZod<{ ctx: DashboardContext }> = async (app, { ctx }) => {
  /** The alert, when the principal may see it; 404 rather than 403 for another county's alert. */
  const visibleAlert = async (p: Principal, id: string) => {
    const detail = await ctx.alerts.get(id);
    if (!detail || detail.alert.county !== p.county)
      throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no alert ${id}`);
    if (!canSeeInstitution(p, detail.alert.institution)) {
      throw new DashboardError(DashboardErrorCode.FORBIDDEN, `alert ${id} belongs to another institution`);
    }
    return detail;
  };

  app.get(
    '/api/alerts',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Alerts, newest first; a manager gets their institution only',
        querystring: z.object({
          institution: Id.optional(),
          status: z
            .string()
            .transform((s) => s.split(','))
            .pipe(z.array(AlertStatus))
            .optional()
            .describe('comma-separated statuses'),
          severity: z
            .string()
            .transform((s) => s.split(','))
            .pipe(z.array(AlertSeverity))
            .optional()
            .describe('comma-separated severities: critical, major, minor, info'),
          verdict: z
            .string()
            .transform((s) => s.split(','))
            .pipe(z.array(AlertVerdict))
            .optional()
            .describe('comma-separated verdicts: real_fire, false_alarm, test, device_fault'),
          kind: z
            .union([AlertDeviceKind, z.literal('gateway')])
            .optional()
            .describe('a device kind, or gateway for gateway alerts (offline)'),
          drill: z
            .enum(['true', 'false'])
            .transform((s) => s === 'true')
            .optional(),
          from: z.coerce.number().int().optional(),
          to: z.coerce.number().int().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(100),
          cursor: z.string().max(200).optional(),
        }),
        response: { 200: AlertPage, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'read');
      const q = req.query;
      if (q.institution !== undefined && !canSeeInstitution(p, q.institution)) {
        throw new DashboardError(DashboardErrorCode.FORBIDDEN, `not allowed for institution ${q.institution}`);
      }
      const institution = p.institution ?? q.institution;
      const page = await ctx.alerts.list({
        ...(institution !== undefined ? { institution } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.severity ? { severity: q.severity } : {}),
        ...(q.verdict ? { verdict: q.verdict } : {}),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.drill !== undefined ? { drill: q.drill } : {}),
        ...(q.from !== undefined ? { from: q.from } : {}),
        ...(q.to !== undefined ? { to: q.to } : {}),
        limit: q.limit,
        ...(q.cursor ? { cursor: q.cursor } : {}),
      });
      return { ...page, alerts: page.alerts.filter((a) => a.county === p.county) };
    },
  );

  app.get(
    '/api/alerts/:id',
    {
      schema: {
        tags: ['alerts'],
        summary: 'One alert with its timeline (transitions), notification deliveries and the names of who acted',
        params: z.object({ id: z.string().min(1).max(128) }),
        response: { 200: AlertRecord, ...errorResponses },
      },
    },
    async (req) => {
      const detail = await visibleAlert(need(req, 'read'), req.params.id);
      const actors: Record<string, string> = {};
      // A handful of people per alert; `system` and `drill:…` are the platform, not users.
      for (const name of new Set(detail.transitions.map((t) => t.actor))) {
        const user = await ctx.users.userByName(name);
        if (user) actors[name] = user.displayName;
      }
      return { ...detail, actors };
    },
  );

  const act = async (
    req: { params: { id: string }; ip: string; principal: Principal | null },
    action: 'acknowledge' | 'verify' | 'close',
    run: (p: Principal) => Promise<Alert>,
    detail: Record<string, unknown>,
  ) => {
    const p = need(req as Parameters<typeof need>[0], 'actOnAlerts');
    const { alert } = await visibleAlert(p, req.params.id);
    const next = await run(p);
    await ctx.audit.record(p, `alert.${action}`, {
      target: alert.id,
      institution: alert.institution,
      detail,
      ip: req.ip,
    });
    return next;
  };

  app.post(
    '/api/alerts/:id/acknowledge',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Acknowledge an open alert (stops escalation)',
        params: z.object({ id: z.string().min(1).max(128) }),
        body: z.object({ note: Note.optional() }).default({}),
        response: { 200: Alert, ...errorResponses },
      },
    },
    async (req) =>
      act(req, 'acknowledge', (p) => ctx.alerts.acknowledge(req.params.id, p.name, req.body.note), {
        note: req.body.note,
      }),
  );

  app.post(
    '/api/alerts/:id/verify',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Verify an alert: real fire, false alarm, test or device fault, with a note',
        params: z.object({ id: z.string().min(1).max(128) }),
        body: z.object({ verdict: AlertVerdict, note: Note.optional() }),
        response: { 200: Alert, ...errorResponses },
      },
    },
    async (req) =>
      act(req, 'verify', (p) => ctx.alerts.verify(req.params.id, p.name, req.body.verdict, req.body.note), {
        verdict: req.body.verdict,
        note: req.body.note,
      }),
  );

  app.post(
    '/api/alerts/:id/close',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Close an alert (a manual one, such as a fire alarm, must be verified first)',
        params: z.object({ id: z.string().min(1).max(128) }),
        body: z.object({ note: Note.optional() }).default({}),
        response: { 200: Alert, ...errorResponses },
      },
    },
    async (req) =>
      act(req, 'close', (p) => ctx.alerts.close(req.params.id, p.name, req.body.note), { note: req.body.note }),
  );
};
