import { CountyInput, Grade, GradeExplanation, Hazard, Inspection, type Supervision } from '@anlian/supervision';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { Alert, Drill } from '../../alerts/alerts-port.js';
import { DashboardError, DashboardErrorCode } from '../../errors.js';
import type { DashboardContext } from '../dashboard-context.js';
import { needInstitution } from '../request-principal.js';
import { errorResponses, Id } from './route-schemas.js';

const DAY_MS = 86_400_000;
const ContactOut = z.object({ id: z.string(), name: z.string(), role: z.string(), phone: z.string() });

const contactsOf = (ctx: DashboardContext, institution: string) =>
  ctx.db
    .selectFrom('contacts')
    .select(['id', 'name', 'role', 'phone'])
    .where('institution_id', '=', institution)
    .orderBy('id')
    .execute();

const DrillScore = z.object({
  drill: Drill,
  alerts: z.number(),
  acknowledged: z.number(),
  closed: z.number(),
  meanToAcknowledgeS: z.number().nullable(),
  meanToCloseS: z.number().nullable(),
  /** The institution raised nothing during its drill. */
  silent: z.boolean(),
});

export const InstitutionFile = z.object({
  institution: z.object({
    id: z.string(),
    name: z.string(),
    address: z.string(),
    beds: z.number(),
    lng: z.number(),
    lat: z.number(),
  }),
  grade: z.object({ grade: Grade, score: z.number(), at: z.number(), explanation: GradeExplanation }).nullable(),
  gradeHistory: z.array(z.object({ at: z.number(), grade: Grade, score: z.number() })),
  hazards: z.object({
    open: z.array(Hazard),
    /** Closed in the last 90 days. */
    recentlyClosed: z.array(Hazard),
    /** Figures of the last year. */
    year: z.object({
      found: z.number(),
      closed: z.number(),
      closedOnTime: z.number(),
      overdueNow: z.number(),
      meanDaysToClose: z.number().nullable(),
    }),
  }),
  /** The last 90 days' alerts (drills left out) and how they were verified. */
  alerts: z.object({ recent: z.array(Alert), verdicts: z.record(z.string(), z.number()) }),
  drills: z.array(DrillScore),
  inspections: z.array(Inspection),
  countyInputs: z.array(CountyInput),
  contacts: z.array(ContactOut),
  devices: z.object({
    total: z.number(),
    online: z.number(),
    byKind: z.record(z.string(), z.object({ total: z.number(), online: z.number() })),
    gateways: z.array(z.object({ id: z.string(), name: z.string().nullable(), state: z.string() })),
  }),
});

/**
 * One file per institution (一院一档, issue 16): its grade and why, hazards, alarms and verdicts,
 * drills and their scores, inspections, the county's records, contacts and devices — for county
 * staff, and for a manager their own institution's only.
 */
export const institutionFileRoutes: FastifyPluginAsyncZod<{ ctx: DashboardContext; supervision: Supervision }> = async (
  app,
  { ctx, supervision: sup },
) => {
  app.get(
    '/api/institutions/:id/contacts',
    {
      schema: {
        tags: ['supervision'],
        summary: 'The institution’s contacts (owners of its hazards), to those who may see it',
        params: z.object({ id: Id }),
        response: { 200: z.object({ contacts: z.array(ContactOut) }), ...errorResponses },
      },
    },
    async (req) => {
      needInstitution(req, 'read', req.params.id, (id) => ctx.model.countyOf(id));
      return { contacts: await contactsOf(ctx, req.params.id) };
    },
  );

  app.get(
    '/api/institutions/:id/file',
    {
      schema: {
        tags: ['supervision'],
        summary: 'One file per institution (一院一档)',
        params: z.object({ id: Id }),
        response: { 200: InstitutionFile, ...errorResponses },
      },
    },
    async (req) => {
      const p = needInstitution(req, 'read', req.params.id, (id) => ctx.model.countyOf(id));
      const id = req.params.id;
      const snap = ctx.model.institutionSnapshot(id);
      if (!snap) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no institution ${id}`);
      const now = ctx.clock();
      const [grade, history, open, closed, figures, alerts, drills, inspections, inputs, contacts] = await Promise.all([
        sup.grader.currentOf(id),
        sup.grader.history(id, now - 180 * DAY_MS, now + 1),
        sup.ledger.list({ county: p.county, institution: id, open: true, limit: 200 }),
        sup.ledger.list({ county: p.county, institution: id, status: ['closed'], from: now - 90 * DAY_MS, limit: 50 }),
        sup.figures.hazardFigures({ county: p.county, institution: id, from: now - 365 * DAY_MS, to: now + 1 }),
        ctx.alerts.list({ institution: id, from: now - 90 * DAY_MS, drill: false, limit: 200 }),
        ctx.alerts.listDrills(),
        sup.inspections.list({ county: p.county, institution: id, limit: 50 }),
        sup.countyInputs.list({ county: p.county, institution: id, from: now - 365 * DAY_MS }),
        contactsOf(ctx, id),
      ]);
      const verdicts: Record<string, number> = {};
      for (const a of alerts.alerts) {
        const v = a.verdict ?? (a.status === 'closed' ? 'closed' : 'unverified');
        verdicts[v] = (verdicts[v] ?? 0) + 1;
      }
      const mine = drills.filter((d) => d.institutions.includes(id)).sort((a, b) => b.startsAt - a.startsAt);
      const drillScores = await Promise.all(
        mine.slice(0, 20).map(async (drill) => {
          const { report } = await ctx.alerts.drillReport(drill.id);
          const own = report.alerts.filter((a) => a.institution === id);
          const mean = (xs: (number | undefined)[]) => {
            const v = xs.filter((x): x is number => x !== undefined);
            return v.length === 0 ? null : Math.round((v.reduce((s, x) => s + x, 0) / v.length) * 10) / 10;
          };
          return {
            drill,
            alerts: own.length,
            acknowledged: own.filter((a) => a.toAcknowledgeS !== undefined).length,
            closed: own.filter((a) => a.toCloseS !== undefined).length,
            meanToAcknowledgeS: mean(own.map((a) => a.toAcknowledgeS)),
            meanToCloseS: mean(own.map((a) => a.toCloseS)),
            silent: report.summary.silentInstitutions.includes(id),
          };
        }),
      );
      const byKind: Record<string, { total: number; online: number }> = {};
      for (const d of snap.devices) {
        const k = byKind[d.kind] ?? { total: 0, online: 0 };
        byKind[d.kind] = k;
        k.total++;
        if (d.online) k.online++;
      }
      const i = snap.institution;
      return {
        institution: { id: i.id, name: i.name, address: i.address, beds: i.beds, lng: i.lng, lat: i.lat },
        grade: grade ? { grade: grade.grade, score: grade.score, at: grade.at, explanation: grade.explanation } : null,
        gradeHistory: history.map((h) => ({ at: h.at, grade: h.grade, score: h.score })),
        hazards: {
          open: open.hazards,
          recentlyClosed: closed.hazards,
          year: {
            found: figures.found,
            closed: figures.closed,
            closedOnTime: figures.closedOnTime,
            overdueNow: open.hazards.filter((h) => h.overdue).length,
            meanDaysToClose: figures.meanDaysToClose,
          },
        },
        alerts: { recent: alerts.alerts, verdicts },
        drills: drillScores,
        inspections,
        countyInputs: inputs,
        contacts,
        devices: {
          total: snap.devices.length,
          online: snap.devices.filter((d) => d.online).length,
          byKind,
          gateways: snap.gateways.map((g) => ({ id: g.id, name: g.name, state: g.state })),
        },
      };
    },
  );
};
