// bench/reports: a month's supervision report of a county of 26 and of 250 institutions — the
// report's queries alone (the baseline), the figures, the Excel file, the PDF file, each timed
// (wall and CPU) with its peak resident memory — in a process of its own that does nothing but
// the report (the history is written beforehand by this one). Prints PASS/FAIL against issue
// 17's targets. Usage: npm run bench:reports -- [--institutions 26,250] [--runs 3] [--profile]
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { migrateAlerting } from '@anlian/alerting';
import { DEMO_COUNTY_FILE, generateHistory, loadCountyFile, recordHistory } from '@anlian/device-simulators';
import { resolvePeriod } from '@anlian/reports';
import { importCountyConfig, migrateToLatest, openDatabase } from '@anlian/store';
import { startInfluxd } from '@anlian/testing';
import { queryV1 } from '@anlian/timeseries';
import { renderProfileSummary, summarizeCpuProfile } from '../ingest/cpu-profile-summary.js';
import { IpcChild } from '../ingest/ipc-child.js';
import type { PhaseResult } from './phase-meter.js';
import type { MeasureCommand, MeasureReport, MeasureResult } from './report-messages.js';
import { scaledCounty } from './scaled-county.js';

const { values: opts } = parseArgs({
  options: {
    institutions: { type: 'string', default: '26,250' },
    runs: { type: 'string', default: '3' },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  process.stdout.write(
    'npm run bench:reports -- [--institutions 26,250] [--runs 3] [--profile]\n' +
      '  --runs N     each phase N times in the report process: the first run is cold, the rest warm\n' +
      '  --profile    the report process under node --cpu-prof and --heap-prof (bench/results/reports-profile-*)\n',
  );
  process.exit(0);
}
const sizes = opts.institutions.split(',').map(Number);
const runs = Math.max(1, Number(opts.runs));
const out = (line: string) => process.stdout.write(`${line}\n`);
const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RESULTS = join(REPO_ROOT, 'bench', 'results');
const stamp = new Date().toISOString().replace(/[:.]/g, '-');

/** Issue 17: a month's county report in ≤ 2 s (26 institutions) and ≤ 10 s (250), ≤ 300 MB, Excel and PDF each. */
const targetSeconds = (n: number) => (n <= 26 ? 2 : 10);
const TARGET_RSS_MB = 300;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const s = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);
const pad = (x: string, n: number) => x.padEnd(n);
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');

interface Timing {
  wallMs: number;
  cpuMs: number;
}
const first = (p: PhaseResult): Timing => p.runs[0] ?? { wallMs: 0, cpuMs: 0 };
/** The median of the warm runs (all but the first); undefined with one run. */
const warm = (p: PhaseResult): Timing | undefined => {
  const rest = p.runs.slice(1);
  if (rest.length === 0) return undefined;
  return { wallMs: median(rest.map((r) => r.wallMs)) ?? 0, cpuMs: median(rest.map((r) => r.cpuMs)) ?? 0 };
};
const sum = (...ts: (Timing | undefined)[]): Timing | undefined =>
  ts.some((t) => t === undefined)
    ? undefined
    : ts.reduce<Timing>((a, t) => ({ wallMs: a.wallMs + (t?.wallMs ?? 0), cpuMs: a.cpuMs + (t?.cpuMs ?? 0) }), {
        wallMs: 0,
        cpuMs: 0,
      });

async function measureInChild(job: MeasureCommand & { type: 'measure' }, profileDir: string | undefined) {
  const execArgv = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '--heap-prof', `--heap-prof-dir=${profileDir}`]
    : [];
  const child = new IpcChild<MeasureCommand, MeasureReport>(
    'report process',
    new URL('./report-process.js', import.meta.url),
    execArgv,
  );
  try {
    const result = child.next('result', 30 * 60_000);
    child.send(job);
    return (await result).result;
  } finally {
    await child.stop({ type: 'exit' });
  }
}

function printResult(n: number, r: MeasureResult): { excelPass: boolean; pdfPass: boolean } {
  const phase = (name: string) => {
    const p = r.phases.find((x) => x.name === name);
    if (!p) throw new Error(`no phase ${name}`);
    return p;
  };
  const [queries, figures, excel, font, pdf] = ['queries', 'figures', 'excel', 'font', 'pdf'].map(phase) as [
    PhaseResult,
    PhaseResult,
    PhaseResult,
    PhaseResult,
    PhaseResult,
  ];
  const row = (label: string, p: PhaseResult, extra = '') => {
    const f = first(p);
    const w = warm(p);
    out(
      `  ${pad(label, 34)} ${pad(s(f.wallMs), 9)} ${pad(s(w?.wallMs), 9)} ${pad(`${s(f.cpuMs)} / ${s(w?.cpuMs)}`, 19)} ${pad(`${p.peakRssMb} MB`, 8)} ${pad(`${p.endMb.heapUsed}/${p.endMb.heapTotal} + ${p.endMb.external} MB`, 17)} ${extra}`,
    );
  };
  out(`  report process at rest (its modules loaded): ${r.atRestRssMb} MB resident`);
  out(
    `  ${pad('phase', 34)} ${pad('first', 9)} ${pad('then', 9)} ${pad('CPU first / then', 19)} ${pad('peak RSS', 8)} heap used/total + external at the end`,
  );
  row("baseline: the report's queries", queries);
  row('figures (queries + computation)', figures);
  row('Excel file', excel, `${Math.round(r.excelBytes / 1024)} KB`);
  row('font (read once per process)', font);
  row('PDF file', pdf, `${Math.round(r.pdfBytes / 1024)} KB, ${r.pdfPages} pages`);
  out(
    `  each query (last baseline run, in parallel where the report runs them so): ${Object.entries(r.queryMs)
      .map(([k, v]) => `${k} ${s(v)}`)
      .join(', ')}`,
  );
  const target = targetSeconds(n);
  const verdict = (label: string, cold: Timing | undefined, hot: Timing | undefined, rss: number) => {
    const pass = (cold?.wallMs ?? Infinity) <= target * 1000 && rss <= TARGET_RSS_MB;
    const warmPass = hot === undefined ? '' : hot.wallMs <= target * 1000 ? ', then PASS' : ', then FAIL';
    out(
      `  ${pad(label, 34)} first ${s(cold?.wallMs)} (CPU ${s(cold?.cpuMs)}), then ${s(hot?.wallMs)} (CPU ${s(hot?.cpuMs)}), peak ${rss} MB` +
        `   target ≤ ${target} s, ≤ ${TARGET_RSS_MB} MB: ${pass ? 'PASS' : 'FAIL'}${warmPass}`,
    );
    return pass;
  };
  const excelPass = verdict(
    'report as Excel (figures + file)',
    sum(first(figures), first(excel)),
    sum(warm(figures), warm(excel)),
    Math.max(figures.peakRssMb, excel.peakRssMb),
  );
  const pdfPass = verdict(
    'report as PDF (figures + font + file)',
    sum(first(figures), first(font), first(pdf)),
    sum(warm(figures), warm(pdf)),
    Math.max(figures.peakRssMb, font.peakRssMb, pdf.peakRssMb),
  );
  return { excelPass, pdfPass };
}

const demo = await loadCountyFile(DEMO_COUNTY_FILE);
const influxd = await startInfluxd();
const dir = await mkdtemp(join(tmpdir(), 'anlian-bench-reports-'));
const results: Record<string, unknown>[] = [];
const verdicts: string[] = [];
try {
  const target = { url: influxd.url, generation: 1 as const, database: 'anlian' };
  for (const q of [
    'CREATE DATABASE "anlian"',
    'CREATE RETENTION POLICY "events_1y" ON "anlian" DURATION 52w REPLICATION 1',
  ]) {
    await queryV1(target, q, { db: null });
  }
  out(
    `bench/reports: a month's county report, ${sizes.join(' and ')} institutions, ${runs} run(s) of each phase in a fresh report process`,
  );
  out(`machine: ${cpus().length} cores, Node ${process.version}, load average ${load()} (1, 5, 15 min) at the start`);
  for (const n of sizes) {
    const id = `bench${n}`;
    const county = scaledCounty(demo, n);
    const c = { ...county, county: { ...county.county, id } };
    const storePath = join(dir, `${id}.db`);
    const store = openDatabase({ sqlitePath: storePath });
    await migrateToLatest(store.db);
    await migrateAlerting(store.db);
    await importCountyConfig(store.db, c, { now: Date.UTC(2026, 0, 1) });
    const now = Date.UTC(2026, 11, 2);
    const period = resolvePeriod({ month: '2026-11' }, 'Asia/Shanghai', now);
    const runId = `bench-${n}`;
    const t0 = performance.now();
    const history = generateHistory({ county: c, runId, fromMs: period.fromMs, toMs: period.toMs, seed: 1 });
    const written = await recordHistory({ history, db: store.db, influx: { url: influxd.url, database: 'anlian' } });
    await store.close();
    const devices = c.institutions.reduce((a, i) => a + i.gateways.reduce((b, g) => b + g.devices.length, 0), 0);
    out(
      `\n${n} institutions, ${devices} devices: a simulated month of ${written.alerts} alerts, ${written.lines} InfluxDB points` +
        ` (written by the bench's own process in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    const profileDir = opts.profile ? join(RESULTS, `reports-profile-${stamp}`, `${n}`) : undefined;
    if (profileDir) await mkdir(profileDir, { recursive: true });
    const r = await measureInChild(
      {
        type: 'measure',
        job: {
          storePath,
          influxUrl: influxd.url,
          database: 'anlian',
          county: id,
          runId,
          period,
          now,
          runs,
          outDir: join(RESULTS, `reports-${stamp}`),
        },
      },
      profileDir,
    );
    const { excelPass, pdfPass } = printResult(n, r);
    verdicts.push(`${n} institutions: Excel ${excelPass ? 'PASS' : 'FAIL'}, PDF ${pdfPass ? 'PASS' : 'FAIL'}`);
    if (profileDir) {
      const files = await readdir(profileDir);
      const cpu = files.find((f) => f.endsWith('.cpuprofile'));
      if (cpu)
        out(renderProfileSummary(`${n} institutions`, await summarizeCpuProfile(join(profileDir, cpu), REPO_ROOT)));
      out(`  profiles (CPU, heap; open in Chrome DevTools): ${profileDir}`);
    }
    results.push({ institutions: n, devices, alerts: written.alerts, points: written.lines, ...r });
  }
  out(`\nload average ${load()} at the end. Verdicts judge the first report of a fresh process, on wall time:`);
  for (const v of verdicts) out(`  ${v}`);
  out('(a busy machine inflates wall time, not CPU time: compare both, and take figures on a quiet machine)');
  await mkdir(RESULTS, { recursive: true });
  const file = join(RESULTS, `reports-${stamp}.json`);
  await writeFile(
    file,
    `${JSON.stringify({ runs, cores: cpus().length, node: process.version, loadAverage: loadavg(), results }, null, 2)}\n`,
  );
  out(`figures written to ${file}; the files of the last run in ${join(RESULTS, `reports-${stamp}`)}`);
} finally {
  await influxd.stop();
  await rm(dir, { recursive: true, force: true });
}
