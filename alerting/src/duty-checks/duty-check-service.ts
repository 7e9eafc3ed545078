import type { CommandReplyPayload } from '@anlian/protocol';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { GatewayCommands } from '../commands/gateway-commands.js';
import { type AlertSignal, alertKey, type GatewaySubject } from '../engine/alert-signal.js';
import { AlertingError, AlertingErrorCode } from '../errors.js';
import type { LocalizedName, Severity } from '../rules/rule-schema.js';
import { newId } from '../service/new-id.js';
import type { AlertingDatabase, DutyChecksTable } from '../store/alerting-schema.js';

export type DutyCheckStatus = 'pending' | 'answered' | 'unanswered' | 'unreachable' | 'not_applicable';

/** One duty check (查岗) as the reports see it. */
export interface DutyCheck {
  id: string;
  county: string;
  institution: string;
  gateway: string;
  requestedAt: number;
  requestedBy: string;
  source: 'operator' | 'schedule';
  answerWindowS: number;
  status: DutyCheckStatus;
  answeredAt?: number;
  operator?: number;
  completedAt?: number;
  detail?: string;
}

/** Where an unanswered check becomes an alert: `AlertingService.signal`. */
export type AlertSignalSink = (signal: AlertSignal) => void;

export interface DutyCheckServiceOptions {
  db: Kysely<AlertingDatabase>;
  commands: GatewayCommands;
  raise: AlertSignalSink;
  logger: Logger;
  clock?: () => number;
  /** GB/T 26875.3: the UITD keeps its prompt up to 10 minutes; default 600 s. */
  answerWindowS?: number;
  /** How long after the window a gateway's reply may still come (link latency, retries). Default 30 s. */
  replyGraceMs?: number;
  severity?: Severity;
  /** A check of every gateway of these institutions (all when empty) this often; none when unset. */
  schedule?: { everyMs: number; institutions?: readonly string[] };
  /**
   * Whether this node acts for an institution (several alerting nodes, issue 12): a scheduled check
   * is put by the node that acts for the institution only, not by every node. Default: all.
   */
  owns?: (institution: string) => boolean;
}

/** The rule id of the alert an unanswered check raises (one open per gateway). */
export const DUTY_CHECK_RULE = 'duty-check-unanswered';
const DUTY_CHECK_NAME: LocalizedName = { zh: '查岗无人应答', en: 'Duty check not answered' };

/**
 * Duty checks (查岗, GB/T 26875.3 type 91; GB 25506: the fire control room is staffed around the
 * clock): the county asks an institution's gateway to put the check to its UITD, the gateway
 * relays the answer or its absence (`duty-check` command reply). Every check is recorded in
 * `duty_checks` for the reports; one that is not answered — or cannot reach the fire control
 * room — raises an alert on the gateway (`duty-check-unanswered`), which the next answered
 * check clears.
 */
export class DutyCheckService {
  readonly #o: DutyCheckServiceOptions;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #running = new Set<Promise<DutyCheck>>();
  #timer: NodeJS.Timeout | undefined;

  constructor(opts: DutyCheckServiceOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ module: 'duty-checks' });
    this.#clock = opts.clock ?? Date.now;
  }

  start(): void {
    const s = this.#o.schedule;
    if (!s || this.#timer) return;
    this.#timer = setInterval(() => {
      void this.#scheduled(s.institutions ?? []);
    }, s.everyMs);
  }

  /** Stops the schedule and waits for the checks in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await Promise.allSettled([...this.#running]);
  }

  /**
   * Puts a check to every gateway of `institution` (or the one given). Resolves once each check is
   * recorded and sent, with `done` resolving when its outcome is known (the answer window later).
   */
  async request(req: {
    institution: string;
    gateway?: string;
    requestedBy: string;
    source?: 'operator' | 'schedule';
    answerWindowS?: number;
  }): Promise<{ checks: DutyCheck[]; done: Promise<DutyCheck[]> }> {
    const gateways = await this.#o.db
      .selectFrom('gateways')
      .innerJoin('institutions', 'institutions.id', 'gateways.institution_id')
      .select(['gateways.id as gateway', 'institutions.county_id as county'])
      .where('gateways.institution_id', '=', req.institution)
      .where('gateways.enabled', '=', 1)
      .$if(req.gateway !== undefined, (q) => q.where('gateways.id', '=', req.gateway ?? ''))
      .execute();
    if (gateways.length === 0) {
      throw new AlertingError(
        AlertingErrorCode.NOT_FOUND,
        `no gateway ${req.gateway ?? ''} of institution ${req.institution} to check`,
      );
    }
    const windowS = req.answerWindowS ?? this.#o.answerWindowS ?? 600;
    const checks: DutyCheck[] = [];
    for (const g of gateways) {
      const now = this.#clock();
      const check: DutyCheck = {
        id: newId('dc', now),
        county: g.county,
        institution: req.institution,
        gateway: g.gateway,
        requestedAt: now,
        requestedBy: req.requestedBy,
        source: req.source ?? 'operator',
        answerWindowS: windowS,
        status: 'pending',
      };
      await this.#o.db.insertInto('duty_checks').values(toRow(check)).execute();
      checks.push(check);
    }
    const done = Promise.all(checks.map((c) => this.#track(c)));
    return { checks, done };
  }

  /** Checks, newest first. */
  async list(q: { institution?: string; from?: number; to?: number; limit?: number } = {}): Promise<DutyCheck[]> {
    const rows = await this.#o.db
      .selectFrom('duty_checks')
      .selectAll()
      .$if(q.institution !== undefined, (b) => b.where('institution_id', '=', q.institution ?? ''))
      .$if(q.from !== undefined, (b) => b.where('requested_at', '>=', q.from ?? 0))
      .$if(q.to !== undefined, (b) => b.where('requested_at', '<', q.to ?? 0))
      .orderBy('requested_at', 'desc')
      .limit(q.limit ?? 500)
      .execute();
    return rows.map(fromRow);
  }

  #track(check: DutyCheck): Promise<DutyCheck> {
    const p = this.#run(check).finally(() => this.#running.delete(p));
    this.#running.add(p);
    return p;
  }

  async #run(check: DutyCheck): Promise<DutyCheck> {
    const target = { county: check.county, institution: check.institution, gateway: check.gateway };
    let reply: CommandReplyPayload | undefined;
    let error: string | undefined;
    try {
      reply = await this.#o.commands.send(
        target,
        'duty-check',
        { answerWindowS: check.answerWindowS },
        { timeoutMs: check.answerWindowS * 1000 + (this.#o.replyGraceMs ?? 30_000) },
      );
    } catch (err) {
      error = (err as Error).message;
    }
    const done = outcomeOf(check, reply, error, this.#clock());
    await this.#o.db
      .updateTable('duty_checks')
      .set({
        status: done.status,
        answered_at: done.answeredAt ?? null,
        operator: done.operator ?? null,
        completed_at: done.completedAt ?? null,
        detail: done.detail ?? null,
      })
      .where('id', '=', check.id)
      .execute();
    this.#log.info(
      { id: check.id, gateway: check.gateway, status: done.status, detail: done.detail },
      'duty check done',
    );
    this.#alert(done);
    return done;
  }

  #alert(c: DutyCheck): void {
    if (c.status === 'pending' || c.status === 'not_applicable') return;
    const subject: GatewaySubject = {
      type: 'gateway',
      county: c.county,
      institution: c.institution,
      gateway: c.gateway,
    };
    const base = {
      key: alertKey(DUTY_CHECK_RULE, subject),
      rule: DUTY_CHECK_RULE,
      name: DUTY_CHECK_NAME,
      severity: this.#o.severity ?? 'major',
      resolve: 'auto' as const,
      // An unanswered duty check is not a fire alarm: a maintenance silence may cover it.
      fireRule: false,
      subject,
      at: c.completedAt ?? this.#clock(),
    };
    if (c.status === 'answered') {
      this.#o.raise({
        ...base,
        type: 'clear',
        reason: `查岗已应答${c.operator === undefined ? '' : `（操作员 ${c.operator}）`}`,
      });
      return;
    }
    const why = c.status === 'unanswered' ? `消防控制室 ${c.answerWindowS} 秒内未应答查岗` : '查岗未能送达消防控制室';
    // The reason is read by people: the gateway's own words when they are Chinese; a technical
    // detail (`no reply`, an error code) stays in duty_checks for whoever investigates.
    const said = c.detail !== undefined && /[\u4e00-\u9fff]/.test(c.detail) ? `：${c.detail}` : '';
    this.#o.raise({ ...base, type: 'raise', reason: `${why}${said}`.slice(0, 500) });
  }

  async #scheduled(institutions: readonly string[]): Promise<void> {
    try {
      const list =
        institutions.length > 0
          ? institutions
          : (await this.#o.db.selectFrom('institutions').select('id').execute()).map((r) => r.id);
      const owns = this.#o.owns ?? (() => true);
      for (const institution of list) {
        if (!owns(institution)) continue;
        await this.request({ institution, requestedBy: 'schedule', source: 'schedule' }).catch((err: unknown) =>
          this.#log.warn({ institution, err: (err as Error).message }, 'scheduled duty check not sent'),
        );
      }
    } catch (err) {
      this.#log.error({ err }, 'scheduled duty checks failed');
    }
  }
}

/** What the gateway's reply (or its absence) says about a check. */
function outcomeOf(
  check: DutyCheck,
  reply: CommandReplyPayload | undefined,
  error: string | undefined,
  now: number,
): DutyCheck {
  const done: DutyCheck = { ...check, completedAt: now };
  if (!reply) return { ...done, status: 'unreachable', detail: error ?? 'no reply' };
  const detail = reply.detail;
  if (detail !== undefined) done.detail = detail;
  const checks = Array.isArray(reply.result?.checks) ? (reply.result.checks as Record<string, unknown>[]) : [];
  if (!reply.ok) {
    // A gateway without a fire panel adapter: nothing to check there, not a failed check.
    return { ...done, status: /no fire panel/i.test(detail ?? '') ? 'not_applicable' : 'unreachable' };
  }
  if (reply.result?.answered === true) {
    const first = checks.find((c) => c.answered === true);
    if (typeof first?.answeredAt === 'number') done.answeredAt = first.answeredAt;
    if (typeof first?.operator === 'number') done.operator = first.operator;
    return { ...done, status: 'answered' };
  }
  return { ...done, status: 'unanswered' };
}

function toRow(c: DutyCheck): DutyChecksTable {
  return {
    id: c.id,
    county_id: c.county,
    institution_id: c.institution,
    gateway_id: c.gateway,
    requested_at: c.requestedAt,
    requested_by: c.requestedBy,
    source: c.source,
    answer_window_s: c.answerWindowS,
    status: c.status,
    answered_at: c.answeredAt ?? null,
    operator: c.operator ?? null,
    completed_at: c.completedAt ?? null,
    detail: c.detail ?? null,
  };
}

function fromRow(r: DutyChecksTable): DutyCheck {
  const c: DutyCheck = {
    id: r.id,
    county: r.county_id,
    institution: r.institution_id,
    gateway: r.gateway_id,
    requestedAt: Number(r.requested_at),
    requestedBy: r.requested_by,
    source: r.source === 'schedule' ? 'schedule' : 'operator',
    answerWindowS: r.answer_window_s,
    status: r.status as DutyCheckStatus,
  };
  if (r.answered_at !== null) c.answeredAt = Number(r.answered_at);
  if (r.operator !== null) c.operator = r.operator;
  if (r.completed_at !== null) c.completedAt = Number(r.completed_at);
  if (r.detail !== null) c.detail = r.detail;
  return c;
}
