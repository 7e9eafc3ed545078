import { migrateAlerting } from '@anlian/alerting';
import { CountyConfig } from '@anlian/protocol';
import { importCountyConfig, migrateToLatest, type OpenedDatabase, openDatabase } from '@anlian/store';
import { startPostgres, type TestPostgres } from '@anlian/testing';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeFigures } from '../src/figures/compute-figures.js';
import type { ReportFigures } from '../src/figures/report-figures.js';
import { resolvePeriod } from '../src/period.js';
import { type InfluxQuery, InfluxReader } from '../src/read/influx-reader.js';
import type { ReportReadDatabase } from '../src/read/report-tables.js';
import { StoreReader } from '../src/read/store-reader.js';
import { monthCounty } from './report-stack.js';

// The pushes section counts each delivery once, by its last record in the period; the store
// counts it (StoreReader.deliveryOutcomes, window functions). Here the figures are checked against
// that definition computed from the raw records in JS, on SQLite and PostgreSQL, over records
// that tie in time and attempt, were only skipped, were retried, or lie outside the period.

const NOW = Date.UTC(2026, 11, 2);
const PERIOD = resolvePeriod({ month: '2026-11' }, 'Asia/Shanghai', NOW);
const RUN = 'run-1';
const noInflux: InfluxQuery = async (q) => q.split(';').map(() => ({ series: [] }));

interface Rec {
  delivery_id: string;
  attempt: number;
  status: string;
  alert_id: string;
  channel_type: string;
  at: number;
}

/** A deterministic month of delivery records over three alerts (two live in two institutions, one of the run). */
function records(): Rec[] {
  let seed = 17;
  const rnd = (n: number) => {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
    return Math.floor((seed / 2 ** 31) * n); // the high bits: an LCG's low bits cycle
  };
  const statuses = ['skipped', 'retrying', 'failed', 'gave_up', 'sent'];
  const channels = ['sms', 'wecom', 'stream', 'voice'];
  const out: Rec[] = [];
  for (let i = 0; i < 400; i++) {
    const alert = ['a-live-1', 'a-live-2', 'a-run-1'][i % 3] as string;
    const channel = channels[rnd(channels.length)] as string;
    // Some deliveries start before the period or end after it.
    const start = PERIOD.fromMs - 3_600_000 + rnd(PERIOD.toMs - PERIOD.fromMs + 7_200_000);
    const seen = new Set<string>();
    for (let r = 0, n = 1 + rnd(4); r < n; r++) {
      const attempt = rnd(3);
      const status = statuses[rnd(statuses.length)] as string;
      if (seen.has(`${attempt}/${status}`)) continue; // the table's key
      seen.add(`${attempt}/${status}`);
      // Records of one delivery often share a millisecond (a retry scheduled and failed at once).
      out.push({
        delivery_id: `d-${i}`,
        attempt,
        status,
        alert_id: alert,
        channel_type: channel,
        at: start + rnd(3) * 1000,
      });
    }
  }
  return out;
}

/** The pushes figures by their definition, from the raw records (a stable sort's last record). */
function expectedPushes(recs: readonly Rec[], alerts: ReadonlySet<string>): ReportFigures['pushes'] {
  const order: Record<string, number> = { skipped: 0, retrying: 1, failed: 2, gave_up: 2, sent: 3 };
  const byDelivery = new Map<string, Rec[]>();
  for (const r of recs) {
    if (!alerts.has(r.alert_id) || r.at < PERIOD.fromMs || r.at >= PERIOD.toMs) continue;
    byDelivery.set(r.delivery_id, [...(byDelivery.get(r.delivery_id) ?? []), r]);
  }
  const byChannel = new Map<string, ReportFigures['pushes']['byChannel'][number]>();
  for (const list of byDelivery.values()) {
    const type = list[0]?.channel_type ?? '';
    const acc = byChannel.get(type) ?? {
      channelType: type,
      deliveries: 0,
      sent: 0,
      failed: 0,
      pending: 0,
      attempts: 0,
      skipped: 0,
    };
    byChannel.set(type, acc);
    const last = [...list]
      .sort((a, b) => a.at - b.at || a.attempt - b.attempt || (order[a.status] ?? 0) - (order[b.status] ?? 0))
      .at(-1);
    acc.attempts += list.filter((r) => r.attempt > 0 && r.status !== 'skipped').length;
    if (last?.status === 'skipped') acc.skipped++;
    else {
      acc.deliveries++;
      if (last?.status === 'sent') acc.sent++;
      else if (last?.status === 'retrying') acc.pending++;
      else acc.failed++;
    }
  }
  return { byChannel: [...byChannel.values()].sort((a, b) => a.channelType.localeCompare(b.channelType)) };
}

function deliveriesSuite(name: string, open: () => Promise<{ store: OpenedDatabase; dispose(): Promise<void> }>) {
  describe(`pushes counted by each delivery's last record, on ${name}`, () => {
    let store: OpenedDatabase;
    let dispose: () => Promise<void>;
    const recs = records();

    beforeAll(async () => {
      ({ store, dispose } = await open());
      await migrateToLatest(store.db);
      await migrateAlerting(store.db);
      await importCountyConfig(store.db, CountyConfig.parse(monthCounty()), { now: Date.UTC(2026, 9, 1) });
      const db = store.db as unknown as Kysely<ReportReadDatabase & { sim_runs: Record<string, unknown> }>;
      await db
        .insertInto('sim_runs')
        .values({
          id: RUN,
          county_id: 'simcounty',
          kind: 'history',
          seed: 1,
          starts_at: PERIOD.fromMs,
          ends_at: PERIOD.toMs,
          description: 'test',
          completed_at: PERIOD.toMs,
          created_at: PERIOD.fromMs,
        })
        .execute();
      for (const [id, inst, run] of [
        ['a-live-1', 'inst-a', null],
        ['a-live-2', 'inst-b', null],
        ['a-run-1', 'inst-a', RUN],
      ] as const) {
        await db
          .insertInto('alerts')
          .values({
            ...{
              id,
              rule: 'fire-alarm',
              severity: 'critical',
              status: 'closed',
              verdict: 'false_alarm',
              drill_id: null,
            },
            ...{ county_id: 'simcounty', institution_id: inst, gateway_id: `gw-${inst}`, device_id: 'smk-101' },
            ...{ device_kind: 'fire', opened_at: PERIOD.fromMs - 7_200_000, cleared_at: null, acknowledged_at: null },
            ...{ verified_at: null, closed_at: null, escalation_level: 0, sim_run: run },
            ...{ key: id, open_key: null, name_zh: '火灾报警', name_en: 'Fire alarm', resolve: 'manual' },
            ...{ silence_id: null, value: null, reason: 'x', occurrences: 1, last_seen_at: PERIOD.fromMs },
            ...{ acknowledged_by: null, verified_by: null, closed_by: null, escalation_round: 0 },
            ...{ escalation_state: 'done', escalation_next_at: null, updated_at: PERIOD.fromMs },
          } as never)
          .execute();
      }
      for (let i = 0; i < recs.length; i += 100) {
        await db
          .insertInto('alert_deliveries')
          .values(
            recs.slice(i, i + 100).map((r) => ({
              ...r,
              notification_id: `n-${r.delivery_id}`,
              channel_id: `ch-${r.channel_type}`,
              contact_id: null,
            })) as never,
          )
          .execute();
      }
    });
    afterAll(async () => {
      await dispose?.();
    });

    const figures = (source: { kind: 'live' } | { kind: 'simulation'; runId: string }, institution?: string) =>
      computeFigures(
        {
          store: new StoreReader(store.db as unknown as Kysely<ReportReadDatabase>),
          influx: new InfluxReader(noInflux),
        },
        { county: 'simcounty', institution, period: PERIOD, source, now: NOW },
      );

    it('equal the last-record count of the raw records: live, one institution, a simulation run', async () => {
      const live = await figures({ kind: 'live' });
      expect(live.pushes).toEqual(expectedPushes(recs, new Set(['a-live-1', 'a-live-2'])));
      expect(live.pushes.byChannel.map((c) => c.channelType)).toEqual(['sms', 'stream', 'voice', 'wecom']);
      // Every kind of outcome occurs, so that each is checked.
      for (const k of ['sent', 'failed', 'pending', 'skipped', 'attempts'] as const)
        expect(
          live.pushes.byChannel.some((c) => c[k] > 0),
          k,
        ).toBe(true);
      expect((await figures({ kind: 'live' }, 'inst-b')).pushes).toEqual(expectedPushes(recs, new Set(['a-live-2'])));
      expect((await figures({ kind: 'simulation', runId: RUN })).pushes).toEqual(
        expectedPushes(recs, new Set(['a-run-1'])),
      );
    });
  });
}

deliveriesSuite('SQLite', async () => {
  const store = openDatabase({ sqlitePath: ':memory:' });
  return { store, dispose: () => store.close() };
});

let pg: TestPostgres | undefined;
deliveriesSuite('PostgreSQL', async () => {
  pg = await startPostgres();
  const store = openDatabase({ url: pg.url });
  return {
    store,
    dispose: async () => {
      await store.close();
      await pg?.stop();
    },
  };
});
