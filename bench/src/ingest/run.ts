/**
 * The ingest benchmark (`npm run bench:ingest`): a fixed-rate QoS 1 generator for a simulated
 * province against (A) a minimal counting subscriber — the baseline — and (B) the real ingest
 * service writing to InfluxDB, on a private mosquitto and influxd. See bench/README.md.
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type InfluxTarget, startInfluxd } from '@anlian/timeseries';
import { type BenchBroker, startBenchBroker } from './bench-broker.js';
import { type BenchOptions, parseBenchOptions, USAGE } from './bench-options.js';
import type { GeneratorCommand, GeneratorReport, SubscriberCommand, SubscriberReport } from './child-messages.js';
import { childPidByName } from './child-pid.js';
import { summarizeCpuProfile } from './cpu-profile-summary.js';
import { IngestProcess, shippedIngestNodeFlags } from './ingest-process.js';
import { IpcChild } from './ipc-child.js';
import { machineInfo } from './machine-info.js';
import { buildProvince, PROBE_GATEWAY_REGEX } from './province.js';
import { seedRegistry } from './registry-seed.js';
import { type BenchReport, judgeTargets, maxHeldRate, renderReport } from './report.js';
import { type Generator, runBaselineStep, runIngestStep, type StepContext, type Subscriber } from './run-steps.js';
import type { StepResult } from './step-result.js';
import { reservedPort, type Teardown, withTeardown } from './teardown.js';
import { checkTelemetryPayloads } from './telemetry-payload.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const INFLUX_DATABASE = 'anlian';
const BASELINE_TOPIC = '$share/bench/anlian/v1/#';

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<number> {
  let opts: BenchOptions;
  try {
    const parsed = parseBenchOptions(process.argv.slice(2));
    if (parsed === 'help') {
      log(USAGE);
      return 0;
    }
    opts = parsed;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  checkTelemetryPayloads();
  return withTeardown((teardown) => runBench(opts, teardown));
}

async function runBench(opts: BenchOptions, teardown: Teardown): Promise<number> {
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsDir = resolve(REPO_ROOT, opts.resultsDir);
  await mkdir(resultsDir, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'anlian-bench-ingest-'));
  teardown.add('temp dir', () => rm(tmp, { recursive: true, force: true }));

  const machine = machineInfo();
  log(`Anlian ingest benchmark — ${startedAt.toISOString()}`);
  log(`machine: ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, ${machine.mosquitto}, ${machine.influxd}`);
  log(`load average at start: ${machine.loadAverage.join(' ')} (other work on this machine competes with the bench)`);
  log(
    `plan: rates ${opts.rates.join(', ')} msg/s × ${opts.durationS} s${opts.findMax ? ' (find-max: stop a phase at its first failing rate)' : ''}; ` +
      `phases: ${[opts.phases.baseline && 'baseline', opts.phases.ingest && 'ingest'].filter(Boolean).join(' then ')}`,
  );

  const influxd = await startInfluxd({ logLevel: 'warn' });
  teardown.add('influxd', () => influxd.stop());
  teardown.diagnose('influxd', () => `${influxd.running ? 'running' : 'NOT RUNNING'}\n${influxd.logTail()}`);
  const influxPid = childPidByName('influxd');
  const broker: BenchBroker = await startBenchBroker({
    maxQueuedMessages: opts.brokerMaxQueued,
    maxInflightMessages: opts.brokerMaxInflight,
  });
  teardown.add('mosquitto', () => broker.stop());
  teardown.diagnose('mosquitto', () => broker.logTail());
  log(`influxd ${influxd.url} (pid ${influxPid}); mosquitto ${broker.url} (pid ${broker.pid}): ${broker.description}`);

  const province = buildProvince(opts.gateways);
  log(
    `province: ${province.gateways.length} gateways in ${province.counties.length} counties, ${province.devices} devices; ` +
      `generator: ${opts.connections} MQTT 3.1.1 connections × ${Math.ceil(opts.gateways / opts.connections)} gateways, QoS 1, tick ${opts.tickMs} ms`,
  );
  const dataDir = join(tmp, 'ingest-data');
  const setup: Record<string, unknown> = {
    broker: broker.description,
    gateways: province.gateways.length,
    counties: province.counties.length,
    devices: province.devices,
    connections: opts.connections,
    probeGateways: `gateway =~ /${PROBE_GATEWAY_REGEX}/ (${province.gateways.filter((g) => g.probe).length})`,
  };
  if (opts.phases.ingest) {
    const seeded = await seedRegistry(join(dataDir, 'anlian.db'), province);
    setup.registrySeedMs = seeded.ms;
    log(`registry seeded through Registry.importCounty in ${(seeded.ms / 1000).toFixed(1)} s`);
  }

  const generator: Generator = new IpcChild<GeneratorCommand, GeneratorReport>(
    'generator',
    new URL('./generator-process.js', import.meta.url),
  );
  teardown.add('generator', () => generator.stop({ type: 'exit' }));
  generator.send({ type: 'init', brokerUrl: broker.url, connections: opts.connections, gateways: province.gateways });
  const ready = await generator.next('ready', 120_000);
  setup.generatorConnectMs = ready.connectMs;

  const otherPids = { generator: generator.pid, mosquitto: broker.pid, influxd: influxPid };
  const steps: StepResult[] = [];
  const ctxFor = (rate: number, step: number): StepContext => ({
    generator,
    otherPids,
    rate,
    durationS: opts.durationS,
    tickMs: opts.tickMs,
    drainTimeoutS: opts.drainTimeoutS,
    step,
    log,
  });
  const summarize = (s: StepResult) =>
    log(
      `  → ${s.phase} @ ${s.offeredRate}/s: published ${s.published}, acked ${s.acked}, delivered ${s.delivered}, loss ${s.loss}, ` +
        `p50/p99/max ${Math.round(s.latency.p50)}/${Math.round(s.latency.p99)}/${Math.round(s.latency.max)} ms, ` +
        `CPU ${(s.usage[s.phase]?.cpuPercent ?? 0).toFixed(0)} %, RSS ${(s.usage[s.phase]?.maxRssMb ?? 0).toFixed(0)} MB — ${s.held ? 'held' : 'NOT held'}`,
    );
  let stepNo = 0;

  if (opts.phases.baseline) {
    const subscriber: Subscriber = new IpcChild<SubscriberCommand, SubscriberReport>(
      'baseline subscriber',
      new URL('./baseline-subscriber-process.js', import.meta.url),
    );
    teardown.add('baseline subscriber', () => subscriber.stop({ type: 'exit' }));
    subscriber.send({
      type: 'init',
      brokerUrl: broker.url,
      topic: BASELINE_TOPIC,
      receiveMaximum: opts.baselineReceiveMaximum,
    });
    await subscriber.next('ready', 30_000);
    for (const rate of opts.rates) {
      log(`\nPhase A — baseline (${BASELINE_TOPIC}, count only) at ${rate} msg/s for ${opts.durationS} s`);
      const s = await runBaselineStep(ctxFor(rate, stepNo++), subscriber);
      steps.push(s);
      summarize(s);
      if (!s.held && opts.findMax) break;
      await sleep(2000);
    }
    await subscriber.stop({ type: 'exit' });
  }

  let profile: BenchReport['profile'];
  if (opts.phases.ingest) {
    const profileDir = opts.profile ? join(resultsDir, `ingest-profile-${stamp}`) : undefined;
    const logFile = join(resultsDir, `ingest-${stamp}.log`);
    const target: InfluxTarget = { url: influxd.url, generation: 1, database: INFLUX_DATABASE };
    const ingest = await IngestProcess.start({
      repoRoot: REPO_ROOT,
      dataDir,
      brokerUrl: broker.url,
      influxUrl: influxd.url,
      influxDatabase: INFLUX_DATABASE,
      httpPort: await reservedPort(teardown),
      logFile,
      sessions: opts.ingestSessions,
      nodeFlags: shippedIngestNodeFlags(REPO_ROOT),
      ...(profileDir ? { cpuProfDir: profileDir } : {}),
    });
    teardown.add('ingest', () => ingest.stop());
    log(
      `\ningest: node ${[...shippedIngestNodeFlags(REPO_ROOT), ...(process.env.BENCH_INGEST_NODE_FLAGS ?? '').split(' ').filter(Boolean)].join(' ')} (ingest/bin/node-flags, as deployed); ` +
        `${opts.ingestSessions > 1 ? `startIngest with ${opts.ingestSessions} broker sessions (experiment)` : 'runIngestCommand() as in anlian ingest'} ` +
        `(pid ${ingest.pid}), external broker mode; log ${logFile}`,
    );
    await sleep(2000);
    for (const rate of opts.rates) {
      log(`\nPhase B — ingest → InfluxDB at ${rate} msg/s for ${opts.durationS} s`);
      const s = await runIngestStep(ctxFor(rate, stepNo++), ingest, target, opts.probeIntervalMs);
      steps.push(s);
      summarize(s);
      if (!s.held && opts.findMax) break;
      await sleep(2000);
    }
    const exit = await ingest.stop();
    if (exit.code !== 0) log(`ingest exited with code ${exit.code} signal ${exit.signal}; see ${logFile}`);
    if (profileDir) {
      const files = (await readdir(profileDir)).filter((f) => f.endsWith('.cpuprofile'));
      const file = files[0];
      if (file) profile = await summarizeCpuProfile(join(profileDir, file), REPO_ROOT);
      else log(`no .cpuprofile in ${profileDir}`);
    }
  }

  const maxHeld = { baseline: maxHeldRate(steps, 'baseline'), ingest: maxHeldRate(steps, 'ingest') };
  const ratio = ratioOf(steps, maxHeld, opts);
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    machine,
    options: { ...opts },
    setup,
    method: METHOD,
    steps,
    maxHeld,
    ratio,
    targets: judgeTargets(steps, ratio),
    ...(profile ? { profile } : {}),
  };
  log(`\n${METHOD.join('\n')}\n`);
  log(renderReport(report));
  const jsonFile = join(resultsDir, `ingest-${stamp}.json`);
  await writeFile(jsonFile, `${JSON.stringify(report, (_k, v) => (v === Infinity ? 'Infinity' : v), 2)}\n`);
  log(`\nJSON: ${jsonFile}`);
  return 0;
}

/**
 * Ingest relative to the baseline. With one rate: achieved ingest rate ÷ achieved baseline rate at
 * that rate. With --find-max: highest rate held by ingest ÷ by the baseline (a lower bound of the
 * baseline's capacity if it held every step).
 */
function ratioOf(
  steps: StepResult[],
  maxHeld: Record<'baseline' | 'ingest', number | null>,
  opts: BenchOptions,
): number | null {
  if (opts.findMax) {
    if (maxHeld.baseline === null) return null;
    return (maxHeld.ingest ?? 0) / maxHeld.baseline;
  }
  const b = steps.find((s) => s.phase === 'baseline');
  const i = steps.find((s) => s.phase === 'ingest');
  if (!b || !i || b.achievedRate === 0) return null;
  return i.achievedRate / b.achievedRate;
}

const METHOD = [
  'How this is measured:',
  '- Offered rate: one generator process publishes QoS 1 telemetry round-robin over every gateway (each with its',
  '  own topic prefix and seq counter), at each 10 ms tick exactly what is due since the start — an exact rate.',
  '  `ts` in every payload is the publish time (ms).',
  '- Loss: baseline — messages the subscriber received vs published; ingest — points in InfluxDB',
  '  (SELECT count(seq) over fire, extinguisher, kitchen, camera with time in the step) vs published, after',
  '  waiting (bounded, --drain-timeout) for InfluxDB to hold them all; what is not stored by then counts as',
  '  lost (it may still sit in the broker session). Every publish must also be PUBACKed by the broker.',
  '- Latency: baseline — receive time − payload ts, every message. Ingest — "stored" means queryable: 1 gateway',
  '  in 100 is a probe; its messages are polled for in InfluxDB in a loop, and a point counts as stored at the',
  '  end of the first query that returns it (an upper bound, late by at most one poll). Probes never seen count',
  '  as infinite. ingest lag is ingest’s own receive time − ts (its lag histogram, as bucket bounds), for comparison.',
  '- Achieved rate: delivered ÷ (duration + backlog); backlog = how much later than one p50 latency after the',
  '  last publish the last message arrived (baseline) or the InfluxDB count became complete (ingest, polled).',
  '- CPU and RSS: /proc/PID/stat utime+stime over the step including its drain (% of one core), VmRSS sampled',
  '  every 250 ms (max). The baseline and ingest run as their own processes.',
  '- Broker: mosquitto on 127.0.0.1, anonymous (a benchmark on loopback; production uses per-gateway passwords).',
];

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
