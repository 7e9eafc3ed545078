import { type Kysely, sql, type Transaction, type Updateable } from 'kysely';
import type { Logger } from 'pino';
import { SupervisionError, SupervisionErrorCode } from '../errors.js';
import { newId } from '../new-id.js';
import type { HazardsTable, SupervisionDatabase } from '../store/supervision-schema.js';
import {
  type Actor,
  type Hazard,
  type HazardDetail,
  type HazardEvent,
  type HazardOwner,
  type HazardSeverity,
  type HazardSource,
  type HazardStatus,
  type Rectification,
  SYSTEM_ACTOR,
  WORK_PENDING,
} from './hazard.js';
import { type HazardRow, hazardFromRow, isOverdue, rectificationFromRow, transitionFromRow } from './hazard-rows.js';

/** Every transition goes to the audit log (the dashboard's), with actor, time and note. */
export interface HazardAudit {
  record(entry: {
    actor: Actor;
    /** `hazard.found`, `hazard.accepted`, … */
    action: string;
    hazard: Hazard;
    at: number;
    note: string | null;
    detail: Record<string, unknown> | null;
  }): Promise<void>;
}

export type HazardChangeListener = (hazard: Hazard, event: HazardEvent) => void;

export interface NewHazard {
  institution: string;
  category: string;
  severity: HazardSeverity;
  source: HazardSource;
  sourceRule?: string | null;
  /** One hazard per cause while it is not closed (automatic sources, inspection items). */
  causeKey?: string | null;
  itemRef?: string | null;
  inspectionId?: string | null;
  title: string;
  description: string;
  evidence?: Record<string, unknown>;
  location?: string | null;
  /** With an owner and a deadline the hazard is assigned at once. */
  ownerContactId?: string;
  deadlineAt?: number;
  supervisor?: string | null;
  note?: string | null;
  /** Default now; the demo's generated history sets it. */
  foundAt?: number;
  generated?: string | null;
}

export interface HazardFilter {
  county: string;
  institution?: string;
  status?: readonly HazardStatus[];
  /** Not closed. */
  open?: boolean;
  severity?: HazardSeverity;
  source?: HazardSource;
  category?: string;
  /** Past the deadline with the work owed. */
  overdue?: boolean;
  /** Text in the title, description or location. */
  q?: string;
  /** Found at or after / before. */
  from?: number;
  to?: number;
  limit?: number;
  /** `foundAt:id` of the last hazard of the previous page. */
  cursor?: string;
}

export interface HazardPage {
  hazards: Hazard[];
  total: number;
  nextCursor: string | null;
}

export interface RectificationRow extends Rectification {
  institution: string;
  hazardTitle: string;
  severity: HazardSeverity;
  status: HazardStatus;
}

export interface HazardLedgerOptions {
  db: Kysely<SupervisionDatabase>;
  logger: Logger;
  clock?: () => number;
  audit?: HazardAudit;
}

/** What one transition changes: the event, the new status, the columns, the note. */
interface Step {
  event: HazardEvent;
  to: HazardStatus;
  patch?: Updateable<HazardsTable>;
  note?: string | null;
  detail?: Record<string, unknown> | null;
}

const MAX_PAGE = 500;

/**
 * The hazard ledger (隐患台账): opens hazards, moves them through their loop, and records every
 * step — in `hazard_transitions` and through `HazardAudit` in the audit log. Each step is one
 * transaction guarded by the hazard's step number, so two nodes acting on the same hazard at once
 * cannot both win; the unique `open_cause` column keeps one open hazard per cause.
 */
export class HazardLedger {
  readonly #db: Kysely<SupervisionDatabase>;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #audit: HazardAudit | undefined;
  readonly #listeners = new Set<HazardChangeListener>();

  constructor(opts: HazardLedgerOptions) {
    this.#db = opts.db;
    this.#log = opts.logger.child({ module: 'hazard-ledger' });
    this.#clock = opts.clock ?? Date.now;
    this.#audit = opts.audit;
  }

  onChange(listener: HazardChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  now(): number {
    return this.#clock();
  }

  // ------------------------------------------------------------------ opening

  /**
   * Opens a hazard. With a `causeKey` already open, returns that hazard instead and `created:
   * false` — the one-hazard-per-cause rule holds whichever node saw the cause first.
   */
  async open(input: NewHazard, actor: Actor): Promise<{ hazard: Hazard; created: boolean }> {
    const now = this.#clock();
    const foundAt = input.foundAt ?? now;
    const institution = await this.#db
      .selectFrom('institutions')
      .select(['id', 'county_id'])
      .where('id', '=', input.institution)
      .executeTakeFirst();
    if (!institution) throw new SupervisionError(SupervisionErrorCode.NOT_FOUND, `no institution ${input.institution}`);
    if (input.causeKey) {
      const existing = await this.#byOpenCause(input.causeKey);
      if (existing) return { hazard: hazardFromRow(existing, now), created: false };
    }
    const owner =
      input.ownerContactId !== undefined ? await this.#contact(input.institution, input.ownerContactId) : undefined;
    const id = newId('hz', foundAt);
    const row: HazardRow = {
      id,
      county_id: institution.county_id,
      institution_id: input.institution,
      category: input.category,
      severity: input.severity,
      source: input.source,
      source_rule: input.sourceRule ?? null,
      cause_key: input.causeKey ?? null,
      open_cause: input.causeKey ?? null,
      item_ref: input.itemRef ?? null,
      inspection_id: input.inspectionId ?? null,
      title: input.title,
      description: input.description,
      evidence_json: JSON.stringify(input.evidence ?? {}),
      location: input.location ?? null,
      status: 'found',
      owner_contact_id: null,
      owner_name: null,
      supervisor: input.supervisor ?? null,
      deadline_at: null,
      found_at: foundAt,
      found_by: actor.name,
      assigned_at: null,
      rectifying_at: null,
      submitted_at: null,
      reviewed_at: null,
      closed_at: null,
      cause_cleared_at: null,
      overdue_at: null,
      escalation_count: 0,
      next_escalation_at: null,
      reminded_at: null,
      generated: input.generated ?? null,
      seq: 1,
      updated_at: foundAt,
    };
    try {
      await this.#db.transaction().execute(async (tx) => {
        await tx.insertInto('hazards').values(row).execute();
        await this.#insertTransition(tx, id, 1, foundAt, 'found', null, 'found', actor, input.note ?? null, null);
      });
    } catch (err) {
      // Another node opened the same cause a moment ago: that one stands.
      if (input.causeKey) {
        const existing = await this.#byOpenCause(input.causeKey);
        if (existing) return { hazard: hazardFromRow(existing, now), created: false };
      }
      throw err;
    }
    let hazard = hazardFromRow(row, now);
    await this.#after(hazard, 'found', actor, foundAt, input.note ?? null, { source: input.source });
    if (owner && input.deadlineAt !== undefined) {
      hazard = await this.assign(
        id,
        { ownerContactId: owner.id, deadlineAt: input.deadlineAt, supervisor: input.supervisor ?? null },
        actor,
        foundAt,
      );
    }
    return { hazard, created: true };
  }

  // ------------------------------------------------------------------ the loop

  /**
   * Gives the hazard an owner (a contact of the institution) and a deadline: found → assigned, or
   * a reassignment of an assigned or rectifying hazard (the deadline may move; the reminder re-arms).
   */
  async assign(
    id: string,
    a: { ownerContactId: string; deadlineAt: number; supervisor?: string | null; note?: string | null },
    actor: Actor,
    at?: number,
  ): Promise<Hazard> {
    const current = await this.#db
      .selectFrom('hazards')
      .select('institution_id')
      .where('id', '=', id)
      .executeTakeFirst();
    if (!current) throw new SupervisionError(SupervisionErrorCode.NOT_FOUND, `no hazard ${id}`);
    // Read before the step's transaction: SQLite has one connection, which the transaction holds.
    const owner = await this.#contact(current.institution_id, a.ownerContactId);
    return this.#transition(
      id,
      actor,
      async (h, now) => {
        if (!['found', 'assigned', 'rectifying'].includes(h.status)) throw invalid(h, 'assign');
        if (a.deadlineAt <= now) {
          throw new SupervisionError(SupervisionErrorCode.INVALID, 'the deadline must be in the future');
        }
        // Escalation starts at the deadline; an unchanged deadline keeps the running schedule.
        const next =
          a.deadlineAt === h.deadline_at && h.next_escalation_at !== null ? h.next_escalation_at : a.deadlineAt;
        return {
          event: h.status === 'found' ? 'assigned' : 'reassigned',
          to: h.status === 'found' ? 'assigned' : (h.status as HazardStatus),
          patch: {
            owner_contact_id: owner.id,
            owner_name: owner.name,
            deadline_at: a.deadlineAt,
            supervisor: a.supervisor === undefined ? (h.supervisor ?? actorSupervisor(actor)) : a.supervisor,
            assigned_at: h.assigned_at ?? now,
            reminded_at: a.deadlineAt === h.deadline_at ? h.reminded_at : null,
            next_escalation_at: next,
          },
          note: a.note ?? null,
          detail: { owner: owner.name, ownerContactId: owner.id, deadlineAt: a.deadlineAt },
        };
      },
      at,
    );
  }

  /** The institution starts the work: assigned → rectifying. */
  async start(id: string, note: string | null, actor: Actor, at?: number): Promise<Hazard> {
    return this.#transition(
      id,
      actor,
      async (h, now) => {
        if (h.status !== 'assigned') throw invalid(h, 'start');
        return { event: 'rectifying', to: 'rectifying', patch: { rectifying_at: now }, note };
      },
      at,
    );
  }

  /**
   * The institution reports the work done, with photos: assigned or rectifying → submitted.
   * Escalation pauses while the county reviews.
   */
  async submit(
    id: string,
    s: { measures: string; photos: readonly string[]; note?: string | null },
    actor: Actor,
    at?: number,
  ): Promise<Hazard> {
    const rectificationId = newId('rf', at ?? this.#clock());
    return this.#transition(
      id,
      actor,
      async (h, now, tx) => {
        if (h.status !== 'assigned' && h.status !== 'rectifying') throw invalid(h, 'submit');
        await tx
          .insertInto('hazard_rectifications')
          .values({
            id: rectificationId,
            hazard_id: h.id,
            submitted_at: now,
            submitted_by: actor.name,
            measures: s.measures,
            photos_json: JSON.stringify(s.photos),
            review: null,
            reviewed_at: null,
            reviewed_by: null,
            review_note: null,
          })
          .execute();
        return {
          event: 'submitted',
          to: 'submitted',
          patch: { submitted_at: now, rectifying_at: h.rectifying_at ?? now, next_escalation_at: null },
          note: s.note ?? null,
          detail: { rectification: rectificationId, measures: s.measures, photos: s.photos },
        };
      },
      at,
    );
  }

  /**
   * The county's review (复查) of the latest submission. Accepted: reviewed, and closed at once
   * unless an automatic hazard's cause is still there (then it closes when the cause clears).
   * Rejected: back to rectifying with the reason; escalation resumes at the deadline (at once
   * when it has passed).
   */
  async review(
    id: string,
    r: { result: 'accepted' | 'rejected'; note?: string | null },
    actor: Actor,
    at?: number,
  ): Promise<Hazard> {
    if (r.result === 'rejected' && !r.note?.trim()) {
      throw new SupervisionError(SupervisionErrorCode.INVALID, 'sending work back needs a reason');
    }
    const reviewed = await this.#transition(
      id,
      actor,
      async (h, now, tx) => {
        if (h.status !== 'submitted') throw invalid(h, r.result === 'accepted' ? 'accept' : 'reject');
        const latest = await tx
          .selectFrom('hazard_rectifications')
          .select('id')
          .where('hazard_id', '=', h.id)
          .where('review', 'is', null)
          .orderBy('submitted_at', 'desc')
          .executeTakeFirst();
        if (latest) {
          await tx
            .updateTable('hazard_rectifications')
            .set({ review: r.result, reviewed_at: now, reviewed_by: actor.name, review_note: r.note ?? null })
            .where('id', '=', latest.id)
            .execute();
        }
        if (r.result === 'accepted') {
          return { event: 'accepted', to: 'reviewed', patch: { reviewed_at: now }, note: r.note ?? null };
        }
        return {
          event: 'rejected',
          to: 'rectifying',
          patch: {
            submitted_at: null,
            next_escalation_at: h.deadline_at === null ? null : Math.max(h.deadline_at, now),
          },
          note: r.note ?? null,
        };
      },
      at,
    );
    return reviewed.status === 'reviewed' ? this.#closeIfDone(reviewed, at) : reviewed;
  }

  /** County staff withdraw a hazard entered by mistake: closed, with the reason. */
  async withdraw(id: string, reason: string, actor: Actor): Promise<Hazard> {
    if (!reason.trim()) throw new SupervisionError(SupervisionErrorCode.INVALID, 'withdrawing needs a reason');
    return this.#transition(id, actor, async (h, now) => {
      if (h.status === 'closed') throw invalid(h, 'withdraw');
      return {
        event: 'withdrawn',
        to: 'closed',
        patch: { closed_at: now, open_cause: null, next_escalation_at: null },
        note: reason,
      };
    });
  }

  /** An automatic source no longer sees the cause: recorded; a reviewed hazard closes now. */
  async causeCleared(id: string, at?: number): Promise<Hazard> {
    const h = await this.#transition(
      id,
      SYSTEM_ACTOR,
      async (row, now) => {
        if (row.status === 'closed' || row.cause_cleared_at !== null) throw invalid(row, 'clear its cause');
        return { event: 'cause_cleared', to: row.status as HazardStatus, patch: { cause_cleared_at: now } };
      },
      at,
    );
    return h.status === 'reviewed' ? this.#closeIfDone(h, at) : h;
  }

  /** The cause came back before the hazard closed: the same hazard stays open. */
  async causeReturned(id: string, at?: number): Promise<Hazard> {
    return this.#transition(
      id,
      SYSTEM_ACTOR,
      async (row) => {
        if (row.status === 'closed' || row.cause_cleared_at === null) throw invalid(row, 'note its cause back');
        return { event: 'cause_returned', to: row.status as HazardStatus, patch: { cause_cleared_at: null } };
      },
      at,
    );
  }

  /** 销号: a reviewed hazard whose cause is gone (or that had no automatic cause) closes. */
  async #closeIfDone(h: Hazard, at?: number): Promise<Hazard> {
    if (h.status !== 'reviewed') return h;
    if (h.source === 'auto' && h.causeClearedAt === null) return h;
    return this.#transition(
      h.id,
      SYSTEM_ACTOR,
      async (row, now) => {
        if (row.status !== 'reviewed') throw invalid(row, 'close');
        return {
          event: 'closed',
          to: 'closed',
          patch: { closed_at: now, open_cause: null, next_escalation_at: null },
          note: row.source === 'auto' ? '原因已消除且已复查通过，自动销号' : '复查通过，销号',
        };
      },
      at,
    );
  }

  // ------------------------------------------------------------------ deadlines

  /**
   * Hazards whose escalation is due: past the deadline with the work owed. Each is claimed with
   * a guarded update (its step number and due time), so of two schedulers only one sends it.
   */
  async claimEscalations(everyMs: number, now = this.#clock()): Promise<Hazard[]> {
    const due = await this.#db
      .selectFrom('hazards')
      .select('id')
      .where('next_escalation_at', '<=', now)
      .where('deadline_at', '<=', now)
      .where('status', 'in', [...WORK_PENDING])
      .orderBy('next_escalation_at')
      .limit(1000)
      .execute();
    const claimed: Hazard[] = [];
    for (const { id } of due) {
      try {
        const h = await this.#transition(
          id,
          SYSTEM_ACTOR,
          async (row) => {
            if (!isOverdue(row, now) || row.next_escalation_at === null || row.next_escalation_at > now) {
              throw invalid(row, 'escalate');
            }
            const round = row.escalation_count + 1;
            return {
              event: 'escalated',
              to: row.status as HazardStatus,
              patch: {
                escalation_count: round,
                overdue_at: row.overdue_at ?? now,
                next_escalation_at: now + everyMs,
              },
              note: `逾期未整改，第${round}次通报县值班员`,
              detail: { round, deadlineAt: row.deadline_at },
            };
          },
          now,
        );
        claimed.push(h);
      } catch (err) {
        if (!(err instanceof SupervisionError)) throw err;
        // Someone moved it meanwhile (submitted, escalated by another node): nothing to send.
      }
    }
    return claimed;
  }

  /** Hazards whose deadline is within `beforeMs` and whose owner was not reminded yet; claimed as above. */
  async claimReminders(beforeMs: number, now = this.#clock()): Promise<Hazard[]> {
    const due = await this.#db
      .selectFrom('hazards')
      .select('id')
      .where('reminded_at', 'is', null)
      .where('status', 'in', ['assigned', 'rectifying'])
      .where('deadline_at', '>', now)
      .where('deadline_at', '<=', now + beforeMs)
      .limit(1000)
      .execute();
    const claimed: Hazard[] = [];
    for (const { id } of due) {
      try {
        claimed.push(
          await this.#transition(
            id,
            SYSTEM_ACTOR,
            async (row) => {
              if (row.reminded_at !== null || row.deadline_at === null || row.deadline_at <= now) {
                throw invalid(row, 'remind');
              }
              return {
                event: 'reminded',
                to: row.status as HazardStatus,
                patch: { reminded_at: now },
                note: '整改期限临近，已提醒整改责任人',
                detail: { deadlineAt: row.deadline_at },
              };
            },
            now,
          ),
        );
      } catch (err) {
        if (!(err instanceof SupervisionError)) throw err;
      }
    }
    return claimed;
  }

  // ------------------------------------------------------------------ reading

  async get(id: string): Promise<Hazard | undefined> {
    const row = await this.#db.selectFrom('hazards').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? hazardFromRow(row, this.#clock()) : undefined;
  }

  async detail(id: string): Promise<HazardDetail | undefined> {
    const hazard = await this.get(id);
    if (!hazard) return undefined;
    const [transitions, rectifications] = await Promise.all([
      this.#db.selectFrom('hazard_transitions').selectAll().where('hazard_id', '=', id).orderBy('seq').execute(),
      this.#db
        .selectFrom('hazard_rectifications')
        .selectAll()
        .where('hazard_id', '=', id)
        .orderBy('submitted_at')
        .execute(),
    ]);
    return {
      hazard,
      transitions: transitions.map(transitionFromRow),
      rectifications: rectifications.map(rectificationFromRow),
    };
  }

  /** The hazard list (隐患清单), newest first, filtered, a page at a time with the total. */
  async list(f: HazardFilter): Promise<HazardPage> {
    const now = this.#clock();
    const limit = Math.min(Math.max(1, f.limit ?? 50), MAX_PAGE);
    let q = this.#db.selectFrom('hazards').where('county_id', '=', f.county);
    if (f.institution !== undefined) q = q.where('institution_id', '=', f.institution);
    if (f.status?.length) q = q.where('status', 'in', [...f.status]);
    if (f.open) q = q.where('status', '!=', 'closed');
    if (f.severity) q = q.where('severity', '=', f.severity);
    if (f.source) q = q.where('source', '=', f.source);
    if (f.category) q = q.where('category', '=', f.category);
    if (f.overdue === true) q = q.where('deadline_at', '<=', now).where('status', 'in', [...WORK_PENDING]);
    if (f.overdue === false) {
      q = q.where((eb) =>
        eb.or([eb('deadline_at', 'is', null), eb('deadline_at', '>', now), eb('status', 'not in', [...WORK_PENDING])]),
      );
    }
    if (f.q?.trim()) {
      const like = `%${f.q.trim().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      q = q.where((eb) =>
        eb.or([
          eb('title', 'like', sql<string>`${like} escape '\\'`),
          eb('description', 'like', sql<string>`${like} escape '\\'`),
          eb('location', 'like', sql<string>`${like} escape '\\'`),
        ]),
      );
    }
    if (f.from !== undefined) q = q.where('found_at', '>=', f.from);
    if (f.to !== undefined) q = q.where('found_at', '<', f.to);
    const totalRow = await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    let page = q.selectAll();
    if (f.cursor) {
      const [at, id] = parseCursor(f.cursor);
      page = page.where((eb) => eb.or([eb('found_at', '<', at), eb.and([eb('found_at', '=', at), eb('id', '<', id)])]));
    }
    const rows = await page
      .orderBy('found_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .execute();
    const more = rows.length > limit;
    const hazards = rows.slice(0, limit).map((r) => hazardFromRow(r, now));
    const last = hazards.at(-1);
    return {
      hazards,
      total: Number(totalRow?.n ?? 0),
      nextCursor: more && last ? `${last.foundAt}:${last.id}` : null,
    };
  }

  /** The rectification list (整改清单): every submission with its review, newest first. */
  async rectifications(f: Omit<HazardFilter, 'cursor'>): Promise<RectificationRow[]> {
    let q = this.#db
      .selectFrom('hazard_rectifications as r')
      .innerJoin('hazards as h', 'h.id', 'r.hazard_id')
      .where('h.county_id', '=', f.county);
    if (f.institution !== undefined) q = q.where('h.institution_id', '=', f.institution);
    if (f.severity) q = q.where('h.severity', '=', f.severity);
    if (f.source) q = q.where('h.source', '=', f.source);
    if (f.category) q = q.where('h.category', '=', f.category);
    if (f.status?.length) q = q.where('h.status', 'in', [...f.status]);
    if (f.open) q = q.where('h.status', '!=', 'closed');
    if (f.from !== undefined) q = q.where('r.submitted_at', '>=', f.from);
    if (f.to !== undefined) q = q.where('r.submitted_at', '<', f.to);
    const rows = await q
      .selectAll('r')
      .select(['h.institution_id', 'h.title', 'h.severity', 'h.status'])
      .orderBy('r.submitted_at', 'desc')
      .limit(Math.min(Math.max(1, f.limit ?? 500), 5000))
      .execute();
    return rows.map((r) => ({
      ...rectificationFromRow(r),
      institution: r.institution_id,
      hazardTitle: r.title,
      severity: r.severity as HazardSeverity,
      status: r.status as HazardStatus,
    }));
  }

  /** Open automatic hazards of a source (the reconciler's view). */
  async openAutoHazards(county: string, sourceRule: string): Promise<Hazard[]> {
    const now = this.#clock();
    const rows = await this.#db
      .selectFrom('hazards')
      .selectAll()
      .where('county_id', '=', county)
      .where('source', '=', 'auto')
      .where('source_rule', '=', sourceRule)
      .where('status', '!=', 'closed')
      .execute();
    return rows.map((r) => hazardFromRow(r, now));
  }

  /** The contact that owns hazards of a role at an institution: that role, else the manager. */
  async ownerFor(institution: string, role: string): Promise<HazardOwner | undefined> {
    const contacts = await this.#db
      .selectFrom('contacts')
      .select(['id', 'name', 'role'])
      .where('institution_id', '=', institution)
      .orderBy('id')
      .execute();
    const c =
      contacts.find((x) => x.role === role) ??
      contacts.find((x) => x.role === 'manager') ??
      contacts.find((x) => x.role !== 'duty_officer');
    return c ? { contactId: c.id, name: c.name } : undefined;
  }

  // ------------------------------------------------------------------ internals

  async #byOpenCause(cause: string): Promise<HazardRow | undefined> {
    return this.#db.selectFrom('hazards').selectAll().where('open_cause', '=', cause).executeTakeFirst();
  }

  async #contact(institution: string, contactId: string): Promise<{ id: string; name: string }> {
    const c = await this.#db
      .selectFrom('contacts')
      .select(['id', 'name'])
      .where('institution_id', '=', institution)
      .where('id', '=', contactId)
      .executeTakeFirst();
    if (!c) {
      throw new SupervisionError(
        SupervisionErrorCode.INVALID,
        `${contactId} is not a contact of institution ${institution}`,
      );
    }
    return c;
  }

  /**
   * One step: reads the hazard, lets `decide` check and describe the step (it may write in the
   * same transaction), updates the row only if nobody stepped it meanwhile, records the transition.
   */
  async #transition(
    id: string,
    actor: Actor,
    decide: (row: HazardRow, now: number, tx: Transaction<SupervisionDatabase>) => Promise<Step>,
    at?: number,
  ): Promise<Hazard> {
    const now = at ?? this.#clock();
    let step: Step | undefined;
    let from: HazardStatus | undefined;
    const updated = await this.#db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('hazards').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw new SupervisionError(SupervisionErrorCode.NOT_FOUND, `no hazard ${id}`);
      from = row.status as HazardStatus;
      step = await decide(row, now, tx);
      const seq = row.seq + 1;
      const r = await tx
        .updateTable('hazards')
        .set({ ...step.patch, status: step.to, seq, updated_at: now })
        .where('id', '=', id)
        .where('seq', '=', row.seq)
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) {
        throw new SupervisionError(
          SupervisionErrorCode.TRANSITION_INVALID,
          `hazard ${id} changed meanwhile; try again`,
        );
      }
      await this.#insertTransition(
        tx,
        id,
        seq,
        now,
        step.event,
        from,
        step.to,
        actor,
        step.note ?? null,
        step.detail ?? null,
      );
      return { ...row, ...step.patch, status: step.to, seq, updated_at: now } as HazardRow;
    });
    const hazard = hazardFromRow(updated, now);
    if (step) await this.#after(hazard, step.event, actor, now, step.note ?? null, step.detail ?? null);
    return hazard;
  }

  async #insertTransition(
    tx: Transaction<SupervisionDatabase> | Kysely<SupervisionDatabase>,
    id: string,
    seq: number,
    at: number,
    event: HazardEvent,
    from: HazardStatus | null,
    to: HazardStatus,
    actor: Actor,
    note: string | null,
    detail: Record<string, unknown> | null,
  ): Promise<void> {
    await tx
      .insertInto('hazard_transitions')
      .values({
        hazard_id: id,
        seq,
        at,
        event,
        from_status: from,
        to_status: to,
        actor: actor.name,
        role: actor.role,
        note,
        detail_json: detail ? JSON.stringify(detail) : null,
      })
      .execute();
  }

  /** After a step is stored: the audit log, then the listeners (grades, live views). */
  async #after(
    hazard: Hazard,
    event: HazardEvent,
    actor: Actor,
    at: number,
    note: string | null,
    detail: Record<string, unknown> | null,
  ): Promise<void> {
    if (this.#audit) {
      try {
        await this.#audit.record({ actor, action: `hazard.${event}`, hazard, at, note, detail });
      } catch (err) {
        // The step is stored with its transition row; a lost audit line is logged, not fatal.
        this.#log.error({ err, hazard: hazard.id, event }, 'hazard transition not written to the audit log');
      }
    }
    for (const l of this.#listeners) {
      try {
        l(hazard, event);
      } catch (err) {
        this.#log.error({ err, hazard: hazard.id }, 'hazard change listener failed');
      }
    }
  }
}

function invalid(h: Pick<HazardRow, 'id' | 'status'>, action: string): SupervisionError {
  return new SupervisionError(
    SupervisionErrorCode.TRANSITION_INVALID,
    `hazard ${h.id} is ${h.status}: cannot ${action} it`,
  );
}

function actorSupervisor(actor: Actor): string | null {
  return actor.role === 'county_admin' || actor.role === 'county_operator' ? actor.name : null;
}

function parseCursor(cursor: string): [number, string] {
  const i = cursor.indexOf(':');
  const at = Number(cursor.slice(0, i));
  if (i <= 0 || !Number.isFinite(at)) throw new SupervisionError(SupervisionErrorCode.INVALID, 'bad cursor');
  return [at, cursor.slice(i + 1)];
}
