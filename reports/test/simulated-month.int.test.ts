import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { generateHistory, recordHistory, type SimulatedHistory } from '@anlian/device-simulators';
import { DEFAULT_REPORT_INTERVAL_S } from '@anlian/protocol';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeFigures } from '../src/figures/compute-figures.js';
import type { ReportFigures } from '../src/figures/report-figures.js';
import { grafanaCountyFromFile, grafanaFiles } from '../src/grafana/grafana-files.js';
import { resolvePeriod } from '../src/period.js';
import { InfluxReader } from '../src/read/influx-reader.js';
import { StoreReader } from '../src/read/store-reader.js';
import { CjkFonts } from '../src/render/cjk-font.js';
import { writeExcelReport } from '../src/render/excel-report.js';
import { writePdfReport } from '../src/render/pdf-report.js';
import { importCounty, monthCounty, type ReportStack, startReportStack } from './report-stack.js';

const run = promisify(execFile);
const RUN = 'sim-month-test';
const TZ = 'Asia/Shanghai';
const KINDS = ['fire', 'extinguisher', 'kitchen', 'camera'] as const;
/** Alerting's absence rules: offline after 3 missed report intervals. */
const MISSED = 3;
/** The independent computation samples the month every this often. */
const STEP_MS = 10_000;

type Row = [number, ...unknown[]];

/**
 * A month of simulated history for a throwaway county — the simulator's generator run for a
 * month of simulated time at unbounded speed, every telemetry report included, written to a real
 * influxd and store as simulation run `sim-month-test` — and its report, checked against figures
 * computed here by other means from the raw points: device online time by sampling the raw
 * telemetry and gateway status every 10 s (the report uses alerting's status records and interval
 * arithmetic), alarms and response times from the raw `alert_event` points (the report reads the
 * store), GB 50440's daily counts with InfluxQL's own day buckets.
 */
describe('a report over a simulated month', () => {
  let stack: ReportStack;
  let history: SimulatedHistory;
  let figures: ReportFigures;
  let live: ReportFigures;
  const period = resolvePeriod({ month: '2026-11' }, TZ, Date.UTC(2027, 0, 1));

  beforeAll(async () => {
    stack = await startReportStack();
    const now = Date.UTC(2026, 11, 2);
    const county = await importCounty(stack, monthCounty(), Date.UTC(2026, 9, 1));
    history = generateHistory({
      county,
      runId: RUN,
      fromMs: period.fromMs,
      toMs: period.toMs,
      seed: 17,
      // Denser than a real month, so that every figure has something to count.
      rates: {
        gatewayOutages: 3,
        deviceOutages: { fire: 0.5, extinguisher: 0.5, kitchen: 0.8, camera: 1 },
        fireFalseAlarms: 0.6,
        kitchenAlarms: 2,
        deviceFaults: 0.3,
        lowPressure: 0.5,
        noisyDetectorsPer100: 30,
        drillShare: 1,
      },
    });
    const r = await recordHistory({
      history,
      db: stack.store.db,
      influx: { url: stack.influxd.url, database: 'anlian' },
      telemetry: 'full',
      now,
    });
    expect(r.written).toBe(true);
    // Live data in the same period, which a report over the run must leave out (and vice versa).
    const liveLines = [
      `gateway,county=simcounty,gateway=gw-inst-a,institution=inst-a,type=status state="offline",seq=1i ${period.fromMs + 1000}`,
      `fire,county=simcounty,device=smk-101,gateway=gw-inst-a,institution=inst-a,type=event event="fire",seq=2i ${period.fromMs + 5000}`,
    ];
    const res = await fetch(`${stack.influxd.url}/write?db=anlian&rp=events_1y&precision=ms`, {
      method: 'POST',
      body: liveLines.join('\n'),
    });
    expect(res.status).toBe(204);
    await stack.db
      .insertInto('alerts')
      .values({
        id: 'live-1',
        rule: 'fire-alarm',
        severity: 'critical',
        status: 'closed',
        verdict: 'real_fire',
        drill_id: null,
        county_id: 'simcounty',
        institution_id: 'inst-a',
        gateway_id: 'gw-inst-a',
        device_id: 'smk-101',
        device_kind: 'fire',
        opened_at: period.fromMs + 5000,
        cleared_at: null,
        acknowledged_at: period.fromMs + 9000,
        verified_at: period.fromMs + 20_000,
        closed_at: period.fromMs + 60_000,
        escalation_level: 0,
        sim_run: null,
        ...{
          key: 'k',
          open_key: null,
          name_zh: '火灾报警',
          name_en: 'Fire alarm',
          resolve: 'manual',
          silence_id: null,
          value: null,
          reason: 'x',
          occurrences: 1,
          last_seen_at: period.fromMs + 5000,
          acknowledged_by: 'm',
          verified_by: 'm',
          closed_by: 'm',
          escalation_round: 0,
          escalation_state: 'done',
          escalation_next_at: null,
          updated_at: period.fromMs,
        },
      } as never)
      .execute();

    const deps = { store: new StoreReader(stack.db), influx: new InfluxReader(stack.query) };
    figures = await computeFigures(deps, {
      county: 'simcounty',
      period,
      source: { kind: 'simulation', runId: RUN },
      now,
    });
    live = await computeFigures(deps, { county: 'simcounty', period, source: { kind: 'live' }, now });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  async function select(q: string): Promise<{ tags: Record<string, string>; values: Row[] }[]> {
    const [r] = await stack.query(q);
    if (r?.error) throw new Error(r.error);
    return (r?.series ?? []).map((s) => ({ tags: s.tags, values: s.values as Row[] }));
  }

  it('has something to count in every section', () => {
    expect(history.deviceOutages.length).toBeGreaterThan(5);
    expect(history.gatewayOutages.length).toBeGreaterThan(2);
    expect(figures.online.total.rate).toBeLessThan(1);
    expect(figures.alarms.total).toBeGreaterThan(20);
    expect(figures.falseAlarms.overDailyLimit.length).toBeGreaterThan(0);
    expect(figures.drills.drills.length).toBeGreaterThan(0);
    expect(figures.escalations.escalated).toBeGreaterThan(0);
    expect(figures.pushes.byChannel.map((c) => c.channelType)).toEqual(['sms', 'stream', 'wecom']);
    expect(figures.source).toMatchObject({ kind: 'simulation', runId: RUN, seed: 17 });
  });

  it('device online rates by kind match the raw telemetry and gateway status, sampled every 10 s', async () => {
    const devices = history.county.institutions.flatMap((i) =>
      i.gateways.flatMap((g) => g.devices.map((d) => ({ inst: i.id, gw: g.id, d }))),
    );
    const reports = new Map<string, number[]>();
    for (const kind of KINDS) {
      const series = await select(
        `SELECT "seq" FROM "raw_90d"."${kind}" WHERE "sim_run" = '${RUN}' AND "type" = 'telemetry' AND time >= ${period.fromMs}ms AND time < ${period.toMs}ms GROUP BY "gateway", "device"`,
      );
      for (const s of series)
        reports.set(
          `${s.tags.gateway}/${s.tags.device}`,
          s.values.map((v) => v[0]),
        );
    }
    const status = await select(
      `SELECT "state" FROM "events_1y"."gateway" WHERE "sim_run" = '${RUN}' AND "type" = 'status' GROUP BY "gateway"`,
    );
    const gwStatus = new Map(
      status.map((s) => [s.tags.gateway ?? '', s.values.map((v) => [v[0], v[1] as string] as const)]),
    );
    const expected = new Map<string, { on: number; all: number }>();
    for (const { gw, d } of devices) {
      const times = reports.get(`${gw}/${d.id}`) ?? [];
      const states = gwStatus.get(gw) ?? [];
      const threshold = MISSED * (d.reportIntervalS ?? DEFAULT_REPORT_INTERVAL_S[d.kind]) * 1000;
      let ri = -1;
      let si = -1;
      let on = 0;
      let all = 0;
      for (let t = period.fromMs + STEP_MS / 2; t < period.toMs; t += STEP_MS) {
        while (ri + 1 < times.length && (times[ri + 1] ?? Infinity) <= t) ri++;
        while (si + 1 < states.length && (states[si + 1]?.[0] ?? Infinity) <= t) si++;
        // The period's start counts as a report: the device was there before it.
        const last = ri >= 0 ? (times[ri] ?? period.fromMs) : period.fromMs;
        const gatewayUp = si >= 0 && states[si]?.[1] === 'online';
        all++;
        if (gatewayUp && t - last < threshold) on++;
      }
      const acc = expected.get(d.kind) ?? { on: 0, all: 0 };
      acc.on += on;
      acc.all += all;
      expected.set(d.kind, acc);
    }
    for (const kind of KINDS) {
      const e = expected.get(kind) as { on: number; all: number };
      const got = figures.online.byKind.find((k) => k.kind === kind);
      expect(got?.devices).toBe(devices.filter((x) => x.d.kind === kind).length);
      // Sampling every 10 s: each outage edge is within 10 s, well under 0.02 percentage points.
      expect(Math.abs((got?.rate ?? 0) - e.on / e.all)).toBeLessThan(0.0002);
    }
    expect(figures.online.total.rate).toBeLessThan(0.999);
  });

  it('camera availability matches sampling the raw camera events, telemetry and gateway status', async () => {
    const events = await select(
      `SELECT "event" FROM "events_1y"."camera" WHERE "sim_run" = '${RUN}' AND "type" = 'event' GROUP BY "gateway", "device"`,
    );
    const telemetry = await select(
      `SELECT "seq" FROM "raw_90d"."camera" WHERE "sim_run" = '${RUN}' AND time >= ${period.fromMs}ms AND time < ${period.toMs}ms GROUP BY "gateway", "device"`,
    );
    const status = await select(
      `SELECT "state" FROM "events_1y"."gateway" WHERE "sim_run" = '${RUN}' AND "type" = 'status' GROUP BY "gateway"`,
    );
    let on = 0;
    let all = 0;
    for (const s of telemetry) {
      const times = s.values.map((v) => v[0]);
      const ev = events.find((e) => e.tags.device === s.tags.device && e.tags.gateway === s.tags.gateway)?.values ?? [];
      const st = status.find((x) => x.tags.gateway === s.tags.gateway)?.values ?? [];
      const threshold = MISSED * 300_000;
      let ri = -1;
      let ei = -1;
      let si = -1;
      for (let t = period.fromMs + STEP_MS / 2; t < period.toMs; t += STEP_MS) {
        while (ri + 1 < times.length && (times[ri + 1] ?? Infinity) <= t) ri++;
        while (ei + 1 < ev.length && (ev[ei + 1]?.[0] ?? Infinity) <= t) ei++;
        while (si + 1 < st.length && (st[si + 1]?.[0] ?? Infinity) <= t) si++;
        const last = ri >= 0 ? (times[ri] ?? period.fromMs) : period.fromMs;
        const gwUp = si >= 0 && st[si]?.[1] === 'online';
        // Any camera event but a restore (test, tamper aside) leaves the picture unusable until one.
        const lastEvent = ei >= 0 ? ev[ei]?.[1] : undefined;
        const picture =
          lastEvent === undefined ||
          !['signal_loss', 'frozen', 'black', 'occlusion', 'fault'].includes(lastEvent as string);
        all++;
        if (gwUp && picture && t - last < threshold) on++;
      }
    }
    expect(figures.cameras.cameras).toBe(4);
    expect(Math.abs((figures.cameras.rate ?? 0) - on / all)).toBeLessThan(0.0003);
    expect(figures.cameras.rate).toBeLessThan(1);
  });

  it('alarms by kind and verdict, false-alarm rates and response times match the raw alert_event points', async () => {
    const points = await select(
      `SELECT "alertId", "to", "verdict", "drill" FROM "events_1y"."alert_event" WHERE "sim_run" = '${RUN}' GROUP BY "kind", "institution"`,
    );
    const alerts = new Map<
      string,
      { kind: string; inst: string; opened?: number; acked?: number; verdict?: string; drill: boolean }
    >();
    for (const s of points) {
      for (const [time, id, to, verdict, drill] of s.values as [number, string, string, string | null, boolean][]) {
        const a = alerts.get(id) ?? { kind: s.tags.kind ?? '', inst: s.tags.institution ?? '', drill };
        if (to === 'open') a.opened = time;
        if (to === 'acknowledged') a.acked = time;
        if (to === 'verified' && verdict) a.verdict = verdict;
        alerts.set(id, a);
      }
    }
    const inPeriod = [...alerts.values()].filter(
      (a) => !a.drill && a.opened !== undefined && a.opened >= period.fromMs && a.opened < period.toMs,
    );
    for (const row of figures.alarms.byKind) {
      const mine = inPeriod.filter((a) => a.kind === row.kind);
      expect(row.total).toBe(mine.length);
      expect(row.false_alarm).toBe(mine.filter((a) => a.verdict === 'false_alarm').length);
      expect(row.real_fire).toBe(mine.filter((a) => a.verdict === 'real_fire').length);
      expect(row.unverified).toBe(mine.filter((a) => a.verdict === undefined).length);
    }
    for (const row of figures.falseAlarms.byInstitution) {
      const verified = inPeriod.filter((a) => a.inst === row.institution && a.verdict !== undefined);
      expect(row.verified).toBe(verified.length);
      expect(row.rate).toBeCloseTo(verified.filter((a) => a.verdict === 'false_alarm').length / verified.length, 9);
    }
    const acks = inPeriod.flatMap((a) =>
      a.acked !== undefined && a.opened !== undefined ? [(a.acked - a.opened) / 1000] : [],
    );
    const all = figures.response.bySeverity.find((r) => r.severity === 'all');
    expect(all?.acknowledge.n).toBe(acks.length);
    // alert_event times may sit 1 ms after the store's (one point per series and millisecond).
    expect(all?.acknowledge.meanS).toBeCloseTo(acks.reduce((x, y) => x + y, 0) / acks.length, 2);
    const sorted = [...acks].sort((x, y) => x - y);
    expect(all?.acknowledge.p90S).toBeCloseTo(sorted[Math.ceil(sorted.length * 0.9) - 1] ?? -1, 2);
    expect(figures.alarms.drillAlerts).toBe([...alerts.values()].filter((a) => a.drill).length);
  });

  it("lists the detectors over GB 50440's 5-a-day line as InfluxDB's own day buckets count them", async () => {
    const perDay = (extra: string) =>
      select(
        `SELECT count("event") FROM "events_1y"."fire" WHERE "sim_run" = '${RUN}' AND "type" = 'event' AND "event" = 'fire'${extra} AND time >= ${period.fromMs}ms AND time < ${period.toMs}ms GROUP BY time(1d), "device", "gateway" fill(none) tz('${TZ}')`,
      );
    // Drill alarms carry drillId (a field): counted apart and taken off.
    const drill = new Map<string, number>();
    for (const s of await perDay(` AND "drillId" =~ /./`)) {
      for (const v of s.values) drill.set(`${s.tags.gateway}/${s.tags.device}@${v[0]}`, v[1] as number);
    }
    const over = (await perDay('')).flatMap((s) =>
      s.values
        .map((v) => [v[0], (v[1] as number) - (drill.get(`${s.tags.gateway}/${s.tags.device}@${v[0]}`) ?? 0)] as const)
        .filter((v) => v[1] > 5)
        .map((v) => ({
          day: new Date(v[0]).toLocaleDateString('sv', { timeZone: TZ }),
          device: s.tags.device,
          count: v[1],
        })),
    );
    expect(over.length).toBeGreaterThan(0);
    expect(
      figures.falseAlarms.overDailyLimit
        .map((r) => ({ day: r.day, device: r.device, count: r.count }))
        .sort((a, b) => `${a.day}${a.device}`.localeCompare(`${b.day}${b.device}`)),
    ).toEqual(over.sort((a, b) => `${a.day}${a.device}`.localeCompare(`${b.day}${b.device}`)));
  });

  it('pushes, escalations and drills match the generated records counted another way', () => {
    const finals = new Map<string, { type: string; status: string }>();
    for (const a of history.alerts)
      for (const d of a.deliveries) finals.set(d.deliveryId, { type: d.channelType, status: d.status });
    for (const c of figures.pushes.byChannel) {
      const mine = [...finals.values()].filter((f) => f.type === c.channelType);
      expect(c.deliveries).toBe(mine.length);
      expect(c.sent).toBe(mine.filter((f) => f.status === 'sent').length);
      expect(c.failed).toBe(mine.filter((f) => f.status === 'gave_up' || f.status === 'failed').length);
    }
    const nonDrill = history.alerts.filter((a) => !a.drillId);
    expect(figures.escalations.escalated).toBe(nonDrill.filter((a) => a.escalationLevel > 0).length);
    expect(figures.drills.drills.map((d) => d.id)).toEqual(history.drills.map((d) => d.id));
    for (const d of figures.drills.drills) {
      const mine = history.alerts.filter((a) => a.drillId === d.id);
      expect(d.alerts).toBe(mine.length);
      const points: number[] = mine.map((a) => {
        const s = ((a.acknowledgedAt ?? Infinity) - a.openedAt) / 1000;
        return s <= 60 ? 100 : s <= 180 ? 60 : s <= 300 ? 30 : 0;
      });
      const silent =
        (history.drills.find((x) => x.id === d.id)?.institutions.length ?? 0) -
        new Set(mine.map((a) => a.institution)).size;
      expect(d.score).toBe(Math.round(points.reduce((x, y) => x + y, 0) / (points.length + silent)));
    }
  });

  it('keeps live data and the simulation apart', () => {
    // Live: one real fire; no status history at all for the gateways but an offline one → offline.
    expect(live.alarms.total).toBe(1);
    expect(live.alarms.byKind.find((k) => k.kind === 'fire')?.real_fire).toBe(1);
    expect(live.drills.drills).toEqual([]);
    expect(live.source).toEqual({ kind: 'live' });
    expect(live.online.total.rate).toBeLessThan(0.01);
    expect(figures.alarms.byKind.find((k) => k.kind === 'fire')?.real_fire).toBe(
      history.alerts.filter((a) => !a.drillId && a.deviceKind === 'fire' && a.verdict === 'real_fire').length,
    );
  });

  it('writes the PDF and the Excel file of that month with its figures', async () => {
    const fonts = CjkFonts.load();
    const pdf = await writePdfReport(figures, fonts);
    const file = join(stack.dir, 'month.pdf');
    await writeFile(file, pdf);
    const { stdout } = await run('pdftotext', ['-layout', file, '-']);
    expect(stdout).toContain('模拟县');
    expect(stdout).toContain('2026年11月');
    expect(stdout).toContain(RUN);
    expect(stdout).toContain(`${((figures.online.total.rate ?? 0) * 100).toFixed(2)}%`);
    expect(stdout).toContain('甲镇敬老院');
    // The first page, for a look (reports/test-artifacts is git-ignored).
    const artifacts = new URL('../test-artifacts/', import.meta.url).pathname;
    await mkdir(artifacts, { recursive: true });
    await run('pdftoppm', [
      '-png',
      '-r',
      '60',
      '-f',
      '1',
      '-l',
      '1',
      '-singlefile',
      file,
      join(artifacts, 'simulated-month-page1'),
    ]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await writeExcelReport(figures)) as unknown as ArrayBuffer);
    const rows: unknown[][] = [];
    wb.getWorksheet('设备在线率')?.eachRow((r) => {
      rows.push((r.values as unknown[]).slice(1));
    });
    expect(rows.find((r) => r[0] === '合计')?.[4]).toBeCloseTo(figures.online.total.rate ?? -1, 12);
  });

  it("runs every Grafana panel's InfluxQL on the month (the simulation run in place of live data)", async () => {
    const files = grafanaFiles(grafanaCountyFromFile(history.county));
    let withData = 0;
    let queries = 0;
    for (const [rel, content] of files) {
      if (!rel.endsWith('.json')) continue;
      const d = JSON.parse(content) as {
        panels: { title: string; targets?: { query?: string }[] }[];
        annotations: { list?: { target?: { query?: string } }[] };
      };
      const qs = [
        ...d.panels.flatMap((p) => (p.targets ?? []).map((t) => [p.title, t.query] as const)),
        ...(d.annotations.list ?? []).map((a) => ['annotation', a.target?.query] as const),
      ];
      for (const [title, q] of qs) {
        if (q === undefined) continue;
        // Grafana's macros as Grafana expands them; the run's data in place of live data.
        const sql = q
          .replaceAll('$timeFilter', `time >= ${period.fromMs}ms AND time < ${period.toMs}ms`)
          .replaceAll('$__interval', '1h')
          .replaceAll('$institution', 'inst-a')
          .replaceAll(`"sim_run" = ''`, `"sim_run" = '${RUN}'`);
        const [r] = await stack.query(sql);
        expect(r?.error, `${rel} ${title}: ${sql}`).toBeUndefined();
        queries++;
        if ((r?.series?.length ?? 0) > 0) withData++;
      }
    }
    expect(queries).toBeGreaterThan(25);
    // Heartbeats and kind-specific fields the history does not write aside, panels show the month.
    expect(withData / queries).toBeGreaterThan(0.7);
  });
});
