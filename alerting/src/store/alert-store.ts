import type { Kysely, Selectable } from 'kysely';
import type { Drill, DrillGatewayCommand, DrillRecipients } from '../drills/drill.js';
import { EscalationPolicy } from '../escalation/escalation-policy.js';
import type { Alert, AlertStatus, AlertTransition } from '../lifecycle/alert.js';
import type { DeliveryRecord } from '../notify/delivery-log.js';
import type { Silence } from '../silences/silence.js';
import type { AlertingDatabase, AlertsTable } from './alerting-schema.js';

/** Filter of `AlertStore.list`; times are `opened_at` bounds in epoch ms. */
export interface AlertFilter {
  institution?: string | undefined;
  institutions?: readonly string[] | undefined;
  status?: readonly AlertStatus[] | undefined;
  severity?: readonly string[] | undefined;
  /** What a person found (GB 25201); alerts not verified yet have none. */
  verdict?: readonly string[] | undefined;
  kind?: string | undefined;
  rule?: string | undefined;
  drill?: boolean | undefined;
  drillId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  limit?: number | undefined;
  /** Page after this alert id (ids sort by opening time). */
  before?: string | undefined;
}

/** One alert's pending write: its latest state, and the transitions since the last write. */
export interface AlertWrite {
  alert: Alert;
  insert: boolean;
  transitions: AlertTransition[];
}

/** A contact to notify, from the registry's `contacts` table. */
export interface ContactRow {
  institution: string;
  id: string;
  name: string;
  role: string;
  phone: string;
  wecomUserId?: string;
  dingtalkUserId?: string;
}

/**
 * Alerting's reads and writes against the operational store. No caching, no ordering: the
 * service keeps open alerts in memory and serialises its writes (`SerialWriter`).
 */
export class AlertStore {
  constructor(private readonly db: Kysely<AlertingDatabase>) {}

  /**
   * Writes a batch of changes in one transaction, in order: each alert's row (inserted when new,
   * else updated to its latest state) and its transitions.
   *
   * Idempotent, so that a batch can be written again: a commit can reach PostgreSQL while the
   * connection breaks before its answer (a fast shutdown, issue 12), and the writer then retries
   * a batch that is already stored. An insert whose row is there is an update, a transition
   * already there is kept.
   */
  async writeChanges(changes: readonly AlertWrite[], now: number): Promise<{ duplicates: string[] }> {
    const duplicates: string[] = [];
    if (changes.length === 0) return { duplicates };
    await this.db.transaction().execute(async (trx) => {
      for (const c of changes) {
        const row = toRow(c.alert, now);
        const insert =
          c.insert &&
          (await trx.selectFrom('alerts').select('id').where('id', '=', row.id).executeTakeFirst()) === undefined;
        if (insert) {
          // One open alert per key, whatever the nodes do (issue 12): if another node's alert for
          // this key is already open, this one is not stored — the open one stands.
          const r = await trx
            .insertInto('alerts')
            .values(row)
            .onConflict((oc) => oc.column('open_key').doNothing())
            .executeTakeFirst();
          if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 0) {
            duplicates.push(c.alert.id);
            continue;
          }
        } else {
          const { id, ...rest } = row;
          const u = await trx.updateTable('alerts').set(rest).where('id', '=', id).executeTakeFirst();
          // An alert that was never stored (another node's stood for its key): nothing to update.
          if (Number(u.numUpdatedRows) === 0) {
            duplicates.push(id);
            continue;
          }
        }
        for (const t of c.transitions) {
          await trx
            .insertInto('alert_transitions')
            .values(transitionRow(t))
            .onConflict((oc) => oc.columns(['alert_id', 'seq']).doNothing())
            .execute();
        }
      }
    });
    return { duplicates };
  }

  async openAlerts(): Promise<Alert[]> {
    const rows = await this.db.selectFrom('alerts').selectAll().where('status', '!=', 'closed').execute();
    return rows.map(fromRow);
  }

  /** The open alert of a key, if any. */
  async openByKey(key: string): Promise<Alert | undefined> {
    const row = await this.db.selectFrom('alerts').selectAll().where('open_key', '=', key).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async get(id: string): Promise<Alert | undefined> {
    const row = await this.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async transitions(alertId: string): Promise<AlertTransition[]> {
    const rows = await this.db
      .selectFrom('alert_transitions')
      .selectAll()
      .where('alert_id', '=', alertId)
      .orderBy('seq')
      .execute();
    return rows.map((r) => {
      const t: AlertTransition = {
        alertId: r.alert_id,
        seq: r.seq,
        at: r.at,
        from: r.from_status as AlertStatus | null,
        to: r.to_status as AlertStatus,
        actor: r.actor,
      };
      if (r.note !== null) t.note = r.note;
      if (r.verdict !== null) t.verdict = r.verdict as NonNullable<AlertTransition['verdict']>;
      return t;
    });
  }

  /** The last transition number of each alert not closed: where a restarted service continues. */
  async openTransitionSeqs(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('alert_transitions')
      .innerJoin('alerts', 'alerts.id', 'alert_transitions.alert_id')
      .select(['alert_transitions.alert_id as id', (eb) => eb.fn.max('alert_transitions.seq').as('seq')])
      .where('alerts.status', '!=', 'closed')
      .groupBy('alert_transitions.alert_id')
      .execute();
    return new Map(rows.map((r) => [r.id, Number(r.seq)]));
  }

  /**
   * The latest alert of each key (by opening time): whether the condition a standby saw was
   * raised and is still open, or a person closed it after. Keys without an alert are absent.
   */
  async latestByKeys(keys: readonly string[]): Promise<Map<string, { status: string; closedAt?: number }>> {
    const out = new Map<string, { status: string; closedAt?: number; openedAt: number }>();
    for (let i = 0; i < keys.length; i += 500) {
      const rows = await this.db
        .selectFrom('alerts')
        .select(['key', 'status', 'opened_at', 'closed_at'])
        .where('key', 'in', keys.slice(i, i + 500))
        .execute();
      for (const r of rows) {
        const prev = out.get(r.key);
        if (prev && prev.openedAt >= r.opened_at) continue;
        out.set(r.key, {
          status: r.status,
          openedAt: r.opened_at,
          ...(r.closed_at !== null ? { closedAt: r.closed_at } : {}),
        });
      }
    }
    return out;
  }

  async list(filter: AlertFilter): Promise<Alert[]> {
    // A simulation run's records are history for its reports, never live alerts.
    let q = this.db.selectFrom('alerts').selectAll().where('sim_run', 'is', null);
    if (filter.institution !== undefined) q = q.where('institution_id', '=', filter.institution);
    if (filter.institutions !== undefined) {
      if (filter.institutions.length === 0) return [];
      q = q.where('institution_id', 'in', [...filter.institutions]);
    }
    if (filter.status?.length) q = q.where('status', 'in', [...filter.status]);
    if (filter.severity?.length) q = q.where('severity', 'in', [...filter.severity]);
    if (filter.verdict?.length) q = q.where('verdict', 'in', [...filter.verdict]);
    // Gateway alerts (offline, institution blind) have no device kind.
    if (filter.kind === 'gateway') q = q.where('device_kind', 'is', null);
    else if (filter.kind !== undefined) q = q.where('device_kind', '=', filter.kind);
    if (filter.rule !== undefined) q = q.where('rule', '=', filter.rule);
    if (filter.drill !== undefined) q = q.where('drill_id', filter.drill ? 'is not' : 'is', null);
    if (filter.drillId !== undefined) q = q.where('drill_id', '=', filter.drillId);
    if (filter.from !== undefined) q = q.where('opened_at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('opened_at', '<', filter.to);
    if (filter.before !== undefined) q = q.where('id', '<', filter.before);
    const rows = await q
      .orderBy('id', 'desc')
      .limit(Math.min(filter.limit ?? 100, 1000))
      .execute();
    return rows.map(fromRow);
  }

  /** Alerts opened since `since` and the mean seconds to acknowledge those acknowledged. */
  async openedSince(since: number, county?: string): Promise<{ opened: number; meanToAcknowledgeS?: number }> {
    let q = this.db
      .selectFrom('alerts')
      .select((eb) => [
        eb.fn.countAll<number>().as('n'),
        eb.fn.avg<number>(eb('acknowledged_at', '-', eb.ref('opened_at'))).as('ack_ms'),
      ])
      .where('opened_at', '>=', since)
      .where('drill_id', 'is', null)
      .where('sim_run', 'is', null);
    if (county !== undefined) q = q.where('county_id', '=', county);
    const row = await q.executeTakeFirst();
    const out: { opened: number; meanToAcknowledgeS?: number } = { opened: Number(row?.n ?? 0) };
    if (row?.ack_ms !== null && row?.ack_ms !== undefined)
      out.meanToAcknowledgeS = Math.round(Number(row.ack_ms) / 100) / 10;
    return out;
  }

  // ——— escalation policies ———

  async policies(): Promise<Map<string, EscalationPolicy>> {
    const rows = await this.db.selectFrom('escalation_policies').selectAll().execute();
    return new Map(rows.map((r) => [r.institution_id, EscalationPolicy.parse(JSON.parse(r.policy_json))]));
  }

  async setPolicy(institution: string, policy: EscalationPolicy, author: string, now: number): Promise<void> {
    const row = {
      institution_id: institution,
      policy_json: JSON.stringify(policy),
      updated_at: now,
      updated_by: author,
    };
    await this.db
      .insertInto('escalation_policies')
      .values(row)
      .onConflict((oc) =>
        oc.column('institution_id').doUpdateSet({ policy_json: row.policy_json, updated_at: now, updated_by: author }),
      )
      .execute();
  }

  async deletePolicy(institution: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('escalation_policies')
      .where('institution_id', '=', institution)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // ——— silences ———

  async insertSilence(s: Silence): Promise<void> {
    await this.db
      .insertInto('silences')
      .values({
        id: s.id,
        institution_id: s.scope.institution ?? null,
        gateway_id: s.scope.gateway ?? null,
        device_id: s.scope.device ?? null,
        rule: s.scope.rule ?? null,
        starts_at: s.startsAt,
        ends_at: s.endsAt,
        reason: s.reason,
        author: s.author,
        created_at: s.createdAt,
        expired_at: s.expiredAt ?? null,
        expired_by: s.expiredBy ?? null,
      })
      .execute();
  }

  async expireSilence(id: string, at: number, by: string): Promise<boolean> {
    const r = await this.db
      .updateTable('silences')
      .set({ expired_at: at, expired_by: by })
      .where('id', '=', id)
      .where('expired_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Silences not yet over at `at` (active or future), or all when `includeOver`. */
  async silences(at: number, includeOver = false): Promise<Silence[]> {
    let q = this.db.selectFrom('silences').selectAll();
    if (!includeOver) q = q.where('ends_at', '>', at).where('expired_at', 'is', null);
    const rows = await q.orderBy('starts_at', 'desc').limit(1000).execute();
    return rows.map((r) => {
      const s: Silence = {
        id: r.id,
        scope: {
          ...(r.institution_id !== null ? { institution: r.institution_id } : {}),
          ...(r.gateway_id !== null ? { gateway: r.gateway_id } : {}),
          ...(r.device_id !== null ? { device: r.device_id } : {}),
          ...(r.rule !== null ? { rule: r.rule } : {}),
        },
        startsAt: r.starts_at,
        endsAt: r.ends_at,
        reason: r.reason,
        author: r.author,
        createdAt: r.created_at,
      };
      if (r.expired_at !== null) s.expiredAt = r.expired_at;
      if (r.expired_by !== null) s.expiredBy = r.expired_by;
      return s;
    });
  }

  // ——— drills ———

  async insertDrill(d: Drill): Promise<void> {
    await this.db
      .insertInto('drills')
      .values({
        id: d.id,
        name: d.name,
        institutions_json: JSON.stringify(d.institutions),
        starts_at: d.startsAt,
        ends_at: d.endsAt,
        recipients: d.recipients,
        author: d.author,
        created_at: d.createdAt,
        ended_at: d.endedAt ?? null,
        ended_by: d.endedBy ?? null,
        sim_run: null,
      })
      .execute();
  }

  async endDrill(id: string, at: number, by: string): Promise<boolean> {
    const r = await this.db
      .updateTable('drills')
      .set({ ended_at: at, ended_by: by })
      .where('id', '=', id)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async drills(): Promise<Drill[]> {
    const rows = await this.db
      .selectFrom('drills')
      .selectAll()
      .where('sim_run', 'is', null)
      .orderBy('starts_at', 'desc')
      .limit(1000)
      .execute();
    return rows.map((r) => {
      const d: Drill = {
        id: r.id,
        name: r.name,
        institutions: JSON.parse(r.institutions_json) as string[],
        startsAt: r.starts_at,
        endsAt: r.ends_at,
        recipients: r.recipients as DrillRecipients,
        author: r.author,
        createdAt: r.created_at,
      };
      if (r.ended_at !== null) d.endedAt = r.ended_at;
      if (r.ended_by !== null) d.endedBy = r.ended_by;
      return d;
    });
  }

  /** Records what a gateway answered to a drill's start or stop (the latest answer per command). */
  async recordDrillGateway(drillId: string, g: DrillGatewayCommand): Promise<void> {
    const row = {
      drill_id: drillId,
      gateway_id: g.gateway,
      institution_id: g.institution,
      command: g.command,
      state: g.state,
      detail: g.detail ?? null,
      at: g.at,
    };
    await this.db
      .insertInto('drill_gateways')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['drill_id', 'gateway_id', 'command'])
          .doUpdateSet({ state: row.state, detail: row.detail, at: row.at }),
      )
      .execute();
  }

  /** Every drill's gateway answers, by drill id. */
  async drillGateways(): Promise<Map<string, DrillGatewayCommand[]>> {
    const rows = await this.db.selectFrom('drill_gateways').selectAll().orderBy('gateway_id').execute();
    const out = new Map<string, DrillGatewayCommand[]>();
    for (const r of rows) {
      const list = out.get(r.drill_id) ?? [];
      const g: DrillGatewayCommand = {
        gateway: r.gateway_id,
        institution: r.institution_id,
        command: r.command as DrillGatewayCommand['command'],
        state: r.state as DrillGatewayCommand['state'],
        at: r.at,
      };
      if (r.detail !== null) g.detail = r.detail;
      list.push(g);
      out.set(r.drill_id, list);
    }
    return out;
  }

  // ——— deliveries ———

  async recordDelivery(r: DeliveryRecord): Promise<void> {
    await this.db
      .insertInto('alert_deliveries')
      .values({
        delivery_id: r.deliveryId,
        attempt: r.attempt,
        status: r.status,
        notification_id: r.notificationId,
        alert_id: r.alertId,
        channel_id: r.channelId,
        channel_type: r.channelType,
        contact_id: r.contactId ?? null,
        at: r.at,
        error: r.error ?? null,
        receipt: r.receipt ?? null,
        latency_ms: r.latencyMs ?? null,
      })
      // A record written twice (a retried store write) is the same record.
      .onConflict((oc) => oc.columns(['delivery_id', 'attempt', 'status']).doNothing())
      .execute();
  }

  async deliveries(alertId: string): Promise<DeliveryRecord[]> {
    const rows = await this.db
      .selectFrom('alert_deliveries')
      .selectAll()
      .where('alert_id', '=', alertId)
      .orderBy('at')
      .orderBy('attempt')
      .execute();
    return rows.map((r) => {
      const d: DeliveryRecord = {
        deliveryId: r.delivery_id,
        notificationId: r.notification_id,
        alertId: r.alert_id,
        channelId: r.channel_id,
        channelType: r.channel_type as DeliveryRecord['channelType'],
        attempt: r.attempt,
        status: r.status as DeliveryRecord['status'],
        at: r.at,
      };
      if (r.contact_id !== null) d.contactId = r.contact_id;
      if (r.error !== null) d.error = r.error;
      if (r.receipt !== null) d.receipt = r.receipt;
      if (r.latency_ms !== null) d.latencyMs = r.latency_ms;
      return d;
    });
  }

  /** Delivery ids already sent for an alert: a restarted service does not send them again. */
  async sentDeliveryIds(alertId: string): Promise<Set<string>> {
    const rows = await this.db
      .selectFrom('alert_deliveries')
      .select('delivery_id')
      .where('alert_id', '=', alertId)
      .where('status', '=', 'sent')
      .execute();
    return new Set(rows.map((r) => r.delivery_id));
  }

  // ——— engine state ———

  /** Saves a state document; a string is taken as already-serialised JSON. */
  async saveState(name: string, state: unknown, now: number): Promise<void> {
    const json = typeof state === 'string' ? state : JSON.stringify(state);
    await this.db
      .insertInto('alerting_state')
      .values({ name, state_json: json, updated_at: now })
      .onConflict((oc) => oc.column('name').doUpdateSet({ state_json: json, updated_at: now }))
      .execute();
  }

  async loadState(name: string): Promise<unknown> {
    const row = await this.db
      .selectFrom('alerting_state')
      .select('state_json')
      .where('name', '=', name)
      .executeTakeFirst();
    return row ? (JSON.parse(row.state_json) as unknown) : undefined;
  }
}

function toRow(a: Alert, now: number): AlertsTable {
  return {
    id: a.id,
    key: a.key,
    open_key: a.status === 'closed' ? null : a.key,
    rule: a.rule,
    name_zh: a.name.zh,
    name_en: a.name.en,
    severity: a.severity,
    resolve: a.resolve,
    status: a.status,
    verdict: a.verdict ?? null,
    drill_id: a.drillId ?? null,
    silence_id: a.silenceId ?? null,
    device_disabled: a.deviceDisabled ? 1 : null,
    during_drill_id: a.duringDrillId ?? null,
    county_id: a.county,
    institution_id: a.institution,
    gateway_id: a.gateway,
    device_id: a.device ?? null,
    device_kind: a.deviceKind ?? null,
    value: a.value ?? null,
    reason: a.reason,
    occurrences: a.occurrences,
    opened_at: a.openedAt,
    last_seen_at: a.lastSeenAt,
    cleared_at: a.clearedAt ?? null,
    acknowledged_at: a.acknowledgedAt ?? null,
    acknowledged_by: a.acknowledgedBy ?? null,
    verified_at: a.verifiedAt ?? null,
    verified_by: a.verifiedBy ?? null,
    closed_at: a.closedAt ?? null,
    closed_by: a.closedBy ?? null,
    escalation_level: a.escalation.level,
    escalation_round: a.escalation.round,
    escalation_state: a.escalation.state,
    escalation_next_at: a.escalation.nextAt ?? null,
    updated_at: now,
    // The service raises live alerts only; a simulation run's records are written by its history.
    sim_run: null,
  };
}

function fromRow(r: Selectable<AlertsTable>): Alert {
  const a: Alert = {
    id: r.id,
    key: r.key,
    rule: r.rule,
    name: { zh: r.name_zh, en: r.name_en },
    severity: r.severity as Alert['severity'],
    resolve: r.resolve as Alert['resolve'],
    status: r.status as Alert['status'],
    drill: r.drill_id !== null,
    silenced: r.silence_id !== null,
    county: r.county_id,
    institution: r.institution_id,
    gateway: r.gateway_id,
    reason: r.reason,
    occurrences: r.occurrences,
    openedAt: r.opened_at,
    lastSeenAt: r.last_seen_at,
    escalation: {
      level: r.escalation_level,
      round: r.escalation_round,
      state: r.escalation_state as Alert['escalation']['state'],
    },
  };
  if (r.verdict !== null) a.verdict = r.verdict as NonNullable<Alert['verdict']>;
  if (r.drill_id !== null) a.drillId = r.drill_id;
  if (r.silence_id !== null) a.silenceId = r.silence_id;
  if (r.device_disabled) a.deviceDisabled = true;
  if (r.during_drill_id !== null) a.duringDrillId = r.during_drill_id;
  if (r.device_id !== null) a.device = r.device_id;
  if (r.device_kind !== null) a.deviceKind = r.device_kind as NonNullable<Alert['deviceKind']>;
  if (r.value !== null) a.value = r.value;
  if (r.cleared_at !== null) a.clearedAt = r.cleared_at;
  if (r.acknowledged_at !== null) a.acknowledgedAt = r.acknowledged_at;
  if (r.acknowledged_by !== null) a.acknowledgedBy = r.acknowledged_by;
  if (r.verified_at !== null) a.verifiedAt = r.verified_at;
  if (r.verified_by !== null) a.verifiedBy = r.verified_by;
  if (r.closed_at !== null) a.closedAt = r.closed_at;
  if (r.closed_by !== null) a.closedBy = r.closed_by;
  if (r.escalation_next_at !== null) a.escalation.nextAt = r.escalation_next_at;
  return a;
}

function transitionRow(t: AlertTransition) {
  return {
    alert_id: t.alertId,
    seq: t.seq,
    at: t.at,
    from_status: t.from,
    to_status: t.to,
    actor: t.actor,
    note: t.note ?? null,
    verdict: t.verdict ?? null,
  };
}
