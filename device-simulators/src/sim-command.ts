import { readFile } from 'node:fs/promises';
import type { CountyConfig } from '@anlian/protocol';
import { pino } from 'pino';
import type { SimCliOptions } from './cli.js';
import { loadCountyFile, selectInstitutions } from './county/load-county.js';
import { buildLoadCounty, parseLoadSpec } from './county/load-county-builder.js';
import { CountyDrillClient } from './drill/county-drill-client.js';
import { requireDurationMs } from './duration.js';
import { SimErrorCode, SimulatorError } from './errors.js';
import { MessageGenerator } from './generator/message-generator.js';
import { formatTarget } from './generator/select-targets.js';
import { resolveScenarioPath } from './paths.js';
import { CountySimulator, resolveStartMs, simRunFor } from './runner/county-simulator.js';
import type { ProgressOutput } from './runner/progress-reporter.js';
import { type LoadedScenario, loadScenario } from './scenario/load-scenario.js';
import { parseStart } from './scenario/scenario-schema.js';
import { TimeZoneClock } from './time-zone.js';

export interface SimCommandIo {
  stdout: ProgressOutput;
  stderr: { write(chunk: string): unknown };
  now: () => number;
}

/** Institutions a scenario names explicitly, so that `--institutions N` keeps them. */
function scenarioInstitutions(scenario: LoadedScenario | undefined): string[] {
  return (scenario?.faults ?? []).flatMap((f) => (f.target.institution ? [f.target.institution] : []));
}

/** A drill drives the institutions its scenario names, when every fault names one; else the county. */
function drillCounty(county: CountyConfig, scenario: LoadedScenario | undefined): CountyConfig {
  const faults = scenario?.faults ?? [];
  if (faults.length === 0 || faults.some((f) => f.target.institution === undefined)) return county;
  const named = new Set(scenarioInstitutions(scenario));
  return { ...county, institutions: county.institutions.filter((i) => named.has(i.id)) };
}

/** `--no-register`, or the dashboard and an operator's sign-in to register the drill with. */
function drillRegistration(opts: SimCliOptions): { url: string; user: string; password: string } | undefined {
  if (opts.register === false) return undefined;
  if (!opts.user || !opts.dashboardPassword) {
    throw new SimulatorError(
      SimErrorCode.BAD_ARGUMENT,
      'a drill is registered with the county, so that its alarms are tagged as a drill (pushed with [演练] and ' +
        'scored) instead of being treated as real fires: give an operator of the county’s dashboard with --user ' +
        'and ANLIAN_DASHBOARD_PASSWORD (and --dashboard URL), or --no-register against a test broker',
    );
  }
  return { url: opts.dashboard ?? 'http://127.0.0.1:8080', user: opts.user, password: opts.dashboardPassword };
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
    county =
      mode === 'drill' && opts.institutions === undefined && !opts.load
        ? drillCounty(county, scenario)
        : selectInstitutions(county, opts.institutions, scenarioInstitutions(scenario));
    const registration = mode === 'drill' ? drillRegistration(opts) : undefined;
    const tz = new TimeZoneClock(county.county.timezone);
    let start = scenario?.start;
    if (opts.start === 'now') start = undefined;
    else if (opts.start !== undefined) {
      start = parseStart(opts.start);
      if (!start) {
        throw new SimulatorError(
          SimErrorCode.BAD_ARGUMENT,
          `--start ${JSON.stringify(opts.start)}: use now, 2026-11-23T11:00+08:00 or 11:00`,
        );
      }
    }
    const startMs = resolveStartMs(start, io.now(), tz);
    const speed = opts.speed ?? scenario?.speed ?? 1;
    const seed = opts.seed ?? scenario?.seed ?? 1;
    const simRun = simRunFor({ speed, startMs, now: io.now(), simRun: opts.simRun });
    const durationMs = opts.duration === undefined ? undefined : requireDurationMs('--duration', opts.duration);
    const settleMs = opts.settle === undefined ? undefined : requireDurationMs('--settle', opts.settle);

    // Resolve the scenario before connecting anything, so a target that selects nothing fails fast.
    const preview = new MessageGenerator({ county, startMs, seed, ...(scenario ? { scenario } : {}) });
    io.stdout.write(
      `${mode === 'drill' ? 'Drill' : 'Simulation'}: ${county.county.name} — ${county.institutions.length} institutions, ${preview.gatewayCount} gateways, ${preview.deviceCount} devices → ${opts.broker}\n` +
        `  simulated start ${tz.format(startMs)} (${tz.timeZone}), ×${speed}, seed ${seed}\n` +
        (simRun === undefined
          ? ''
          : `  simulation run ${simRun}: not real time, so the county keeps it apart from its live data (or refuses it)\n`),
    );
    if (scenario) {
      io.stdout.write(`  scenario: ${scenario.title.zh} / ${scenario.title.en}\n`);
      for (const f of preview.faults) {
        io.stdout.write(`    ${tz.format(f.atSimMs)}  ${f.id}: ${f.targets.map(formatTarget).join(', ')}\n`);
      }
    }

    // A drill never takes over gateways the county hears now (the simulator of `anlian up --demo`,
    // or real gateways): the same client id would push them off [MQTT-3.1.4-2], each would keep
    // reconnecting and the county would fill with gateway-offline alerts (issue 13).
    let client: CountyDrillClient | undefined;
    if (registration) {
      client = new CountyDrillClient({ baseUrl: registration.url });
      await client.login(registration.user, registration.password);
      const heard = (await client.gateways(county.institutions.map((i) => i.id))).filter((g) => g.state === 'online');
      if (heard.length > 0) {
        const list = heard.map((g) => `${g.gateway} (${g.institution})`);
        throw new SimulatorError(
          SimErrorCode.GATEWAYS_IN_USE,
          `the county hears ${heard.length} of this drill's gateways now: ${list.slice(0, 5).join(', ')}${list.length > 5 ? ', …' : ''}.\n` +
            'They belong to a running simulator (anlian up --demo) or to real gateways; connecting as them would push ' +
            'them off and flood the county with gateway-offline alerts. Nothing was sent.\n' +
            `Play the drill inside the county instead: anlian up --demo --scenario ${opts.scenario ?? 'NAME'}; or stop ` +
            'what drives those gateways first; or start a drill from the dashboard (演练), which the gateways themselves take part in.',
        );
      }
    }
    let drillId: string | undefined;

    const logger = pino({ level: opts.logLevel, base: { svc: 'sim' } }, pino.destination(2));
    const sim = new CountySimulator({
      county,
      brokerUrl: opts.broker,
      seed,
      speed,
      startMs,
      ...(simRun !== undefined ? { simRun } : {}),
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
      ...(client && scenario
        ? {
            // Connected, clock not yet running: register the drill, so what the scenario produces
            // carries its id; the county tells the gateways (cmd/drill-start), they answer.
            onConnected: async (s: CountySimulator) => {
              const gen = s.generator;
              const simMs = gen ? gen.scenarioEndMs + (settleMs ?? scenario.settle) - gen.startMs : 0;
              const drill = await (client as CountyDrillClient).startDrill({
                name: `${scenario.title.zh}（anlian drill）`,
                institutions: [...new Set(s.faults.flatMap((f) => f.targets.map((t) => t.institution)))],
                startsAt: io.now(),
                // Its real-time length plus a margin: ended by this command, or by its window.
                endsAt: io.now() + Math.ceil(simMs / speed) + 10 * 60_000,
              });
              drillId = drill.id;
              s.setDrill(drill.id);
              io.stdout.write(`  registered with the county as drill ${drill.id} (${registration?.url})\n`);
            },
          }
        : {}),
    });
    const onSignal = () => {
      void sim.stop();
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      await sim.start();
      const summary = await sim.done;
      if (client && drillId !== undefined) await printDrillOutcome(client, drillId, io);
      if (mode === 'drill' && summary.faultsFired < summary.faultsTotal) return 1;
      return summary.failed > 0 ? 1 : 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await sim.stop();
      if (client && drillId !== undefined) await client.endDrill(drillId).catch(() => {});
    }
  } catch (err) {
    if (err instanceof SimulatorError) {
      io.stderr.write(`${err.code}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

/** Ends the registered drill and prints how its gateways answered and how its alarms were handled. */
async function printDrillOutcome(client: CountyDrillClient, drillId: string, io: SimCommandIo): Promise<void> {
  await client.endDrill(drillId);
  const drill = await client.drill(drillId);
  const report = await client.report(drillId);
  const starts = (drill?.gateways ?? []).filter((g) => g.command === 'drill-start');
  const s = report.summary;
  io.stdout.write(
    `Drill ${drillId}: ${starts.filter((g) => g.state === 'confirmed').length}/${starts.length} gateways confirmed drill mode; ` +
      `${s.alerts} drill alerts, ${s.acknowledged} acknowledged${s.meanToAcknowledgeS === undefined ? '' : ` (mean ${s.meanToAcknowledgeS} s)`}, ` +
      `${s.verified} verified, ${s.closed} closed` +
      `${s.silentInstitutions.length > 0 ? `; no alert from ${s.silentInstitutions.join(', ')}` : ''}\n`,
  );
}
