// One grading run in a process of its own, so that its time and peak memory are its own:
// BENCH_MODE=grade grades every institution of the county and stores the grades (what the
// scheduler does); BENCH_MODE=baseline runs only the raw SQL the grader reads its inputs with.
import { silentLogger } from '@anlian/runtime';
import { openDatabase } from '@anlian/store';
import { buildSupervision } from '@anlian/supervision';
import { sql } from 'kysely';
import type { GradingRun } from './supervision-messages.js';

const store = process.env.BENCH_STORE ?? '';
const mode = process.env.BENCH_MODE === 'baseline' ? 'baseline' : 'grade';
const now = Number(process.env.BENCH_NOW);
const county = process.env.BENCH_COUNTY ?? '';
const runs = Number(process.env.BENCH_RUNS ?? 3);
const windowDays = 30;

const opened = store.startsWith('postgres') ? openDatabase({ url: store }) : openDatabase({ sqlitePath: store });
const { db } = opened;
const rssAtStartMb = process.memoryUsage().rss / 1048576;

/** The grader's input queries as raw SQL: the least any grading can do to read a month of history. */
async function rawInputs(at: number): Promise<number> {
  const from = at - windowDays * 86_400_000;
  const results = await Promise.all([
    sql`select id, created_at from institutions where county_id = ${county}`.execute(db),
    sql`select institution_id, severity, count(*) as open,
          sum(case when deadline_at is not null and deadline_at <= ${at}
                and (submitted_at is null or submitted_at > ${at})
                and (reviewed_at is null or reviewed_at > ${at}) then 1 else 0 end) as overdue
        from hazards where county_id = ${county} and found_at <= ${at} and (closed_at is null or closed_at > ${at})
        group by institution_id, severity`.execute(db),
    sql`select institution_id, kind, count(*) as n from county_inputs
        where county_id = ${county} and at >= ${from} and at < ${at} group by institution_id, kind`.execute(db),
    sql`select institution_id, sum(findings) as n from inspections
        where county_id = ${county} and status = 'submitted' and submitted_at >= ${from} and submitted_at < ${at}
        group by institution_id`.execute(db),
    sql`select institution_id, count(*) as total,
          sum(case when verdict = 'false_alarm' then 1 else 0 end) as false_alarms,
          sum(case when verdict is null or verdict = 'real_fire' then 1 else 0 end) as real
        from alerts where rule in ('fire-alarm') and drill_id is null and opened_at >= ${from} and opened_at < ${at}
          and county_id = ${county}
        group by institution_id`.execute(db),
    sql`select gateway_id, institution_id, count(*) as n from devices group by gateway_id, institution_id`.execute(db),
    sql`select institution_id, gateway_id, rule, opened_at, cleared_at, closed_at from alerts
        where rule in ('device-offline', 'camera-offline', 'gateway-offline') and drill_id is null
          and opened_at < ${at} and (closed_at is null or closed_at > ${from}) and county_id = ${county}`.execute(db),
    sql`select institutions_json, starts_at from drills where starts_at <= ${at}`.execute(db),
  ]);
  return results.reduce((n, r) => n + r.rows.length, 0);
}

const sup = buildSupervision({ db, logger: silentLogger(), clock: () => now });
const timesMs: number[] = [];
let institutions = 0;
let rows = 0;
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  if (mode === 'grade') {
    institutions = (await sup.grader.recompute(county, { at: now + i * 60_000, reason: 'schedule' })).length;
  } else {
    rows = await rawInputs(now + i * 60_000);
  }
  timesMs.push(performance.now() - t0);
}
await opened.close();
const run: GradingRun = {
  type: 'grading',
  mode,
  timesMs,
  institutions,
  rows,
  rssAtStartMb,
  // ru_maxrss: the process's peak resident set, in KiB on Linux.
  maxRssMb: process.resourceUsage().maxRSS / 1024,
};
process.send?.(run);
