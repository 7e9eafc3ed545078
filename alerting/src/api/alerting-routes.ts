import { timingSafeEqual } from 'node:crypto';
import { AlertStatus, DeviceKind, SegmentId, Severity, Verdict } from '@anlian/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DrillRecipients } from '../drills/drill.js';
import { AlertingErrorCode } from '../errors.js';
import { SilenceScope } from '../silences/silence.js';
import { httpStatusOf } from './alerting-api.js';
import { type AlertingApi, Notice } from './alerting-contract.js';

/**
 * `anlian alerting`'s HTTP API for the county's other services (the dashboard nodes): every
 * method of `AlertingApi`, JSON in and out, on the internal network. People authenticate at
 * the dashboard, which passes who acted (`actor`); services authenticate here with the county's
 * service token (`Authorization: Bearer …`, ANLIAN_SERVICE_TOKEN) when one is configured.
 *
 * Errors answer `{ code, message }` with the status `httpStatusOf` assigns the code.
 */
export function registerAlertingRoutes(app: FastifyInstance, opts: { api: AlertingApi; serviceToken?: string }): void {
  const { api } = opts;
  const token = opts.serviceToken ? Buffer.from(`Bearer ${opts.serviceToken}`) : undefined;

  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/v1/') || token === undefined) return;
    const given = Buffer.from(req.headers.authorization ?? '');
    if (given.length !== token.length || !timingSafeEqual(given, token)) {
      return reply.code(401).send({ code: 'ANL_ALERT_UNAUTHORIZED', message: 'a service token is required' });
    }
  });

  app.setErrorHandler(
    (
      err: Error & { code?: string; statusCode?: number; issues?: readonly { path: string; message: string }[] },
      _req,
      reply,
    ) => {
      if (err instanceof z.ZodError) {
        return reply.code(400).send({ code: AlertingErrorCode.REQUEST_INVALID, message: issues(err) });
      }
      const code = typeof err.code === 'string' ? err.code : 'ANL_ALERT_INTERNAL';
      const status = err.statusCode ?? httpStatusOf(code);
      if (status >= 500) app.log.error({ err }, 'alerting API request failed');
      // The fields a refusal is about (a silence's rule or end), for the dashboard's form.
      const fields = (err.issues ?? []).map((i) => ({ path: i.path, message: i.message }));
      return reply.code(status).send({ code, message: err.message, ...(fields.length > 0 ? { issues: fields } : {}) });
    },
  );

  const csv = <T extends z.ZodType>(item: T) =>
    z.preprocess((v) => (typeof v === 'string' ? v.split(',').filter((s) => s !== '') : v), z.array(item));
  const ListQuery = z.object({
    institution: SegmentId.optional(),
    status: csv(AlertStatus).optional(),
    severity: csv(Severity).optional(),
    verdict: csv(Verdict).optional(),
    kind: z.union([DeviceKind, z.literal('gateway')]).optional(),
    drill: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional(),
    from: z.coerce.number().int().optional(),
    to: z.coerce.number().int().optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    cursor: z.string().max(200).optional(),
  });
  const Actor = z.string().min(1).max(200);
  const Note = z.string().max(2000).optional();
  const id = (req: FastifyRequest) => z.object({ id: z.string().min(1).max(200) }).parse(req.params).id;

  app.get('/v1/alerts', async (req) => api.list(strip(ListQuery.parse(req.query))));
  app.get('/v1/alerts/open', async () => ({ alerts: await api.openAlerts() }));
  app.get('/v1/alerts/:id', async (req, reply) => {
    const detail = await api.get(id(req));
    return detail ?? notFound(reply, `no alert ${id(req)}`);
  });
  app.post('/v1/alerts/:id/acknowledge', async (req) => {
    const b = z.object({ actor: Actor, note: Note }).parse(req.body);
    return api.acknowledge(id(req), b.actor, b.note);
  });
  app.post('/v1/alerts/:id/verify', async (req) => {
    const b = z.object({ actor: Actor, verdict: Verdict, note: Note }).parse(req.body);
    return api.verify(id(req), b.actor, b.verdict, b.note);
  });
  app.post('/v1/alerts/:id/close', async (req) => {
    const b = z.object({ actor: Actor, note: Note }).parse(req.body);
    return api.close(id(req), b.actor, b.note);
  });
  app.get('/v1/summary', async (req) => {
    const q = z.object({ county: SegmentId, since: z.coerce.number().int() }).parse(req.query);
    return api.summary(q.county, q.since);
  });

  app.get('/v1/silences', async () => ({ silences: await api.listSilences() }));
  app.post('/v1/silences', async (req) => {
    const b = z
      .object({
        scope: SilenceScope,
        startsAt: z.number().int(),
        endsAt: z.number().int(),
        reason: z.string().min(1).max(500),
        author: Actor,
      })
      .parse(req.body);
    return api.createSilence(b);
  });
  app.post('/v1/silences/:id/expire', async (req) => {
    const b = z.object({ actor: Actor }).parse(req.body);
    return api.expireSilence(id(req), b.actor);
  });

  app.get('/v1/drills', async () => ({ drills: await api.listDrills() }));
  app.post('/v1/drills', async (req) => {
    const b = z
      .object({
        institutions: z.array(SegmentId).min(1).max(1000),
        startsAt: z.number().int(),
        endsAt: z.number().int(),
        name: z.string().min(1).max(200),
        recipients: DrillRecipients.optional(),
        author: Actor,
      })
      .parse(req.body);
    return api.createDrill(strip(b));
  });
  app.post('/v1/drills/:id/end', async (req) => {
    const b = z.object({ actor: Actor }).parse(req.body);
    return api.endDrill(id(req), b.actor);
  });
  app.get('/v1/drills/:id/report', async (req) => api.drillReport(id(req)));

  app.post('/v1/notices', async (req) => api.sendNotice(Notice.parse(req.body)));

  app.get('/v1/policies/:institution', async (req) => {
    const p = z.object({ institution: z.union([SegmentId, z.literal('*')]) }).parse(req.params);
    return api.getPolicy(p.institution);
  });
  app.put('/v1/policies/:institution', async (req) => {
    const p = z.object({ institution: z.union([SegmentId, z.literal('*')]) }).parse(req.params);
    const b = z.object({ policy: z.unknown(), author: Actor }).parse(req.body);
    return api.setPolicy(p.institution, b.policy as never, b.author);
  });
}

function notFound(reply: FastifyReply, message: string): FastifyReply {
  return reply.code(404).send({ code: AlertingErrorCode.NOT_FOUND, message });
}

function issues(err: z.ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/** Drops undefined members (exactOptionalPropertyTypes-friendly objects for the API). */
function strip<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
