import { generateHistory, recordHistory } from '@anlian/device-simulators';
import type { IngestConfig } from '@anlian/ingest';
import type { CountyConfig } from '@anlian/protocol';
import type { Database } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';

const DAY = 86_400_000;

/**
 * The demo county's month of history (issue 17): generated once, on the first `anlian up --demo`,
 * from the simulator's seed, for the 30 days before that start — sim_run-tagged InfluxDB points
 * and store records (alerts with verdicts and transitions, pushes, drills) that live views leave
 * out and a report can be asked for. Later starts find the run and reuse it. Returns its id.
 */
export async function ensureDemoHistory(o: {
  db: Kysely<Database>;
  county: CountyConfig;
  seed: number;
  influx: IngestConfig['influx'];
  logger: Logger;
  now?: number;
}): Promise<{ runId: string; created: boolean; alerts: number; lines: number }> {
  const existing = await o.db
    .selectFrom('sim_runs')
    .select(['id'])
    .where('county_id', '=', o.county.county.id)
    .where('kind', '=', 'history')
    .where('completed_at', 'is not', null)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  if (existing) return { runId: existing.id, created: false, alerts: 0, lines: 0 };
  const now = o.now ?? Date.now();
  const toMs = Math.floor(now / 60_000) * 60_000;
  const day = new Date(toMs).toISOString().slice(0, 10).replaceAll('-', '');
  const runId = `demo-history-${day}-s${o.seed}`;
  const history = generateHistory({
    county: o.county,
    runId,
    seed: o.seed,
    fromMs: toMs - 30 * DAY,
    toMs,
    description: `${o.county.county.name}演示历史：首次启动前30天，种子 ${o.seed}`,
  });
  const t = o.influx.target;
  const headers: Record<string, string> = {};
  if (t.token) headers.authorization = `${t.generation === 3 ? 'Bearer' : 'Token'} ${t.token}`;
  else if (t.username)
    headers.authorization = `Basic ${Buffer.from(`${t.username}:${t.password ?? ''}`).toString('base64')}`;
  const r = await recordHistory({
    history,
    db: o.db,
    influx: {
      url: t.url,
      database: t.database,
      ...(o.influx.eventsRetentionPolicy ? { eventsRp: o.influx.eventsRetentionPolicy } : { eventsRp: '' }),
      headers,
    },
    now,
  });
  o.logger.info({ run: runId, alerts: r.alerts, lines: r.lines }, 'demo history written');
  return { runId, created: true, alerts: r.alerts, lines: r.lines };
}
