import { existsSync } from 'node:fs';
import { type ReadinessCheck, registerHealthRoutes } from '@anlian/runtime';
import { isSupervisionError } from '@anlian/supervision';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifySchemaValidationError } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
} from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { Registry } from 'prom-client';
import { isAlertLifecycleError } from '../alerts/alerts-port.js';
import { DashboardError, DashboardErrorCode } from '../errors.js';
import type { RegistryEditor } from '../registry/registry-editor.js';
import type { DashboardContext } from './dashboard-context.js';
import { SESSION_COOKIE } from './request-principal.js';
import { adminRoutes } from './routes/admin-routes.js';
import { alertRoutes } from './routes/alert-routes.js';
import { authRoutes, type LoginLimit } from './routes/auth-routes.js';
import { countyRoutes } from './routes/county-routes.js';
import { gradeRoutes } from './routes/grade-routes.js';
import { hazardRoutes } from './routes/hazard-routes.js';
import { inspectionRoutes } from './routes/inspection-routes.js';
import { institutionFileRoutes } from './routes/institution-file-routes.js';
import { operationsRoutes } from './routes/operations-routes.js';
import { type ReportRoutesOptions, reportRoutes } from './routes/report-routes.js';
import type { ErrorIssue } from './routes/route-schemas.js';
import { snapshotRoutes } from './routes/snapshot-routes.js';

export interface DashboardHttpOptions {
  ctx: DashboardContext;
  editor: RegistryEditor;
  loginLimit: LoginLimit;
  /** The built web app; null serves the API only. */
  webRoot: string | null;
  countyOutlinePath: string | undefined;
  version: string;
  /** Supervision reports (issue 17); without them the report routes are absent. */
  reports?: Omit<ReportRoutesOptions, 'ctx'> | undefined;
  /** `/metrics` (when given) and `/readyz`'s checks besides the store. */
  metrics?: Registry | undefined;
  readiness?: (() => Promise<Record<string, ReadinessCheck>>) | undefined;
}

/**
 * The dashboard's fastify app: zod-typed routes (fastify-type-provider-zod), an OpenAPI document at
 * `/api/openapi.json`, session cookies, rate-limited logins, the web app. Built, not listening.
 */
export async function buildDashboardHttp(o: DashboardHttpOptions): Promise<FastifyInstance> {
  const { ctx } = o;
  const app = Fastify({
    // Request lines at info would log every poll of every screen: warnings and errors only.
    loggerInstance: ctx.logger.child({ module: 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    trustProxy: true,
  }) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_req, context) => ({
      statusCode: 429,
      code: DashboardErrorCode.RATE_LIMITED,
      message: `${DashboardErrorCode.RATE_LIMITED}: too many attempts; try again in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'Anlian 安联网 dashboard API',
        version: o.version,
        description: 'County wall screen, institution and manager views, administration.',
      },
      components: { securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE } } },
      security: [{ session: [] }],
    },
    transform: jsonSchemaTransform,
  });

  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (req) => {
    const token = req.cookies[SESSION_COOKIE];
    if (token) req.principal = (await ctx.users.resolveSession(token)) ?? null;
  });

  app.setErrorHandler((err, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => `${v.instancePath || '/'} ${v.message ?? ''}`.trim());
      return reply.code(400).send({
        code: DashboardErrorCode.BAD_REQUEST,
        message: `${DashboardErrorCode.BAD_REQUEST}: ${issues.join('; ')}`,
        issues: validationIssues(err.validation, (err as { validationContext?: unknown }).validationContext),
      });
    }
    if (err instanceof DashboardError) {
      // An import's problems (one per spreadsheet row) go out one by one, for the page to list.
      const issues = Array.isArray(err.details)
        ? err.details
            .filter((d): d is string => typeof d === 'string')
            .map((message) => ({ in: 'file' as const, path: '', code: 'custom', message }))
        : undefined;
      return reply
        .code(err.statusCode)
        .send({ code: err.code, message: err.message, ...(issues?.length ? { issues } : {}) });
    }
    if (isSupervisionError(err)) {
      // The ledger's own errors (ANL_SUP_…) pass through with their code and status.
      return reply.code(err.statusCode).send({ code: err.code, message: err.message });
    }
    const status = (err as { statusCode?: unknown }).statusCode;
    if (typeof status === 'number' && status === 429) {
      return reply.code(429).send({ code: DashboardErrorCode.RATE_LIMITED, message: (err as Error).message });
    }
    if (isAlertLifecycleError(err) && typeof status === 'number' && status >= 400 && status < 500) {
      // The alert service's lifecycle errors (ANL_ALERT_…) pass through with their code and status,
      // and the fields they are about (a silence's rule or end) as issues for the form.
      const issues = (err.issues ?? []).map((i) => ({
        in: 'body' as const,
        path: i.path === '' ? '' : `/${i.path.split('.').join('/')}`,
        code: 'custom',
        message: i.message,
      }));
      return reply.code(status).send({ code: err.code, message: err.message, ...(issues.length ? { issues } : {}) });
    }
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send({ code: DashboardErrorCode.BAD_REQUEST, message: (err as Error).message });
    }
    req.log.error({ err, url: req.url }, 'request failed');
    return reply.code(500).send({ code: 'ANL_DASH_INTERNAL', message: 'internal error; see the server log' });
  });

  // /healthz, /readyz (the store answers, and what the composition adds: broker, Redis), /metrics.
  registerHealthRoutes(app as unknown as FastifyInstance, {
    metrics: o.metrics ?? new Registry(),
    readiness: async () => {
      const store = await sql`select 1 as one`.execute(ctx.db).then(
        () => ({ ok: true }),
        (err: Error) => ({ ok: false, detail: err.message }),
      );
      return { store, ...(o.readiness ? await o.readiness() : {}) };
    },
  });
  await app.register(authRoutes, { ctx, loginLimit: o.loginLimit });
  await app.register(countyRoutes, { ctx, outlinePath: o.countyOutlinePath });
  await app.register(alertRoutes, { ctx });
  await app.register(snapshotRoutes, { ctx });
  await app.register(operationsRoutes, { ctx });
  await app.register(adminRoutes, { ctx, editor: o.editor });
  if (o.reports) await app.register(reportRoutes, { ctx, ...o.reports });
  if (ctx.supervision) {
    const supervision = ctx.supervision;
    await app.register(hazardRoutes, { ctx, supervision });
    await app.register(inspectionRoutes, { ctx, supervision });
    await app.register(gradeRoutes, { ctx, supervision });
    await app.register(institutionFileRoutes, { ctx, supervision });
  }
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  if (o.webRoot !== null) {
    if (!existsSync(o.webRoot)) {
      throw new DashboardError(
        DashboardErrorCode.WEB_MISSING,
        `the web app is not built (${o.webRoot}); run: npx vite build --config dashboard/web/vite.config.ts`,
      );
    }
    await app.register(fastifyStatic, {
      root: o.webRoot,
      // The service worker must be fetched fresh, or an old app lingers after an upgrade.
      setHeaders: (res, path) => {
        if (path.endsWith('sw.js') || path.endsWith('index.html')) res.header('cache-control', 'no-cache');
      },
    });
  }
  return app;
}

const PARTS = new Set<ErrorIssue['in']>(['body', 'querystring', 'params', 'headers']);

/** zod's issues as fastify-type-provider-zod hands them over, in the API's `ErrorIssue` shape. */
function validationIssues(validation: FastifySchemaValidationError[], context: unknown): ErrorIssue[] {
  const part = PARTS.has(context as ErrorIssue['in']) ? (context as ErrorIssue['in']) : 'body';
  return validation.map((v) => {
    const { origin, minimum, maximum } = v.params;
    return {
      in: part,
      path: v.instancePath === '/' ? '' : v.instancePath,
      code: v.keyword,
      message: v.message ?? '',
      ...(typeof origin === 'string' ? { origin } : {}),
      ...(typeof minimum === 'number' ? { minimum } : {}),
      ...(typeof maximum === 'number' ? { maximum } : {}),
    };
  });
}
