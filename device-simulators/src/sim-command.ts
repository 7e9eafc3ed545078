import { readFile } from 'node:fs/promises';
import type { CountyConfig } from '@anlian/protocol';
import { pino } from 'pino';
import type { SimCliOptions } from './cli.js';
import { loadCountyFile, selectInstitutions } from './county/load-county.js';
import { buildLoadCounty, parseLoadSpec } from './county/load-county-builder.js';
import { requireDurationMs } from './duration.js';
import { SimErrorCode, SimulatorError } from './errors.js';
import { MessageGenerator } from './generator/message-generator.js';
import { formatTarget } from './generator/select-targets.js';
import { resolveScenarioPath } from './paths.js';
import { CountySimulator, resolveStartMs } from './runner/county-simulator.js';
import type { ProgressOutput } from './runner/progress-reporter.js';
import { type LoadedScenario, loadScenario } from './scenario/load-scenario.js';
import { parseStart, type ScenarioStart } from './scenario/scenario-schema.js';
import { TimeZoneClock } from './time-zone.js';

export interface SimCommandIo {
  stdout: ProgressOutput;
  stderr: { write(chunk: string): unknown };
  now: () => number;
}

/** Resolves a start: an instant as is, a local time of day to its latest occurrence at or before `now`. */
/** Institutions a scenario names explicitly, so that `--institutions N` keeps them. */
function scenarioInstitutions(scenario: LoadedScenario | undefined): string[] {
  return (scenario?.faults ?? []).flatMap((f) => (f.target.institution ? [f.target.institution] : []));
}

/**
 * `anlian sim` / `anlian drill`: loads the county (or builds a load county) and the scenario,
 * runs the live simulator with a progress line, prints the summary. Returns the exit code:
 * 0; 1 when a drill did not fire all its faults or publishes failed; 2 for bad input.
 */
export async function runSimCommand(
  opts: SimCliOptions,
  mode: 'sim' | 'drill',
  io: SimCommandIo = { stdout: process.stdout, stderr: process.stderr, now: Date.now },
): Promise<number> {
  try {
    const scenario = opts.scenario ? await loadScenario(resolveScenarioPath(opts.scenario)) : undefined;
    let county: CountyConfig = opts.load
      ? buildLoadCounty(parseLoadSpec(opts.load))
      : await loadCountyFile(opts.county);
    county = selectInstitutions(county, opts.institutions, scenarioInstitutions(scenario));
    const tz = new TimeZoneClock(county.county.timezone);
    let start = scenario?.start;
    if (opts.start !== undefined) {
      start = parseStart(opts.start);
      if (!start) {
        throw new SimulatorError(
          SimErrorCode.BAD_ARGUMENT,
          `--start ${JSON.stringify(opts.start)}: use 2026-11-23T11:00+08:00 or 11:00`,
        );
      }
    }
    const startMs = resolveStartMs(start, io.now(), tz);
    const speed = opts.speed ?? scenario?.speed ?? 1;
    const seed = opts.seed ?? scenario?.seed ?? 1;
    const durationMs = opts.duration === undefined ? undefined : requireDurationMs('--duration', opts.duration);
    const settleMs = opts.settle === undefined ? undefined : requireDurationMs('--settle', opts.settle);

    // Resolve the scenario before connecting anything, so a target that selects nothing fails fast.
    const preview = new MessageGenerator({ county, startMs, seed, ...(scenario ? { scenario } : {}) });
    io.stdout.write(
      `${mode === 'drill' ? 'Drill' : 'Simulation'}: ${county.county.name} — ${county.institutions.length} institutions, ${preview.gatewayCount} gateways, ${preview.deviceCount} devices → ${opts.broker}\n` +
        `  simulated start ${tz.format(startMs)} (${tz.timeZone}), ×${speed}, seed ${seed}\n`,
    );
    if (scenario) {
      io.stdout.write(`  scenario: ${scenario.title.zh} / ${scenario.title.en}\n`);
      for (const f of preview.faults) {
        io.stdout.write(`    ${tz.format(f.atSimMs)}  ${f.id}: ${f.targets.map(formatTarget).join(', ')}\n`);
      }
    }

    const logger = pino({ level: opts.logLevel, base: { svc: 'sim' } }, pino.destination(2));
    const sim = new CountySimulator({
      county,
      brokerUrl: opts.broker,
      seed,
      speed,
      startMs,
      ...(scenario ? { scenario } : {}),
      ...(durationMs === undefined ? {} : { durationMs }),
      untilScenarioEnd: mode === 'drill',
      ...(settleMs === undefined ? {} : { settleMs }),
      ...(opts.username !== undefined || opts.password !== undefined
        ? {
            credentials: (gw) => ({
              username: opts.username ?? gw.id,
              ...((opts.password ?? gw.secret) === undefined ? {} : { password: opts.password ?? gw.secret }),
            }),
          }
        : {}),
      naturalFaults: opts.naturalFaults,
      ...(opts.caFile ? { mqtt: { ca: await readFile(opts.caFile) } } : {}),
      // Load runs measure the broker and ingest, not our schema checks.
      validate: !opts.load,
      logger,
      output: io.stdout,
    });
    const onSignal = () => {
      void sim.stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await sim.start();
      const summary = await sim.done;
      if (mode === 'drill' && summary.faultsFired < summary.faultsTotal) return 1;
      return summary.failed > 0 ? 1 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await sim.stop();
    }
  } catch (err) {
    if (err instanceof SimulatorError) {
      io.stderr.write(`${err.code}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}
