import { Checklist, FindingHazard, Hazard, Inspection, InspectionKind, type Supervision } from '@anlian/supervision';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSeeInstitution, type Principal } from '../../auth/principal.js';
import { DashboardError, DashboardErrorCode } from '../../errors.js';
import type { DashboardContext } from '../dashboard-context.js';
import { need, needInstitution } from '../request-principal.js';
import { actorOf } from './hazard-routes.js';
import { errorResponses, Id } from './route-schemas.js';

const StoredChecklistOut = z.object({
  checklist: Checklist,
  version: z.number(),
  builtin: z.boolean(),
  updatedAt: z.number().nullable(),
  updatedBy: z.string().nullable(),
});
const InspectionId = z.string().min(1).max(128);
const Results = z.record(z.string().max(32), z.unknown());

/**
 * Inspections (检查) on a phone: the checklists (the county edits them), starting an inspection,
 * saving results as the inspector goes, and submitting — which opens a hazard per failed item.
 */
export const inspectionRoutes: FastifyPluginAsyncZod<{ ctx: DashboardContext; supervision: Supervision }> = async (
  app,
  { ctx, supervision: sup },
) => {
  const countyOf = (id: string) => ctx.model.countyOf(id);
  const visibleInspection = async (p: Principal, id: string): Promise<Inspection> => {
    const i = await sup.inspections.get(id);
    if (!i || i.county !== p.county) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no inspection ${id}`);
    if (!canSeeInstitution(p, i.institution)) {
      throw new DashboardError(DashboardErrorCode.FORBIDDEN, `inspection ${id} belongs to another institution`);
    }
    return i;
  };

  app.get(
    '/api/checklists',
    {
      schema: {
        tags: ['supervision'],
        summary:
          'Inspection checklists: MCA 2023’s 22 major-hazard situations, GB 38600’s nine areas, the county’s own',
        response: { 200: z.object({ checklists: z.array(StoredChecklistOut) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'read');
      return { checklists: await sup.checklists.list(p.county) };
    },
  );

  app.put(
    '/api/checklists/:id',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Edit a checklist (county admins); inspections keep the version they were filled against',
        params: z.object({ id: z.string().min(1).max(64) }),
        body: Checklist,
        response: { 200: StoredChecklistOut, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      if (req.body.id !== req.params.id) {
        throw new DashboardError(DashboardErrorCode.BAD_REQUEST, 'the checklist’s id must match the address');
      }
      const saved = await sup.checklists.save(p.county, req.body, p.name);
      await ctx.audit.record(p, 'checklist.save', {
        target: req.params.id,
        detail: { version: saved.version, items: saved.checklist.items.length },
        ip: req.ip,
      });
      return saved;
    },
  );

  app.get(
    '/api/inspections',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Inspections, newest first; a manager gets their institution’s',
        querystring: z.object({
          institution: Id.optional(),
          limit: z.coerce.number().int().min(1).max(500).default(100),
        }),
        response: { 200: z.object({ inspections: z.array(Inspection) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'read');
      if (req.query.institution !== undefined && !canSeeInstitution(p, req.query.institution)) {
        throw new DashboardError(DashboardErrorCode.FORBIDDEN, `not allowed for institution ${req.query.institution}`);
      }
      const institution = p.institution ?? req.query.institution;
      return {
        inspections: await sup.inspections.list({
          county: p.county,
          ...(institution !== undefined ? { institution } : {}),
          limit: req.query.limit,
        }),
      };
    },
  );

  app.post(
    '/api/inspections',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Start an inspection of an institution against a checklist',
        body: z.object({
          institution: Id,
          checklistId: z.string().min(1).max(64),
          kind: InspectionKind,
          drawId: z.string().max(128).optional(),
        }),
        response: { 200: Inspection, ...errorResponses },
      },
    },
    async (req) => {
      const p = needInstitution(req, 'supervise', req.body.institution, countyOf);
      const i = await sup.inspections.start(
        {
          institution: req.body.institution,
          checklistId: req.body.checklistId,
          kind: req.body.kind,
          ...(req.body.drawId ? { drawId: req.body.drawId } : {}),
        },
        actorOf(p, req),
      );
      await ctx.audit.record(p, 'inspection.start', {
        target: i.id,
        institution: i.institution,
        detail: { checklist: i.checklistId, kind: i.kind },
        ip: req.ip,
      });
      return i;
    },
  );

  app.get(
    '/api/inspections/:id',
    {
      schema: {
        tags: ['supervision'],
        summary: 'One inspection with its results',
        params: z.object({ id: InspectionId }),
        response: { 200: Inspection, ...errorResponses },
      },
    },
    async (req) => visibleInspection(need(req, 'read'), req.params.id),
  );

  app.put(
    '/api/inspections/:id',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Save results while the inspection is a draft',
        params: z.object({ id: InspectionId }),
        body: z.object({ results: Results.optional(), summary: z.string().trim().max(2000).optional() }),
        response: { 200: Inspection, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'supervise');
      await visibleInspection(p, req.params.id);
      return sup.inspections.save(
        req.params.id,
        {
          ...(req.body.results !== undefined ? { results: req.body.results } : {}),
          ...(req.body.summary !== undefined ? { summary: req.body.summary } : {}),
        },
        actorOf(p, req),
      );
    },
  );

  app.post(
    '/api/inspections/:id/submit',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Submit an inspection: each failed item opens a hazard (its severity, owner and deadline may be set)',
        params: z.object({ id: InspectionId }),
        body: z.object({
          results: Results.optional(),
          summary: z.string().trim().max(2000).optional(),
          hazards: z.array(FindingHazard).max(500).optional(),
        }),
        response: { 200: z.object({ inspection: Inspection, hazards: z.array(Hazard) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'supervise');
      const before = await visibleInspection(p, req.params.id);
      const out = await sup.inspections.submit(
        req.params.id,
        {
          ...(req.body.results !== undefined ? { results: req.body.results } : {}),
          ...(req.body.summary !== undefined ? { summary: req.body.summary } : {}),
          ...(req.body.hazards !== undefined ? { hazards: req.body.hazards } : {}),
        },
        actorOf(p, req),
      );
      await ctx.audit.record(p, 'inspection.submit', {
        target: before.id,
        institution: before.institution,
        detail: { findings: out.inspection.findings, hazards: out.hazards.map((h) => h.id) },
        ip: req.ip,
      });
      sup.inputsChanged([before.institution]);
      return out;
    },
  );
};
