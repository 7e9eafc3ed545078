import type { Socket } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../../auth/principal.js';
import { DashboardError, DashboardErrorCode } from '../../errors.js';
import type { DashboardContext } from '../dashboard-context.js';
import { clearSession, clientMeta, need, SESSION_COOKIE } from '../request-principal.js';
import { ErrorBody, Me } from './route-schemas.js';

/** Login attempts per client address and username: GB/T 22239 level-3 asks for lockout on repeated failures. */
export interface LoginLimit {
  max: number;
  timeWindowMs: number;
}

const me = (p: Principal) => ({
  id: p.id,
  name: p.name,
  displayName: p.displayName,
  role: p.role,
  county: p.county,
  institution: p.institution,
});

/**
 * Runs `work` with a signal that aborts when the client's connection closes: a password check
 * still waiting for its turn is then dropped unhashed.
 */
async function whileConnected<T>(req: FastifyRequest, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const socket = req.raw.socket as Socket | undefined;
  const abort = () => controller.abort();
  socket?.once('close', abort);
  try {
    return await work(controller.signal);
  } finally {
    socket?.off('close', abort);
  }
}

export const authRoutes: FastifyPluginAsyncZod<{ ctx: DashboardContext; loginLimit: LoginLimit }> = async (
  app,
  { ctx, loginLimit },
) => {
  const cookie = () =>
    ({
      httpOnly: true,
      sameSite: 'strict',
      secure: ctx.secureCookies,
      path: '/',
      maxAge: Math.floor(ctx.users.idleTimeoutMs / 1000),
    }) as const;
  const rateLimit = {
    // After body parsing, so that the key can name the username.
    hook: 'preHandler' as const,
    max: loginLimit.max,
    timeWindow: loginLimit.timeWindowMs,
    // Per address and username: one office behind NAT does not lock everybody out.
    keyGenerator: (req: { ip: string; body?: unknown }) =>
      `${req.ip}:${typeof req.body === 'object' && req.body !== null && 'username' in req.body ? String((req.body as { username: unknown }).username) : ''}`,
  };

  app.post(
    '/api/auth/login',
    {
      config: { rateLimit, anonymous: true },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with username and password; sets the session cookie',
        body: z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }),
        response: { 200: z.object({ user: Me }), 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (req, reply) => {
      const { username, password } = req.body;
      const meta = clientMeta(req);
      const user = await whileConnected(req, (signal) =>
        ctx.loginGuard.attempt({ address: meta.ip, username }, () =>
          ctx.users.checkPassword(username, password, { signal }),
        ),
      );
      if (!user) {
        await ctx.audit.record({ name: username, role: 'unknown' }, 'login_failed', { ip: meta.ip });
        throw new DashboardError(DashboardErrorCode.LOGIN_FAILED, 'wrong username or password');
      }
      const token = await ctx.users.createSession({ userId: user.id }, meta);
      await ctx.audit.record({ name: user.username, role: user.role }, 'login', {
        ip: meta.ip,
        institution: user.institution,
      });
      reply.setCookie(SESSION_COOKIE, token, cookie());
      const principal = await ctx.users.resolveSession(token);
      if (!principal) throw new DashboardError(DashboardErrorCode.UNAUTHENTICATED, 'session could not be started');
      return { user: me(principal) };
    },
  );

  app.post(
    '/api/auth/kiosk',
    {
      config: { rateLimit: { max: loginLimit.max, timeWindow: loginLimit.timeWindowMs }, anonymous: true },
      schema: {
        tags: ['auth'],
        summary: 'Sign a wall screen in with its kiosk token (read-only viewer)',
        body: z.object({ token: z.string().min(16).max(128) }),
        response: { 200: z.object({ user: Me }), 401: ErrorBody, 429: ErrorBody },
      },
    },
    async (req, reply) => {
      const kiosk = await ctx.loginGuard.attempt({ address: req.ip }, () => ctx.users.checkKioskToken(req.body.token));
      if (!kiosk) throw new DashboardError(DashboardErrorCode.LOGIN_FAILED, 'unknown, revoked or expired kiosk token');
      const token = await ctx.users.createSession({ kioskTokenId: kiosk.id }, clientMeta(req));
      await ctx.audit.record({ name: `kiosk:${kiosk.name}`, role: 'viewer' }, 'kiosk_login', { ip: req.ip });
      reply.setCookie(SESSION_COOKIE, token, cookie());
      const principal = await ctx.users.resolveSession(token);
      if (!principal) throw new DashboardError(DashboardErrorCode.UNAUTHENTICATED, 'session could not be started');
      return { user: me(principal) };
    },
  );

  app.post(
    '/api/auth/logout',
    {
      config: { anonymous: true },
      schema: { tags: ['auth'], summary: 'End the session', response: { 200: z.object({ ok: z.literal(true) }) } },
    },
    async (req, reply) => {
      if (req.principal) {
        await ctx.users.endSession(req.principal.sessionId);
        ctx.liveSessions.endSession(req.principal.sessionId);
        await ctx.audit.record(req.principal, 'logout', { ip: req.ip });
      }
      clearSession(reply);
      return { ok: true as const };
    },
  );

  app.get(
    '/api/auth/me',
    {
      schema: {
        tags: ['auth'],
        summary: 'Who is signed in',
        response: { 200: z.object({ user: Me }), 401: ErrorBody },
      },
    },
    async (req) => ({ user: me(need(req, 'read')) }),
  );
};
