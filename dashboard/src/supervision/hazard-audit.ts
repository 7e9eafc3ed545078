import type { Database } from '@anlian/store';
import type { HazardAudit } from '@anlian/supervision';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { AuditLog } from '../audit/audit-log.js';
import type { DashboardDatabase } from '../store/dashboard-schema.js';

/**
 * The hazard ledger's audit port on the dashboard's audit log (the `audit_log` table of this
 * store): every transition of every hazard, the scheduler's (actor `system`) as well as people's,
 * with actor, time, note and detail. Pass it to `buildSupervision({ audit })`.
 */
export function hazardAuditFrom(db: Kysely<Database>, logger: Logger, clock?: () => number): HazardAudit {
  const audit = new AuditLog(db as unknown as Kysely<DashboardDatabase>, logger, clock);
  return {
    async record(e) {
      await audit.record({ name: e.actor.name, role: e.actor.role }, e.action, {
        target: e.hazard.id,
        institution: e.hazard.institution,
        detail: {
          title: e.hazard.title,
          status: e.hazard.status,
          ...(e.note !== null ? { note: e.note } : {}),
          ...(e.detail ?? {}),
        },
        ...(e.actor.ip !== undefined ? { ip: e.actor.ip } : {}),
      });
    },
  };
}
