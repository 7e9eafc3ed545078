import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadIngestConfig, type RunningIngest, startIngest } from '@anlian/ingest';
import type { CountyConfig } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import { seedCounty } from '@anlian/store';
import { type Influxd, queryV1, startInfluxd } from '@anlian/timeseries';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CountySimulator,
  DEMO_COUNTY_FILE,
  loadCountyFile,
  loadScenario,
  MessageGenerator,
  resolveStartMs,
  SCENARIOS_DIR,
  type SimPublish,
  selectInstitutions,
  TimeZoneClock,
} from '../src/index.js';

// Each shipped drill scenario, played by the live simulator through the real ingest (embedded
// broker, authentication, validation) into a real influxd: every message a fault produced is
// stored as sent, and the broker-side effects (last wills) are stored too.
const scenarioFiles = (await readdir(SCENARIOS_DIR)).filter((f) => f.endsWith('.yaml')).sort();

describe('scenario faults arrive in InfluxDB', () => {
  let influxd: Influxd;
  let ingest: RunningIngest;
  let dataDir: string;
  let county: CountyConfig;
  let brokerUrl: string;
  const target = () => ({ url: influxd.url, generation: 1 as const, database: 'anlian' });
  const rows = async (q: string) => {
    const [r] = await queryV1(target(), q);
    if (r?.error) throw new Error(`${q}: ${r.error}`);
    return r?.series.flatMap((s) => s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]])))) ?? [];
  };

  beforeAll(async () => {
    influxd = await startInfluxd();
    dataDir = await mkdtemp(path.join(tmpdir(), 'anlian-scenarios-'));
    await seedCounty({ file: DEMO_COUNTY_FILE, db: { sqlitePath: path.join(dataDir, 'anlian.db') }, print: () => {} });
    const { freePort } = await import('@anlian/testing');
    const port = await freePort();
    brokerUrl = `mqtt://127.0.0.1:${port}`;
    ingest = await startIngest(
      loadIngestConfig({
        ANLIAN_DATA_DIR: dataDir,
        ANLIAN_MQTT_HOST: '127.0.0.1',
        ANLIAN_MQTT_PORT: String(port),
        ANLIAN_HTTP_PORT: '0',
        INFLUX_URL: influxd.url,
        INFLUX_FLUSH_INTERVAL_MS: '100',
        // Accelerated runs: kept apart (tag sim_run), as `anlian up` keeps them.
        ANLIAN_SIM_RUNS: 'keep',
      }),
      silentLogger(),
    );
    county = await loadCountyFile(DEMO_COUNTY_FILE);
  });
  afterAll(async () => {
    await ingest?.stop();
    await influxd?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const duplicatesDropped = async () => {
    const body = (await ingest.service.http.inject({ url: '/metrics' })).body;
    return Number(/^anlian_ingest_duplicates_total (\d+)/m.exec(body)?.[1] ?? 0);
  };

  it.each(scenarioFiles)('%s', async (file) => {
    const realStart = Date.now();
    const duplicatesBefore = await duplicatesDropped();
    const scenario = await loadScenario(path.join(SCENARIOS_DIR, file));
    const institutions = scenario.faults.flatMap((f) => (f.target.institution ? [f.target.institution] : []));
    const subset = selectInstitutions(county, 0, institutions);
    const startMs = resolveStartMs(scenario.start, Date.now(), new TimeZoneClock(subset.county.timezone));
    // Fast enough that a scenario's simulated hour or two plays in about 15 s.
    const preview = new MessageGenerator({ county: subset, startMs, scenario, seed: scenario.seed ?? 1 });
    const spanMs = (preview.scenarioEndMs ?? startMs + 600_000) - startMs;
    const speed = Math.max(60, Math.ceil(spanMs / 15_000));

    const faultMessages: SimPublish[] = [];
    const sim = new CountySimulator({ county: subset, brokerUrl, scenario, startMs, speed, untilScenarioEnd: true });
    sim.on('publish', (step) => {
      if (step.fault !== undefined && !step.duplicate) faultMessages.push(step);
    });
    await sim.start();
    const summary = await sim.done;
    expect(summary.errors).toEqual([]);
    expect(summary.faultsFired).toBe(sim.faults.length);

    // Every message a fault produced is in InfluxDB with the values sent (retried until the
    // writer's last batch has landed).
    const missing = async () => {
      const out: string[] = [];
      for (const step of faultMessages) {
        const d = step.data as Record<string, unknown>;
        const rp = step.type === 'telemetry' || step.type === 'heartbeat' ? '' : '"events_1y".';
        const measurement = step.type === 'status' || step.type === 'heartbeat' ? 'gateway' : String(d.kind);
        const where = step.device ? `device = '${step.device}' AND ` : '';
        const found = await rows(
          `SELECT * FROM ${rp}"${measurement}" WHERE ${where}gateway = '${step.gateway}' AND time = ${Number(d.ts)}ms`,
        );
        const point = found[0];
        const differs = Object.entries(d).filter(
          ([k, v]) => !['v', 'ts', 'kind', 'medium', 'simRun'].includes(k) && typeof v !== 'object' && point?.[k] !== v,
        );
        // The run's id is the point's `sim_run` tag: kept apart from the county's live data.
        if (point && point.sim_run !== d.simRun) differs.push(['sim_run', point.sim_run]);
        if (!point || differs.length > 0)
          out.push(`${step.topic} ts=${d.ts}: ${point ? JSON.stringify(differs) : 'not stored'}`);
      }
      return out;
    };
    let notStored = await missing();
    for (let i = 0; i < 40 && notStored.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 250));
      notStored = await missing();
    }
    expect(notStored.slice(0, 5)).toEqual([]);

    // Broker-side effects and absences that have no message of their own.
    for (const fault of sim.faults) {
      if (fault.type === 'gateway-drop') {
        for (const t of fault.targets) {
          const wills = await rows(
            `SELECT state FROM "events_1y".gateway WHERE gateway = '${t.gateway}' AND reason = 'will' AND time >= ${realStart}ms`,
          );
          expect(wills.length, `last will of ${t.gateway}`).toBeGreaterThan(0);
        }
      }
      if (fault.type === 'silent-device' && fault.endSimMs !== undefined) {
        for (const t of fault.targets) {
          const during = await rows(
            `SELECT count(seq) FROM fire WHERE device = '${t.device}' AND gateway = '${t.gateway}' AND time > ${fault.atSimMs + 1000}ms AND time < ${fault.endSimMs}ms`,
          );
          expect(during, `silence of ${t.device}`).toEqual([]);
        }
      }
      if (fault.type === 'duplicates') {
        // Redelivered with the same sequence numbers: the county dropped every one of them.
        const sent = (scenario.faults[fault.index] as { count?: number }).count ?? 0;
        expect(await duplicatesDropped()).toBeGreaterThanOrEqual(duplicatesBefore + sent);
      }
    }
    const producesMessages = ['fire-alarm', 'kitchen-overheat', 'extinguisher-pressure-drop', 'camera'];
    if (scenario.faults.some((f) => producesMessages.includes(f.type))) expect(faultMessages.length).toBeGreaterThan(0);
  });
});
