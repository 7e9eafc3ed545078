import {
  type Actor,
  chinaDateTime,
  type Hazard,
  HazardDetail,
  type HazardFilter,
  Hazard as HazardSchema,
  HazardSeverity,
  HazardSource,
  HazardStatus,
  MAX_PHOTO_BYTES,
  Rectification,
  type Supervision,
} from '@anlian/supervision';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { canSeeInstitution, type Principal } from '../../auth/principal.js';
import { DashboardError, DashboardErrorCode } from '../../errors.js';
import { type HazardListName, hazardWorkbook } from '../../supervision/hazard-workbook.js';
import type { DashboardContext } from '../dashboard-context.js';
import { need, needInstitution } from '../request-principal.js';
import { errorResponses, Id } from './route-schemas.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const Note = z.string().trim().min(1).max(1000);
const HazardId = z.string().min(1).max(128);
const PhotoId = z.string().regex(/^ph_[a-z0-9]+$/);
const statusList = z
  .string()
  .transform((s) => s.split(',').filter(Boolean))
  .pipe(z.array(HazardStatus));
const flag = z
  .enum(['true', 'false'])
  .transform((s) => s === 'true')
  .optional();

/** The list filters, shared by the list, the export and the rectification list. */
const ListQuery = z.object({
  institution: Id.optional(),
  status: statusList.optional().describe('comma-separated statuses'),
  open: flag.describe('only hazards not closed'),
  severity: HazardSeverity.optional(),
  source: HazardSource.optional(),
  category: z.string().max(64).optional(),
  overdue: flag,
  q: z.string().max(100).optional(),
  from: z.coerce.number().int().optional(),
  to: z.coerce.number().int().optional(),
});
type ListQuery = z.infer<typeof ListQuery>;

export const HazardPageOut = z.object({
  hazards: z.array(HazardSchema),
  total: z.number(),
  nextCursor: z.string().nullable(),
});

const RectificationRowOut = Rectification.extend({
  institution: z.string(),
  hazardTitle: z.string(),
  severity: HazardSeverity,
  status: HazardStatus,
});

export function actorOf(p: Principal, req: FastifyRequest): Actor {
  return { name: p.name, role: p.role, ip: req.ip };
}

/**
 * The hazard ledger's API (issue 16): the three lists (hazards, rectification measures,
 * responsibilities) with filters and an Excel export, one hazard with its timeline, and its
 * closed loop. County staff see the county and run the loop; a manager sees and acts on their own
 * institution's hazards only. Every step is written to the audit log by the ledger itself.
 */
export const hazardRoutes: FastifyPluginAsyncZod<{ ctx: DashboardContext; supervision: Supervision }> = async (
  app,
  { ctx, supervision: sup },
) => {
  app.addContentTypeParser(PHOTO_TYPES, { parseAs: 'buffer', bodyLimit: MAX_PHOTO_BYTES }, (_req, body, done) =>
    done(null, body),
  );
  const countyOf = (id: string) => ctx.model.countyOf(id);

  /** The filter a principal may use: a manager's is pinned to their institution. */
  const filterFor = (p: Principal, q: ListQuery): HazardFilter => {
    if (q.institution !== undefined && !canSeeInstitution(p, q.institution)) {
      throw new DashboardError(DashboardErrorCode.FORBIDDEN, `not allowed for institution ${q.institution}`);
    }
    const institution = p.institution ?? q.institution;
    return {
      county: p.county,
      ...(institution !== undefined ? { institution } : {}),
      ...(q.status ? { status: q.status } : {}),
      ...(q.open !== undefined ? { open: q.open } : {}),
      ...(q.severity ? { severity: q.severity } : {}),
      ...(q.source ? { source: q.source } : {}),
      ...(q.category ? { category: q.category } : {}),
      ...(q.overdue !== undefined ? { overdue: q.overdue } : {}),
      ...(q.q ? { q: q.q } : {}),
      ...(q.from !== undefined ? { from: q.from } : {}),
      ...(q.to !== undefined ? { to: q.to } : {}),
    };
  };

  /** The hazard, when the principal may see it: 404 for another county's, 403 for another institution's. */
  const visibleHazard = async (p: Principal, id: string): Promise<Hazard> => {
    const h = await sup.ledger.get(id);
    if (!h || h.county !== p.county) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no hazard ${id}`);
    if (!canSeeInstitution(p, h.institution)) {
      throw new DashboardError(DashboardErrorCode.FORBIDDEN, `hazard ${id} belongs to another institution`);
    }
    return h;
  };

  app.get(
    '/api/hazards',
    {
      schema: {
        tags: ['supervision'],
        summary: 'The hazard list (隐患清单), newest first, filtered, a page at a time; a manager gets their own',
        querystring: ListQuery.extend({
          limit: z.coerce.number().int().min(1).max(200).default(50),
          cursor: z.string().max(200).optional(),
        }),
        response: { 200: HazardPageOut, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'read');
      return sup.ledger.list({
        ...filterFor(p, req.query),
        limit: req.query.limit,
        ...(req.query.cursor ? { cursor: req.query.cursor } : {}),
      });
    },
  );

  app.get(
    '/api/rectifications',
    {
      schema: {
        tags: ['supervision'],
        summary: 'The rectification list (整改清单): every submission and its review, newest first',
        querystring: ListQuery.extend({ limit: z.coerce.number().int().min(1).max(1000).default(200) }),
        response: { 200: z.object({ rectifications: z.array(RectificationRowOut) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'read');
      return {
        rectifications: await sup.ledger.rectifications({ ...filterFor(p, req.query), limit: req.query.limit }),
      };
    },
  );

  app.get(
    '/api/hazards/export',
    {
      schema: {
        tags: ['supervision'],
        summary: 'The three lists — hazards, rectification measures, responsibilities — as an Excel workbook',
        querystring: ListQuery.extend({
          list: z.enum(['all', 'hazards', 'measures', 'responsibilities']).default('all'),
        }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'read');
      const filter = filterFor(p, req.query);
      const hazards: Hazard[] = [];
      let cursor: string | undefined;
      do {
        const page = await sup.ledger.list({ ...filter, limit: 500, ...(cursor ? { cursor } : {}) });
        hazards.push(...page.hazards);
        cursor = page.nextCursor ?? undefined;
      } while (cursor && hazards.length < 20_000);
      const rectifications = await sup.ledger.rectifications({ ...filter, limit: 5000 });
      const contacts = await ctx.db
        .selectFrom('contacts')
        .select(['institution_id', 'id', 'phone'])
        .$if(filter.institution !== undefined, (q) => q.where('institution_id', '=', filter.institution ?? ''))
        .execute();
      const phones = new Map(contacts.map((c) => [`${c.institution_id}/${c.id}`, c.phone]));
      const snap = ctx.registryView.snapshot;
      const now = ctx.clock();
      const buf = await hazardWorkbook(req.query.list as HazardListName, {
        hazards,
        rectifications,
        institutionName: (id) => snap.institutions.get(id)?.name ?? id,
        contactPhone: (institution, id) => phones.get(`${institution}/${id}`),
        filterNote: describeFilter(filter, (id) => snap.institutions.get(id)?.name ?? id),
        generatedAt: now,
      });
      await ctx.audit.record(p, 'hazards.export', {
        institution: filter.institution ?? null,
        detail: { list: req.query.list, hazards: hazards.length },
        ip: req.ip,
      });
      const day = chinaDateTime(now).slice(0, 10);
      const name = `hazards-${filter.institution ?? p.county}-${day}.xlsx`;
      return reply
        .type(XLSX)
        .header(
          'content-disposition',
          `attachment; filename="${name}"; filename*=UTF-8''${encodeURIComponent(`隐患台账-${day}.xlsx`)}`,
        )
        .send(buf);
    },
  );

  app.get(
    '/api/hazards/:id',
    {
      schema: {
        tags: ['supervision'],
        summary: 'One hazard with its timeline (every step, who, when, note) and its rectifications',
        params: z.object({ id: HazardId }),
        response: { 200: HazardDetail, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'read');
      await visibleHazard(p, req.params.id);
      const d = await sup.ledger.detail(req.params.id);
      if (!d) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no hazard ${req.params.id}`);
      return d;
    },
  );

  app.post(
    '/api/hazards',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Enter a hazard (county staff); with an owner and a deadline it is assigned at once',
        body: z.object({
          institution: Id,
          category: z.string().min(1).max(64),
          severity: HazardSeverity,
          title: z.string().trim().min(1).max(200),
          description: z.string().trim().min(1).max(2000),
          location: z.string().trim().max(200).optional(),
          ownerContactId: z.string().min(1).max(64).optional(),
          deadlineAt: z.number().int().optional(),
          note: Note.optional(),
        }),
        response: { 200: HazardSchema, ...errorResponses },
      },
    },
    async (req) => {
      const p = needInstitution(req, 'supervise', req.body.institution, countyOf);
      const b = req.body;
      const { hazard } = await sup.ledger.open(
        {
          institution: b.institution,
          category: b.category,
          severity: b.severity,
          source: 'manual',
          title: b.title,
          description: b.description,
          location: b.location ?? null,
          ...(b.ownerContactId !== undefined && b.deadlineAt !== undefined
            ? { ownerContactId: b.ownerContactId, deadlineAt: b.deadlineAt }
            : {}),
          supervisor: p.name,
          note: b.note ?? null,
        },
        actorOf(p, req),
      );
      return hazard;
    },
  );

  app.post(
    '/api/hazards/:id/assign',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Give a hazard its owner (a contact of the institution) and deadline, or change them',
        params: z.object({ id: HazardId }),
        body: z.object({
          ownerContactId: z.string().min(1).max(64),
          deadlineAt: z.number().int(),
          supervisor: z.string().trim().min(1).max(64).optional(),
          note: Note.optional(),
        }),
        response: { 200: HazardSchema, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'supervise');
      await visibleHazard(p, req.params.id);
      return sup.ledger.assign(
        req.params.id,
        {
          ownerContactId: req.body.ownerContactId,
          deadlineAt: req.body.deadlineAt,
          ...(req.body.supervisor !== undefined ? { supervisor: req.body.supervisor } : {}),
          note: req.body.note ?? null,
        },
        actorOf(p, req),
      );
    },
  );

  app.post(
    '/api/hazards/:id/start',
    {
      schema: {
        tags: ['supervision'],
        summary: 'The institution starts the rectification',
        params: z.object({ id: HazardId }),
        body: z.object({ note: Note.optional() }).default({}),
        response: { 200: HazardSchema, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'rectify');
      await visibleHazard(p, req.params.id);
      return sup.ledger.start(req.params.id, req.body.note ?? null, actorOf(p, req));
    },
  );

  app.post(
    '/api/hazards/:id/submit',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Submit the rectification: what was done, with photos (uploaded first to /api/photos)',
        params: z.object({ id: HazardId }),
        body: z.object({
          measures: z.string().trim().min(1).max(2000),
          photos: z.array(PhotoId).max(9).default([]),
          note: Note.optional(),
        }),
        response: { 200: HazardSchema, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'rectify');
      const h = await visibleHazard(p, req.params.id);
      for (const id of req.body.photos) {
        const photo = await sup.photos.get(id);
        if (!photo || photo.institution !== h.institution) {
          throw new DashboardError(DashboardErrorCode.BAD_REQUEST, `photo ${id} is not one of this institution's`);
        }
      }
      return sup.ledger.submit(
        req.params.id,
        { measures: req.body.measures, photos: req.body.photos, note: req.body.note ?? null },
        actorOf(p, req),
      );
    },
  );

  app.post(
    '/api/hazards/:id/review',
    {
      schema: {
        tags: ['supervision'],
        summary: 'The county’s review (复查): accepted (closes it once its cause is gone) or sent back with a reason',
        params: z.object({ id: HazardId }),
        body: z.object({ result: z.enum(['accepted', 'rejected']), note: Note.optional() }),
        response: { 200: HazardSchema, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'supervise');
      await visibleHazard(p, req.params.id);
      return sup.ledger.review(
        req.params.id,
        { result: req.body.result, note: req.body.note ?? null },
        actorOf(p, req),
      );
    },
  );

  app.post(
    '/api/hazards/:id/withdraw',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Withdraw a hazard entered by mistake (closed, with the reason)',
        params: z.object({ id: HazardId }),
        body: z.object({ reason: Note }),
        response: { 200: HazardSchema, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'supervise');
      await visibleHazard(p, req.params.id);
      return sup.ledger.withdraw(req.params.id, req.body.reason, actorOf(p, req));
    },
  );

  app.post(
    '/api/photos',
    {
      schema: {
        tags: ['supervision'],
        summary: 'Upload a photo (JPEG, PNG or WebP, as the request body) for a rectification or an inspection',
        consumes: PHOTO_TYPES,
        querystring: z.object({ institution: Id }),
        response: { 200: z.object({ id: z.string(), size: z.number() }), ...errorResponses },
      },
    },
    async (req) => {
      const p = needInstitution(req, 'rectify', req.query.institution, countyOf);
      if (!Buffer.isBuffer(req.body)) {
        throw new DashboardError(DashboardErrorCode.BAD_REQUEST, `send the photo as ${PHOTO_TYPES.join(', ')}`);
      }
      const id = await sup.photos.put({
        county: p.county,
        institution: req.query.institution,
        contentType: req.headers['content-type'] ?? '',
        bytes: req.body,
        by: p.name,
      });
      return { id, size: req.body.length };
    },
  );

  app.get(
    '/api/photos/:id',
    {
      schema: {
        tags: ['supervision'],
        summary: 'A photo, to those who may see its institution',
        params: z.object({ id: PhotoId }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'read');
      const photo = await sup.photos.get(req.params.id);
      if (!photo || photo.county !== p.county)
        throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no photo ${req.params.id}`);
      if (!canSeeInstitution(p, photo.institution)) {
        throw new DashboardError(DashboardErrorCode.FORBIDDEN, 'the photo belongs to another institution');
      }
      return reply
        .type(photo.contentType)
        .header('cache-control', 'private, max-age=86400')
        .header('x-content-type-options', 'nosniff')
        .send(photo.bytes);
    },
  );
};

/** `机构：…；状态：…` — what the export was filtered by, in words. */
function describeFilter(f: HazardFilter, name: (id: string) => string): string {
  const parts: string[] = [];
  parts.push(f.institution ? `机构：${name(f.institution)}` : '全县');
  if (f.open) parts.push('未销号');
  if (f.overdue) parts.push('已逾期');
  if (f.severity) parts.push(f.severity === 'major' ? '重大隐患' : '一般隐患');
  if (f.status?.length) parts.push(`状态：${f.status.join('、')}`);
  if (f.q) parts.push(`关键字：${f.q}`);
  if (f.from !== undefined) parts.push(`自 ${chinaDateTime(f.from)}`);
  if (f.to !== undefined) parts.push(`至 ${chinaDateTime(f.to)}`);
  return parts.join('；');
}
