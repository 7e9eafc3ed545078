import type { FastifyReply, FastifyRequest } from 'fastify';
import { type Action, canSeeInstitution, type Principal, roleMay } from '../auth/principal.js';
import { DashboardError, DashboardErrorCode } from '../errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the session hook; null for anonymous requests. */
    principal: Principal | null;
  }
}

export const SESSION_COOKIE = 'anl_session';

/** The signed-in principal, allowed to do `action`; throws 401/403 otherwise. */
export function need(req: FastifyRequest, action: Action): Principal {
  const p = req.principal;
  if (!p) throw new DashboardError(DashboardErrorCode.UNAUTHENTICATED, 'sign in first');
  if (!roleMay(p.role, action)) throw new DashboardError(DashboardErrorCode.FORBIDDEN, `a ${p.role} may not ${action}`);
  return p;
}

/** As `need`, and the institution must be one the principal may see (a manager: only their own). */
export function needInstitution(
  req: FastifyRequest,
  action: Action,
  institution: string,
  countyOf: (id: string) => string | undefined,
): Principal {
  const p = need(req, action);
  const county = countyOf(institution);
  if (county === undefined) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no institution ${institution}`);
  if (county !== p.county || !canSeeInstitution(p, institution)) {
    throw new DashboardError(DashboardErrorCode.FORBIDDEN, `not allowed for institution ${institution}`);
  }
  return p;
}

export function clientMeta(req: FastifyRequest): { ip: string; userAgent: string | undefined } {
  return { ip: req.ip, userAgent: req.headers['user-agent'] };
}

export function clearSession(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
