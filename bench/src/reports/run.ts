// bench/reports: a month's supervision report of a county of 26 and of 250 institutions —
// figures, Excel and PDF, each timed — next to a baseline measured in the same run: the raw
// store and InfluxDB queries the report makes, alone. Prints wall time and the process's peak
// resident memory. Usage: npm run bench:reports -- [--institutions 26,250] [--runs 3]
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { migrateAlerting } from '@anlian/alerting';
import { DEMO_COUNTY_FILE, generateHistory, loadCountyFile, recordHistory } from '@anlian/device-simulators';
import {
  CjkFonts,
  computeFigures,
  InfluxReader,
  type ReportReadDatabase,
  resolvePeriod,
  StoreReader,
  writeExcelReport,
  writePdfReport,
} from '@anlian/reports';
import { importCountyConfig, migrateToLatest, openDatabase } from '@anlian/store';
import { startInfluxd } from '@anlian/testing';
import { queryV1 } from '@anlian/timeseries';
import type { Kysely } from 'kysely';
import { scaledCounty } from './scaled-county.js';

const { values: opts } = parseArgs({
  options: {
    institutions: { type: 'string', default: '26,250' },
    runs: { type: 'string', default: '3' },
  },
});
const sizes = opts.institutions.split(',').map(Number);
const runs = Math.max(1, Number(opts.runs));
const out = (line: string) => process.stdout.write(`${line}\n`);

// Peak resident memory of this process (the report's; influxd is a child process of its own).
let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);
const rssMb = () => Math.round(Math.max(peakRss, process.memoryUsage().rss) / 1e6);

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number[]; value: T }> {
  const ms: number[] = [];
  let value: T | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = await fn();
    ms.push(performance.now() - t0);
  }
  return { ms, value: value as T };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const fmt = (xs: number[]) => `${(median(xs) / 1000).toFixed(2)} s (min ${(Math.min(...xs) / 1000).toFixed(2)})`;

const demo = await loadCountyFile(DEMO_COUNTY_FILE);
const influxd = await startInfluxd();
const dir = await mkdtemp(join(tmpdir(), 'anlian-bench-reports-'));
const results: Record<string, unknown>[] = [];
try {
  const target = { url: influxd.url, generation: 1 as const, database: 'anlian' };
  for (const q of [
    'CREATE DATABASE "anlian"',
    'CREATE RETENTION POLICY "events_1y" ON "anlian" DURATION 52w REPLICATION 1',
  ]) {
    await queryV1(target, q, { db: null });
  }
  const query = (q: string) => queryV1(target, q);
  out(`bench/reports: a month's county report, ${sizes.join(' and ')} institutions, median of ${runs} runs`);
  for (const n of sizes) {
    const county = scaledCounty(demo, n);
    const id = `bench${n}`;
    const store = openDatabase({ sqlitePath: join(dir, `${id}.db`) });
    await migrateToLatest(store.db);
    await migrateAlerting(store.db);
    const c = { ...county, county: { ...county.county, id } };
    await importCountyConfig(store.db, c, { now: Date.UTC(2026, 0, 1) });
    const period = resolvePeriod({ month: '2026-11' }, 'Asia/Shanghai', Date.UTC(2026, 11, 2));
    const t0 = performance.now();
    const history = generateHistory({
      county: c,
      runId: `bench-${n}`,
      fromMs: period.fromMs,
      toMs: period.toMs,
      seed: 1,
    });
    const written = await recordHistory({ history, db: store.db, influx: { url: influxd.url, database: 'anlian' } });
    const devices = c.institutions.reduce((a, i) => a + i.gateways.reduce((b, g) => b + g.devices.length, 0), 0);
    out(
      `\n${n} institutions, ${devices} devices: a simulated month of ${written.alerts} alerts, ${written.lines} InfluxDB points (set up in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    const reader = new StoreReader(store.db as unknown as Kysely<ReportReadDatabase>);
    const influx = new InfluxReader(query);
    const scope = { county: id, simRun: `bench-${n}` };
    const source = { kind: 'simulation' as const, runId: `bench-${n}` };
    peakRss = 0;
    // Baseline: the queries a report makes, and nothing else — each timed too, once.
    const parts: Record<string, number> = {};
    const part = async <T>(name: string, p: Promise<T>): Promise<T> => {
      const t = performance.now();
      const v = await p;
      parts[name] = performance.now() - t;
      return v;
    };
    const baseline = await timed(async () => {
      const institutions = await part('institutions', reader.institutions(scope));
      await Promise.all([
        part('devices', reader.devices(scope)),
        part('gateway status (InfluxDB)', influx.gatewayStatus(scope, period.fromMs, period.toMs)),
        part('alerts opened', reader.alertsOpenedIn(scope, period.fromMs, period.toMs)),
        part(
          'offline conditions',
          reader.conditionsOverlapping(
            scope,
            ['device-offline', 'camera-offline', 'gateway-offline'],
            period.fromMs,
            period.toMs,
          ),
        ),
        part('deliveries', reader.deliveries(scope, period.fromMs, period.toMs)),
        part('fire events (InfluxDB)', influx.deviceEvents(scope, 'fire', ['fire'], period.fromMs, period.toMs)),
        part(
          'camera events (InfluxDB)',
          influx.deviceEvents(
            scope,
            'camera',
            ['signal_loss', 'frozen', 'black', 'occlusion', 'fault', 'restore'],
            period.fromMs - 7 * 86_400_000,
            period.toMs,
          ),
        ),
        part('drills', reader.drills(scope, new Set(institutions.map((i) => i.id)), period.fromMs, period.toMs)),
      ]);
    });
    out(
      `  (last baseline run, each query, in parallel: ${Object.entries(parts)
        .map(([k, v]) => `${k} ${(v / 1000).toFixed(2)} s`)
        .join(', ')})`,
    );
    const baselineRss = rssMb();
    peakRss = 0;
    const figures = await timed(() =>
      computeFigures({ store: reader, influx }, { county: id, period, source, now: Date.UTC(2026, 11, 2) }),
    );
    const figuresRss = rssMb();
    peakRss = 0;
    const excel = await timed(() => writeExcelReport(figures.value));
    const excelRss = rssMb();
    peakRss = 0;
    // The font is loaded once per process (CjkFonts.load): counted once, in the first run.
    const fontT0 = performance.now();
    const fonts = CjkFonts.load();
    const fontMs = performance.now() - fontT0;
    const pdf = await timed(() => writePdfReport(figures.value, fonts));
    const pdfRss = rssMb();
    await mkdir(join(dir, 'out'), { recursive: true });
    await writeFile(join(dir, 'out', `${id}.pdf`), pdf.value);
    const excelTotal = figures.ms.map((m, i) => m + (excel.ms[i] ?? 0));
    const pdfTotal = figures.ms.map((m, i) => m + (pdf.ms[i] ?? 0) + (i === 0 ? fontMs : 0));
    out(`  baseline: the report's raw queries alone   ${fmt(baseline.ms)}   peak RSS ${baselineRss} MB`);
    out(`  figures (queries + computation)           ${fmt(figures.ms)}   peak RSS ${figuresRss} MB`);
    out(
      `  Excel file                                ${fmt(excel.ms)}   ${(excel.value.length / 1024).toFixed(0)} KB, peak RSS ${excelRss} MB`,
    );
    out(
      `  PDF file (font loaded once: ${(fontMs / 1000).toFixed(2)} s)      ${fmt(pdf.ms)}   ${(pdf.value.length / 1024).toFixed(0)} KB, peak RSS ${pdfRss} MB`,
    );
    out(`  report as Excel (figures + file)          ${fmt(excelTotal)}   target ≤ ${n <= 26 ? 2 : 10} s`);
    out(
      `  report as PDF (figures + file, first run with the font)  ${fmt(pdfTotal)}   target ≤ ${n <= 26 ? 2 : 10} s, ≤ 300 MB`,
    );
    results.push({
      institutions: n,
      devices,
      alerts: written.alerts,
      points: written.lines,
      baselineMs: baseline.ms,
      figuresMs: figures.ms,
      excelMs: excel.ms,
      pdfMs: pdf.ms,
      fontMs,
      peakRssMb: { baseline: baselineRss, figures: figuresRss, excel: excelRss, pdf: pdfRss },
    });
    await store.close();
  }
  await mkdir('bench/results', { recursive: true });
  const file = `bench/results/reports-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
  await writeFile(file, `${JSON.stringify({ runs, results }, null, 2)}\n`);
  out(`\nfigures written to ${file}`);
} finally {
  clearInterval(sampler);
  await influxd.stop();
  await rm(dir, { recursive: true, force: true });
}
