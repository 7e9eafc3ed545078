import type { Kysely } from 'kysely';
import type { PolicyLine } from './history-lines.js';
import type { HistoryAlert, SimulatedHistory } from './history-model.js';

/**
 * The store records of a history, written into alerting's tables (alerts, alert_transitions,
 * alert_deliveries, drills; `sim_run` = the run) and the store's `sim_runs` — a write model of
 * our own over the shared store, as the reports read it with theirs. Portable SQL (SQLite,
 * PostgreSQL) through kysely.
 */
interface HistoryTables {
  sim_runs: {
    id: string;
    county_id: string;
    kind: string;
    seed: number;
    starts_at: number;
    ends_at: number;
    description: string;
    completed_at: number | null;
    created_at: number;
  };
  alerts: Record<string, string | number | null>;
  alert_transitions: Record<string, string | number | null>;
  alert_deliveries: Record<string, string | number | null>;
  drills: Record<string, string | number | null>;
}

export type HistoryRunState = 'absent' | 'incomplete' | 'complete';

/** Whether the run is in the store: a run whose writing was interrupted is `incomplete`. */
export async function historyRunState<DB>(db: Kysely<DB>, runId: string): Promise<HistoryRunState> {
  const row = await (db as unknown as Kysely<HistoryTables>)
    .selectFrom('sim_runs')
    .select(['completed_at'])
    .where('id', '=', runId)
    .executeTakeFirst();
  return row === undefined ? 'absent' : row.completed_at === null ? 'incomplete' : 'complete';
}

function alertRow(h: SimulatedHistory, a: HistoryAlert): Record<string, string | number | null> {
  return {
    id: a.id,
    key: a.key,
    open_key: null,
    rule: a.rule,
    name_zh: a.nameZh,
    name_en: a.nameEn,
    severity: a.severity,
    resolve: a.resolve,
    status: 'closed',
    verdict: a.verdict ?? null,
    drill_id: a.drillId ?? null,
    silence_id: null,
    county_id: h.county.county.id,
    institution_id: a.institution,
    gateway_id: a.gateway,
    device_id: a.device ?? null,
    device_kind: a.deviceKind ?? null,
    value: null,
    reason: a.reason,
    occurrences: 1,
    opened_at: a.openedAt,
    last_seen_at: a.openedAt,
    cleared_at: a.clearedAt ?? null,
    acknowledged_at: a.acknowledgedAt ?? null,
    acknowledged_by: a.acknowledgedBy ?? null,
    verified_at: a.verifiedAt ?? null,
    verified_by: a.verifiedBy ?? null,
    closed_at: a.closedAt,
    closed_by: a.closedBy,
    escalation_level: a.escalationLevel,
    escalation_round: 0,
    escalation_state: 'done',
    escalation_next_at: null,
    updated_at: a.closedAt,
    sim_run: h.runId,
  };
}

async function insertChunks(
  db: Kysely<HistoryTables>,
  table: 'alerts' | 'alert_transitions' | 'alert_deliveries' | 'drills',
  rows: readonly Record<string, string | number | null>[],
): Promise<void> {
  // ≤ 40 columns × 100 rows stays under SQLite's bound-parameter limit.
  for (let i = 0; i < rows.length; i += 100) {
    await db
      .insertInto(table)
      .values(rows.slice(i, i + 100) as never)
      .execute();
  }
}

/**
 * Writes the history's store records in one transaction, after removing an interrupted earlier
 * attempt of the same run. The run is marked complete last, so a reader that sees it complete
 * sees all of it. A complete run is left alone.
 */
export async function writeHistoryToStore<DB>(db: Kysely<DB>, h: SimulatedHistory, now: number): Promise<boolean> {
  const state = await historyRunState(db, h.runId);
  if (state === 'complete') return false;
  await (db as unknown as Kysely<HistoryTables>).transaction().execute(async (trx) => {
    if (state === 'incomplete') {
      const ids = trx.selectFrom('alerts').select('id').where('sim_run', '=', h.runId);
      await trx.deleteFrom('alert_deliveries').where('alert_id', 'in', ids).execute();
      await trx.deleteFrom('alert_transitions').where('alert_id', 'in', ids).execute();
      await trx.deleteFrom('alerts').where('sim_run', '=', h.runId).execute();
      await trx.deleteFrom('drills').where('sim_run', '=', h.runId).execute();
      await trx.deleteFrom('sim_runs').where('id', '=', h.runId).execute();
    }
    await trx
      .insertInto('sim_runs')
      .values({
        id: h.runId,
        county_id: h.county.county.id,
        kind: 'history',
        seed: h.seed,
        starts_at: h.fromMs,
        ends_at: h.toMs,
        description: h.description,
        completed_at: null,
        created_at: now,
      })
      .execute();
    await insertChunks(
      trx,
      'drills',
      h.drills.map((d) => ({
        id: d.id,
        name: d.name,
        institutions_json: JSON.stringify(d.institutions),
        starts_at: d.startsAt,
        ends_at: d.endsAt,
        recipients: 'marker',
        author: d.author,
        created_at: d.startsAt,
        ended_at: d.endsAt,
        ended_by: d.author,
        sim_run: h.runId,
      })),
    );
    await insertChunks(
      trx,
      'alerts',
      h.alerts.map((a) => alertRow(h, a)),
    );
    await insertChunks(
      trx,
      'alert_transitions',
      h.alerts.flatMap((a) =>
        a.transitions.map((t) => ({
          alert_id: a.id,
          seq: t.seq,
          at: t.at,
          from_status: t.from,
          to_status: t.to,
          actor: t.actor,
          note: null,
          verdict: t.verdict ?? null,
        })),
      ),
    );
    await insertChunks(
      trx,
      'alert_deliveries',
      h.alerts.flatMap((a) =>
        a.deliveries.map((d) => ({
          delivery_id: d.deliveryId,
          attempt: d.attempt,
          status: d.status,
          notification_id: d.notificationId,
          alert_id: a.id,
          channel_id: d.channelId,
          channel_type: d.channelType,
          contact_id: d.contactId ?? null,
          at: d.at,
          error: d.error ?? null,
          receipt: null,
          latency_ms: d.latencyMs ?? null,
        })),
      ),
    );
  });
  return true;
}

/** Marks the run complete once its InfluxDB points are written too. */
export async function completeHistoryRun<DB>(db: Kysely<DB>, runId: string, now: number): Promise<void> {
  await (db as unknown as Kysely<HistoryTables>)
    .updateTable('sim_runs')
    .set({ completed_at: now })
    .where('id', '=', runId)
    .execute();
}

export interface InfluxLineTarget {
  /** `http://host:8086`. */
  url: string;
  database: string;
  /** Retention policies (deploy/influxdb/README.md): events ≥ 1 year, raw 90 days. */
  eventsRp?: string;
  rawRp?: string;
  /** Authorization and the like. */
  headers?: Record<string, string>;
}

/**
 * Writes lines through InfluxDB's v1 `/write` (1.x, and the compatibility API of 2.x and 3.x)
 * in batches of 5,000, each to its retention policy. Returns the number of lines written.
 */
export async function writeHistoryLines(target: InfluxLineTarget, lines: Iterable<PolicyLine>): Promise<number> {
  const batches: Record<PolicyLine['rp'], string[]> = { events: [], raw: [] };
  let written = 0;
  const flush = async (rp: PolicyLine['rp']) => {
    const batch = batches[rp];
    if (batch.length === 0) return;
    batches[rp] = [];
    const url = new URL('/write', target.url);
    url.searchParams.set('db', target.database);
    const policy = rp === 'events' ? (target.eventsRp ?? 'events_1y') : target.rawRp;
    if (policy) url.searchParams.set('rp', policy);
    url.searchParams.set('precision', 'ms');
    const res = await fetch(url, { method: 'POST', body: batch.join('\n'), headers: target.headers ?? {} });
    if (!res.ok) throw new Error(`InfluxDB /write answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    written += batch.length;
  };
  for (const l of lines) {
    batches[l.rp].push(l.line);
    if (batches[l.rp].length >= 5000) await flush(l.rp);
  }
  await flush('events');
  await flush('raw');
  return written;
}
