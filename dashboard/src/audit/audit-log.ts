import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Principal } from '../auth/principal.js';
import type { DashboardDatabase } from '../store/dashboard-schema.js';

export interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  role: string;
  action: string;
  target: string | null;
  institution: string | null;
  detail: Record<string, unknown> | null;
  ip: string | null;
}

/**
 * Every operator action, who did it and from where (seed 001: keep the original records of
 * abnormal events and how they were handled). Written before the action's response is sent.
 */
export class AuditLog {
  readonly #db: Kysely<DashboardDatabase>;
  readonly #log: Logger;
  readonly #clock: () => number;

  constructor(db: Kysely<DashboardDatabase>, logger: Logger, clock: () => number = Date.now) {
    this.#db = db;
    this.#log = logger.child({ module: 'audit' });
    this.#clock = clock;
  }

  async record(
    who: Pick<Principal, 'name' | 'role'> | { name: string; role: string },
    action: string,
    opts: { target?: string; institution?: string | null; detail?: Record<string, unknown>; ip?: string } = {},
  ): Promise<void> {
    const entry = {
      id: randomUUID(),
      at: this.#clock(),
      actor: who.name,
      role: who.role,
      action,
      target: opts.target ?? null,
      institution_id: opts.institution ?? null,
      detail: opts.detail ? JSON.stringify(opts.detail) : null,
      ip: opts.ip ?? null,
    };
    await this.#db.insertInto('audit_log').values(entry).execute();
    this.#log.info({ actor: entry.actor, action, target: entry.target }, 'audit');
  }

  async list(filter: { institution?: string; actor?: string; limit?: number; before?: number }): Promise<AuditEntry[]> {
    const rows = await this.#db
      .selectFrom('audit_log')
      .selectAll()
      .$if(filter.institution !== undefined, (q) => q.where('institution_id', '=', filter.institution ?? ''))
      .$if(filter.actor !== undefined, (q) => q.where('actor', '=', filter.actor ?? ''))
      .$if(filter.before !== undefined, (q) => q.where('at', '<', filter.before ?? 0))
      .orderBy('at', 'desc')
      .limit(filter.limit ?? 200)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      role: r.role,
      action: r.action,
      target: r.target,
      institution: r.institution_id,
      detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
      ip: r.ip,
    }));
  }
}
