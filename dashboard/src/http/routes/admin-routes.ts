import { ContactConfig, Coordinates, DeviceKind, PressureMedium } from '@anlian/protocol';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { endsSessions } from '../../auth/user-store.js';
import { DashboardError, DashboardErrorCode } from '../../errors.js';
import type { RegistryEditor } from '../../registry/registry-editor.js';
import { readRegistryFile, registryToCsv, registryToXlsx, rowsToCounty } from '../../registry/registry-sheet.js';
import type { DashboardContext } from '../dashboard-context.js';
import { need, needInstitution } from '../request-principal.js';
import { errorResponses, Id, LooseObject, Role } from './route-schemas.js';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const UserOut = z.object({
  id: z.string(),
  username: z.string(),
  displayName: z.string(),
  role: Role,
  county: z.string(),
  institution: z.string().nullable(),
  disabled: z.boolean(),
  createdAt: z.number(),
  updatedAt: z.number(),
});
const KioskOut = z.object({
  id: z.string(),
  name: z.string(),
  county: z.string(),
  createdBy: z.string(),
  createdAt: z.number(),
  expiresAt: z.number().nullable(),
  revokedAt: z.number().nullable(),
});
const Password = z.string().min(10, 'at least 10 characters').max(256);

/** County administration: registry, gateways' credentials, users, kiosk tokens, audit log, spreadsheets. */
export const adminRoutes: FastifyPluginAsyncZod<{ ctx: DashboardContext; editor: RegistryEditor }> = async (
  app,
  { ctx, editor },
) => {
  app.addContentTypeParser(
    [XLSX, 'text/csv', 'application/octet-stream'],
    { parseAs: 'buffer', bodyLimit: 20 * 1024 * 1024 },
    (_req, body, done) => done(null, body),
  );
  const countyOf = (id: string) => ctx.model.countyOf(id);
  const changed = async () => {
    await ctx.registryView.reload();
  };

  app.get(
    '/api/admin/users',
    {
      schema: {
        tags: ['admin'],
        summary: 'Users',
        response: { 200: z.object({ users: z.array(UserOut) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      return { users: (await ctx.users.listUsers()).filter((u) => u.county === p.county) };
    },
  );

  app.post(
    '/api/admin/users',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create a user',
        body: z.object({
          username: z.string().regex(/^[A-Za-z0-9._-]{2,64}$/),
          displayName: z.string().trim().min(1).max(64),
          password: Password,
          role: Role,
          institution: Id.nullable().optional(),
        }),
        response: { 200: UserOut, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      if (req.body.institution) needInstitution(req, 'admin', req.body.institution, countyOf);
      const u = await ctx.users.createUser({ ...req.body, county: p.county });
      await ctx.audit.record(p, 'user.create', {
        target: u.username,
        institution: u.institution,
        detail: { role: u.role },
        ip: req.ip,
      });
      return u;
    },
  );

  app.patch(
    '/api/admin/users/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Change a user: name, password, role, institution, disabled (ends their sessions)',
        params: z.object({ id: z.string().uuid() }),
        body: z.object({
          displayName: z.string().trim().min(1).max(64).optional(),
          password: Password.optional(),
          role: Role.optional(),
          institution: Id.nullable().optional(),
          disabled: z.boolean().optional(),
        }),
        response: { 200: UserOut, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      const target = (await ctx.users.listUsers()).find((u) => u.id === req.params.id && u.county === p.county);
      if (!target) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no user ${req.params.id}`);
      if (req.body.institution) needInstitution(req, 'admin', req.body.institution, countyOf);
      const u = await ctx.users.updateUser(req.params.id, req.body);
      // What ends the user's sessions ends their live feed too.
      if (endsSessions(req.body)) ctx.liveSessions.endPrincipal(u.id);
      const { password: _secret, ...detail } = req.body;
      await ctx.audit.record(p, 'user.update', {
        target: u.username,
        institution: u.institution,
        detail: { ...detail, passwordChanged: req.body.password !== undefined },
        ip: req.ip,
      });
      return u;
    },
  );

  app.get(
    '/api/admin/kiosk-tokens',
    {
      schema: {
        tags: ['admin'],
        summary: 'Kiosk tokens of wall screens',
        response: { 200: z.object({ tokens: z.array(KioskOut) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      return { tokens: (await ctx.users.listKioskTokens()).filter((k) => k.county === p.county) };
    },
  );

  app.post(
    '/api/admin/kiosk-tokens',
    {
      schema: {
        tags: ['admin'],
        summary: 'Issue a kiosk token for a wall screen; the token is shown once',
        body: z.object({ name: z.string().trim().min(1).max(64), expiresAt: z.number().int().nullable().optional() }),
        response: { 200: z.object({ token: z.string(), record: KioskOut }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      const out = await ctx.users.createKioskToken({
        name: req.body.name,
        county: p.county,
        createdBy: p.name,
        expiresAt: req.body.expiresAt ?? null,
      });
      await ctx.audit.record(p, 'kiosk.create', { target: out.record.id, detail: { name: req.body.name }, ip: req.ip });
      return out;
    },
  );

  app.post(
    '/api/admin/kiosk-tokens/:id/revoke',
    {
      schema: {
        tags: ['admin'],
        summary: 'Revoke a kiosk token (signs its screens out)',
        params: z.object({ id: z.string().uuid() }),
        response: { 200: KioskOut, ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      const k = (await ctx.users.listKioskTokens()).find((x) => x.id === req.params.id && x.county === p.county);
      if (!k) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no kiosk token ${req.params.id}`);
      const out = await ctx.users.revokeKioskToken(req.params.id);
      ctx.liveSessions.endPrincipal(`kiosk:${out.id}`);
      await ctx.audit.record(p, 'kiosk.revoke', { target: k.id, ip: req.ip });
      return out;
    },
  );

  app.get(
    '/api/admin/audit',
    {
      schema: {
        tags: ['admin'],
        summary: 'The audit log, newest first',
        querystring: z.object({
          institution: Id.optional(),
          actor: z.string().max(128).optional(),
          before: z.coerce.number().int().optional(),
          limit: z.coerce.number().int().min(1).max(1000).default(200),
        }),
        response: { 200: z.object({ entries: z.array(LooseObject) }), ...errorResponses },
      },
    },
    async (req) => {
      need(req, 'admin');
      const q = req.query;
      const entries = await ctx.audit.list({
        ...(q.institution ? { institution: q.institution } : {}),
        ...(q.actor ? { actor: q.actor } : {}),
        ...(q.before !== undefined ? { before: q.before } : {}),
        limit: q.limit,
      });
      return { entries: entries as unknown as Record<string, unknown>[] };
    },
  );

  app.put(
    '/api/admin/institutions/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create or update an institution',
        params: z.object({ id: Id }),
        body: z.object({
          name: z.string().trim().min(1).max(128),
          address: z.string().trim().min(1).max(256),
          location: Coordinates,
          beds: z.number().int().min(0).max(100_000),
        }),
        response: { 200: z.object({ result: z.enum(['created', 'updated']) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      const { location, ...rest } = req.body;
      const result = await editor.putInstitution(p.county, req.params.id, {
        ...rest,
        lng: location.lng,
        lat: location.lat,
      });
      await ctx.audit.record(p, `institution.${result === 'created' ? 'create' : 'update'}`, {
        target: req.params.id,
        institution: req.params.id,
        detail: req.body,
        ip: req.ip,
      });
      await changed();
      return { result };
    },
  );

  app.get(
    '/api/admin/gateways',
    {
      schema: {
        tags: ['admin'],
        summary: 'Gateways with their credential state (never the secrets)',
        querystring: z.object({ institution: Id.optional() }),
        response: { 200: z.object({ gateways: z.array(LooseObject) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      const all = await editor.registry.listGateways();
      return {
        gateways: all.filter(
          (g) =>
            g.county === p.county && (req.query.institution === undefined || g.institution === req.query.institution),
        ) as unknown as Record<string, unknown>[],
      };
    },
  );

  app.put(
    '/api/admin/gateways/:id',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create or update a gateway (credentials are issued with rotate)',
        params: z.object({ id: Id }),
        body: z.object({ institution: Id, name: z.string().trim().min(1).max(128).nullable() }),
        response: { 200: z.object({ result: z.enum(['created', 'updated']) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = needInstitution(req, 'admin', req.body.institution, countyOf);
      await checkGatewayCounty(req.params.id, p.county, true);
      const result = await editor.putGateway(req.params.id, req.body);
      await ctx.audit.record(p, `gateway.${result === 'created' ? 'create' : 'update'}`, {
        target: req.params.id,
        institution: req.body.institution,
        detail: req.body,
        ip: req.ip,
      });
      await changed();
      return { result };
    },
  );

  /** 404 for a gateway of another county (or none, unless creating). */
  const checkGatewayCounty = async (id: string, county: string, mayBeNew = false) => {
    const g = await editor.registry.getGateway(id);
    if (!g && mayBeNew) return undefined;
    if (!g || g.county !== county) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no gateway ${id}`);
    return g;
  };

  app.post(
    '/api/admin/gateways/:id/rotate',
    {
      schema: {
        tags: ['admin'],
        summary: 'Issue or rotate a gateway secret; returned once, stored only as hashes',
        params: z.object({ id: Id }),
        response: { 200: z.object({ gateway: z.string(), secret: z.string() }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      const g = await checkGatewayCounty(req.params.id, p.county);
      const secret = await editor.rotateSecret(req.params.id);
      await ctx.audit.record(p, 'gateway.rotate', {
        target: req.params.id,
        institution: g?.institution ?? null,
        ip: req.ip,
      });
      return { gateway: req.params.id, secret };
    },
  );

  app.post(
    '/api/admin/gateways/:id/enabled',
    {
      schema: {
        tags: ['admin'],
        summary: 'Enable or disable a gateway (a disabled gateway cannot connect)',
        params: z.object({ id: Id }),
        body: z.object({ enabled: z.boolean() }),
        response: { 200: z.object({ gateway: z.string(), enabled: z.boolean() }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      const g = await checkGatewayCounty(req.params.id, p.county);
      await editor.setGatewayEnabled(req.params.id, req.body.enabled);
      await ctx.audit.record(p, req.body.enabled ? 'gateway.enable' : 'gateway.disable', {
        target: req.params.id,
        institution: g?.institution ?? null,
        ip: req.ip,
      });
      await changed();
      return { gateway: req.params.id, enabled: req.body.enabled };
    },
  );

  app.get(
    '/api/admin/devices',
    {
      schema: {
        tags: ['admin'],
        summary: 'Registered devices of an institution',
        querystring: z.object({ institution: Id }),
        response: { 200: z.object({ devices: z.array(LooseObject) }), ...errorResponses },
      },
    },
    async (req) => {
      needInstitution(req, 'admin', req.query.institution, countyOf);
      const snap = ctx.registryView.snapshot;
      const keys = snap.devicesByInstitution.get(req.query.institution) ?? [];
      return {
        devices: keys.flatMap((k) => {
          const d = snap.devices.get(k);
          return d ? [d as unknown as Record<string, unknown>] : [];
        }),
      };
    },
  );

  const DeviceBody = z.object({
    kind: DeviceKind,
    name: z.string().trim().min(1).max(128),
    medium: PressureMedium.optional(),
    location: z.object({
      building: z.string().min(1).max(64),
      floor: z.string().min(1).max(16),
      room: z.string().min(1).max(64),
    }),
    reportIntervalS: z.number().int().min(1).max(86_400).nullable().optional(),
  });

  app.put(
    '/api/admin/devices/:gateway/:device',
    {
      schema: {
        tags: ['admin'],
        summary: 'Create or update a device under a gateway',
        params: z.object({ gateway: Id, device: Id }),
        body: DeviceBody,
        response: { 200: z.object({ result: z.enum(['created', 'updated']) }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      const g = await checkGatewayCounty(req.params.gateway, p.county);
      const institution = g?.institution ?? '';
      const b = req.body;
      const result = await editor.putDevice(req.params.gateway, req.params.device, {
        institution,
        kind: b.kind,
        name: b.name,
        medium: b.medium,
        building: b.location.building,
        floor: b.location.floor,
        room: b.location.room,
        reportIntervalS: b.reportIntervalS,
      });
      await ctx.audit.record(p, `device.${result === 'created' ? 'create' : 'update'}`, {
        target: `${req.params.gateway}/${req.params.device}`,
        institution,
        detail: b,
        ip: req.ip,
      });
      await changed();
      return { result };
    },
  );

  app.delete(
    '/api/admin/devices/:gateway/:device',
    {
      schema: {
        tags: ['admin'],
        summary: 'Remove a device from the registry',
        params: z.object({ gateway: Id, device: Id }),
        response: { 200: z.object({ deleted: z.boolean() }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      const g = await checkGatewayCounty(req.params.gateway, p.county);
      const deleted = await editor.deleteDevice(req.params.gateway, req.params.device);
      if (!deleted)
        throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no device ${req.params.gateway}/${req.params.device}`);
      await ctx.audit.record(p, 'device.delete', {
        target: `${req.params.gateway}/${req.params.device}`,
        institution: g?.institution ?? null,
        ip: req.ip,
      });
      await changed();
      return { deleted };
    },
  );

  app.get(
    '/api/admin/institutions/:id/contacts',
    {
      schema: {
        tags: ['admin'],
        summary: 'Contacts for escalation',
        params: z.object({ id: Id }),
        response: { 200: z.object({ contacts: z.array(ContactConfig) }), ...errorResponses },
      },
    },
    async (req) => {
      needInstitution(req, 'admin', req.params.id, countyOf);
      const rows = await ctx.db
        .selectFrom('contacts')
        .selectAll()
        .where('institution_id', '=', req.params.id)
        .orderBy('id')
        .execute();
      return {
        contacts: rows.map((r) => ({
          id: r.id,
          name: r.name,
          role: r.role as z.infer<typeof ContactConfig>['role'],
          phone: r.phone,
          ...(r.wecom_user_id ? { wecomUserId: r.wecom_user_id } : {}),
          ...(r.dingtalk_user_id ? { dingtalkUserId: r.dingtalk_user_id } : {}),
        })),
      };
    },
  );

  app.put(
    '/api/admin/institutions/:id/contacts',
    {
      schema: {
        tags: ['admin'],
        summary: 'Replace the contacts of an institution',
        params: z.object({ id: Id }),
        body: z.object({
          contacts: z
            .array(ContactConfig)
            .max(100)
            // Ids are the store's key per institution: a duplicate would fail the insert (as the county file refuses it).
            .superRefine((contacts, zctx) => {
              const seen = new Set<string>();
              contacts.forEach((c, i) => {
                if (seen.has(c.id))
                  zctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate contact id "${c.id}"` });
                seen.add(c.id);
              });
            }),
        }),
        response: { 200: z.object({ contacts: z.number() }), ...errorResponses },
      },
    },
    async (req) => {
      const p = needInstitution(req, 'admin', req.params.id, countyOf);
      await editor.replaceContacts(req.params.id, req.body.contacts);
      await ctx.audit.record(p, 'contacts.replace', {
        target: req.params.id,
        institution: req.params.id,
        detail: { count: req.body.contacts.length },
        ip: req.ip,
      });
      return { contacts: req.body.contacts.length };
    },
  );

  app.get(
    '/api/admin/registry/export',
    {
      schema: {
        tags: ['admin'],
        summary: 'The registry as an Excel workbook (devices and contacts) or a CSV of devices; no credentials',
        querystring: z.object({ format: z.enum(['xlsx', 'csv']).default('xlsx') }),
      },
    },
    async (req, reply) => {
      const p = need(req, 'admin');
      const county = await editor.exportCounty(p.county);
      await ctx.audit.record(p, 'registry.export', { detail: { format: req.query.format }, ip: req.ip });
      const name = `registry-${p.county}.${req.query.format}`;
      reply.header('content-disposition', `attachment; filename="${name}"`);
      if (req.query.format === 'csv') return reply.type('text/csv; charset=utf-8').send(registryToCsv(county));
      return reply.type(XLSX).send(await registryToXlsx(county));
    },
  );

  app.post(
    '/api/admin/registry/import',
    {
      schema: {
        tags: ['admin'],
        summary: 'Import an Excel workbook or CSV in the export format; an idempotent upsert that deletes nothing',
        consumes: [XLSX, 'text/csv'],
        response: { 200: z.object({ summary: LooseObject }), ...errorResponses },
      },
    },
    async (req) => {
      const p = need(req, 'admin');
      if (!Buffer.isBuffer(req.body))
        throw new DashboardError(DashboardErrorCode.IMPORT_INVALID, `send the file as ${XLSX} or text/csv`);
      const format = (req.headers['content-type'] ?? '').startsWith('text/csv') ? 'csv' : 'xlsx';
      const current = await editor.exportCounty(p.county);
      const rows = await readRegistryFile(req.body, format);
      const config = rowsToCounty(current.county, rows.devices, rows.contacts);
      const summary = await editor.registry.importCounty(config);
      await ctx.audit.record(p, 'registry.import', {
        detail: { format, institutions: config.institutions.length, changes: summary.changes },
        ip: req.ip,
      });
      await changed();
      return { summary: summary as unknown as Record<string, unknown> };
    },
  );
};
