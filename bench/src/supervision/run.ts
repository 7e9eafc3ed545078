// bench/supervision: grading every institution of a county from a month of history (target
// ≤ 5 s and ≤ 200 MB), and the hazard list's first page for that county over HTTP (target p99 ≤
// 200 ms) — each next to a baseline measured in the same run: the raw SQL the grader reads its
// inputs with, and the raw SQL of the same page. SQLite (the all-in-one) and, with --postgres,
// PostgreSQL. Usage: npm run bench:supervision -- [--institutions 250] [--requests 300] [--postgres] [--quick]
import { fork } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { alertingApiOf, startAlerting } from '@anlian/alerting';
import { LatestStateCache } from '@anlian/bus';
import { buildDashboard, SESSION_COOKIE, seedDemoUsers } from '@anlian/dashboard';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { openDatabase } from '@anlian/store';
import { buildSupervision } from '@anlian/supervision';
import { startPostgres, type TestPostgres } from '@anlian/testing';
import { sql } from 'kysely';
import { percentiles } from '../dashboard/latency-stats.js';
import { positiveInt } from '../ingest/bench-options.js';
import { machineInfo } from '../ingest/machine-info.js';
import { BENCH_COUNTY, buildHistory, type HistoryCounts, type HistorySpec } from './supervision-history.js';
import type { GradingRun } from './supervision-messages.js';

const { values: opts } = parseArgs({
  options: {
    institutions: { type: 'string' },
    devices: { type: 'string' },
    days: { type: 'string' },
    hazards: { type: 'string' },
    alerts: { type: 'string' },
    requests: { type: 'string' },
    postgres: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    results: { type: 'string', default: fileURLToPath(new URL('../../results/', import.meta.url)) },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  process.stdout.write(`npm run bench:supervision -- [options]
  --institutions N   institutions in the county (default 250; --quick 40)
  --devices N        devices per institution (default 70)
  --days N           days of history (default 30)
  --hazards N        hazards per institution over the history (default 20)
  --alerts N         alerts per institution per day (default 6)
  --requests N       hazard-list requests per variant (default 300; --quick 40)
  --postgres         also run on PostgreSQL (@anlian/testing's startPostgres)
  --quick            a smoke run
  --results DIR      where the JSON goes (default bench/results)
`);
  process.exit(0);
}
const spec: HistorySpec = {
  institutions: positiveInt('institutions', opts.institutions, opts.quick ? 40 : 250),
  devicesPerInstitution: positiveInt('devices', opts.devices, 70),
  days: positiveInt('days', opts.days, 30),
  hazardsPerInstitution: positiveInt('hazards', opts.hazards, 20),
  alertsPerInstitutionPerDay: positiveInt('alerts', opts.alerts, 6),
  now: Date.now(),
};
const requests = positiveInt('requests', opts.requests, opts.quick ? 40 : 300);
const out = (line: string) => process.stdout.write(`${line}\n`);

interface StoreResult {
  store: string;
  history: HistoryCounts;
  setupS: number;
  grading: { baseline: GradingRun; grade: GradingRun };
  list: Record<string, { p50: number; p90: number; p99: number; max: number; n: number }>;
}

function gradingRun(store: string, mode: 'grade' | 'baseline'): Promise<GradingRun> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./grading-process.js', import.meta.url)), [], {
      env: {
        ...process.env,
        BENCH_STORE: store,
        BENCH_MODE: mode,
        BENCH_NOW: String(spec.now),
        BENCH_COUNTY,
        BENCH_RUNS: '3',
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result: GradingRun | undefined;
    child.on('message', (m: GradingRun) => {
      result = m;
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`grading process (${mode}) exited with ${code} and no result`)),
    );
  });
}

async function timed(n: number, run: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < Math.min(10, n); i++) await run(); // warm-up, not counted
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await run();
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** The hazard list's first page through the dashboard's HTTP API, and the same page as raw SQL. */
async function listLatencies(store: string): Promise<StoreResult['list']> {
  const opened = store.startsWith('postgres') ? openDatabase({ url: store }) : openDatabase({ sqlitePath: store });
  const { db } = opened;
  const cache = new LatestStateCache();
  // Alerting on the same store (its month of alerts), fed nothing: the list does not ask it.
  const alerting = await startAlerting({
    db,
    config: { rulesFile: undefined, channelsFile: undefined, publicUrl: undefined, tickMs: 60_000 },
    logger: silentLogger(),
    metrics: createMetricsRegistry({ defaultMetrics: false }),
    subscribe: () => () => undefined,
  });
  const alerts = alertingApiOf(alerting.service);
  const supervision = buildSupervision({ db, logger: silentLogger(), clock: () => spec.now });
  const dashboard = await buildDashboard({
    db,
    cache,
    subscribeIngest: () => () => undefined,
    queryInflux: async () => [],
    alerts,
    supervision,
    logger: silentLogger(),
    webRoot: null,
  });
  const users = await seedDemoUsers(db, BENCH_COUNTY);
  await dashboard.start();
  const base = await dashboard.listen({ host: '127.0.0.1', port: 0 });
  try {
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'operator', password: users.operator.password }),
    });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    if (!cookie.startsWith(`${SESSION_COOKIE}=`)) throw new Error(`login failed: ${login.status}`);
    const page = async (query: string) => {
      const res = await fetch(`${base}/api/hazards?${query}`, { headers: { cookie } });
      if (res.status !== 200) throw new Error(`hazard list ${res.status}`);
      const body = (await res.json()) as { hazards: unknown[]; total: number };
      if (body.hazards.length === 0) throw new Error('empty first page');
    };
    const raw = async (openOnly: boolean) => {
      const where = openOnly
        ? sql`county_id = ${BENCH_COUNTY} and status != 'closed' and deadline_at <= ${spec.now} and status in ('found', 'assigned', 'rectifying')`
        : sql`county_id = ${BENCH_COUNTY}`;
      await sql`select count(*) as n from hazards where ${where}`.execute(db);
      await sql`select * from hazards where ${where} order by found_at desc, id desc limit 51`.execute(db);
    };
    return {
      'first page, raw SQL (baseline)': percentiles(await timed(requests, () => raw(false))),
      'first page, HTTP API': percentiles(await timed(requests, () => page('limit=50'))),
      'open overdue, raw SQL (baseline)': percentiles(await timed(requests, () => raw(true))),
      'open overdue, HTTP API': percentiles(await timed(requests, () => page('limit=50&open=true&overdue=true'))),
    };
  } finally {
    await dashboard.stop();
    await alerting.stop();
    await opened.close();
  }
}

async function runOn(name: string, store: string): Promise<StoreResult> {
  out(`\n[${name}] building a county of ${spec.institutions} institutions with ${spec.days} days of history …`);
  const t0 = performance.now();
  const opened = store.startsWith('postgres') ? openDatabase({ url: store }) : openDatabase({ sqlitePath: store });
  const history = await buildHistory(opened.db, spec);
  await opened.close();
  const setupS = (performance.now() - t0) / 1000;
  out(
    `  ${history.institutions} institutions, ${history.devices} devices, ${history.alerts} alerts, ${history.hazards} hazards (${history.transitions} transitions), ${history.countyInputs} complaints/violations, ${history.inspections} inspections — ${setupS.toFixed(1)} s`,
  );
  const baseline = await gradingRun(store, 'baseline');
  const grade = await gradingRun(store, 'grade');
  const ms = (xs: number[]) => xs.map((x) => `${Math.round(x)}`).join(' / ');
  out('  grading all institutions (3 runs: cold / warm / warm), peak RSS of the process:');
  out(
    `    baseline: the grader's input queries as raw SQL   ${ms(baseline.timesMs)} ms   peak ${baseline.maxRssMb.toFixed(0)} MB (${baseline.rows} rows)`,
  );
  out(
    `    grade and store every institution                 ${ms(grade.timesMs)} ms   peak ${grade.maxRssMb.toFixed(0)} MB (${grade.institutions} institutions; target ≤ 5000 ms, ≤ 200 MB)`,
  );
  const list = await listLatencies(store);
  out(`  hazard list, ${requests} requests each, ms (target p99 ≤ 200 ms through the API):`);
  for (const [k, v] of Object.entries(list)) {
    out(
      `    ${k.padEnd(34)} p50 ${v.p50.toFixed(1).padStart(6)}  p90 ${v.p90.toFixed(1).padStart(6)}  p99 ${v.p99.toFixed(1).padStart(6)}  max ${v.max.toFixed(1).padStart(6)}`,
    );
  }
  return { store: name, history, setupS, grading: { baseline, grade }, list };
}

const dir = await mkdtemp(join(tmpdir(), 'anlian-bench-supervision-'));
let pg: TestPostgres | undefined;
const cleanup = async () => {
  await pg?.stop();
  await rm(dir, { recursive: true, force: true });
};
process.on('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});
try {
  out(
    `bench/supervision: ${spec.institutions} institutions × ${spec.devicesPerInstitution} devices, ${spec.days} days, ${spec.hazardsPerInstitution} hazards and ${spec.alertsPerInstitutionPerDay} alerts/day per institution`,
  );
  const machine = machineInfo();
  const results: StoreResult[] = [await runOn('SQLite', join(dir, 'anlian.db'))];
  if (opts.postgres) {
    pg = await startPostgres({ database: 'bench_supervision' });
    results.push(await runOn('PostgreSQL', pg.url));
  }
  await mkdir(opts.results, { recursive: true });
  const file = join(opts.results, `supervision-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify({ spec, requests, machine, results }, null, 2));
  out(`\nresults: ${file}`);
} finally {
  await cleanup();
}
