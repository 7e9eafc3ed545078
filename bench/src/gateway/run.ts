// bench/gateway: how fast the edge gateway drains a backlog to the county after an outage, and
// what it costs on the box. Prints the figures next to a baseline measured in the same run (raw
// mqtt.js publishing to the same broker) and writes them to bench/results/gateway-<time>.json.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { freePort } from '@anlian/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { IpcChild } from '../ingest/ipc-child.js';
import { ProcessSampler, type ProcessUsage } from '../ingest/process-sampler.js';
import type { BrokerCommand, BrokerReport } from './broker-messages.js';
import { type CameraPhaseResult, printCameraPhase, runCameraPhase } from './camera-phase.js';
import { gatewayDescription, spawnGateway } from './gateway-process.js';

const HELP = `bench:gateway — backlog drain rate and footprint of the edge gateway, and its cameras

  npm run bench:gateway                         both phases: backlog drain, then 32 cameras for 7.5 min
  npm run bench:gateway -- --phase drain        200 devices × 300 queued readings, 15 s idle
  npm run bench:gateway -- --phase cameras      32 simulated cameras, fire alarms with video review
  npm run bench:gateway -- --phase cameras --cameras 4 --camera-seconds 60 --diagnose-every 30 --alarms 4   (smoke run)

Options:
  --phase P          drain | cameras | all (default all)
  --devices N        devices of the institution (default 200)
  --readings N       readings per device queued during the outage (default 300: 60,000 messages)
  --inflight N       QoS 1 window of the gateway and of the baseline publisher (default 100, the gateway's default)
  --idle-seconds N   steady state after the drain, every device reporting every 30 s (default 15)
  --cameras N        simulated ONVIF cameras the gateway watches (default 32)
  --camera-seconds N how long the camera phase runs (default 450: every camera diagnosed twice at the defaults)
  --diagnose-every N the adapter's diagnoseEveryS (default 300, the gateway's default)
  --camera-size WxH  the cameras' stream (default 640x360, a sub-stream)
  --alarms N         fire alarms during the camera phase, alternately in a zone two cameras cover and in
                     one no camera covers (default 12)
`;

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '200' },
    readings: { type: 'string', default: '300' },
    inflight: { type: 'string', default: '100' },
    'idle-seconds': { type: 'string', default: '15' },
    phase: { type: 'string', default: 'all' },
    cameras: { type: 'string', default: '32' },
    'camera-seconds': { type: 'string', default: '450' },
    'diagnose-every': { type: 'string', default: '300' },
    'camera-size': { type: 'string', default: '640x360' },
    alarms: { type: 'string', default: '12' },
    help: { type: 'boolean', default: false },
  },
});
if (args.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const DEVICES = Number(args.devices);
const READINGS = Number(args.readings);
const INFLIGHT = Number(args.inflight);
const IDLE_S = Number(args['idle-seconds']);
const TOTAL = DEVICES * READINGS;
const PHASE = args.phase;
if (PHASE !== 'all' && PHASE !== 'drain' && PHASE !== 'cameras') {
  process.stderr.write(`--phase ${PHASE}: use drain, cameras or all\n`);
  process.exit(2);
}
const RESULTS = fileURLToPath(new URL('../../results/', import.meta.url));
const PREFIX = 'anlian/v1/bench/inst-bench/gw-bench';
const deviceId = (i: number) => `dev-${String(i).padStart(4, '0')}`;
const T0 = Date.UTC(2026, 10, 23, 3, 0, 0);
const reading = (i: number, r: number) =>
  JSON.stringify({ ts: T0 + r * 30_000 + i, battery: 80 + (r % 10), signal: -70 });

const cleanups: (() => Promise<unknown> | unknown)[] = [];
async function cleanup(): Promise<void> {
  while (cleanups.length > 0) await Promise.resolve(cleanups.pop()?.()).catch(() => {});
}
process.once('SIGINT', () => {
  void cleanup().then(() => process.exit(130));
});

function startBroker(port: number): Promise<IpcChild<BrokerCommand, BrokerReport>> {
  const broker = new IpcChild<BrokerCommand, BrokerReport>(
    'county broker',
    new URL('./counting-broker-process.js', import.meta.url),
  );
  cleanups.push(() => broker.stop({ type: 'exit' }));
  broker.send({ type: 'listen', port });
  return broker.next('listening', 10_000).then(() => broker);
}

/** Publishes `messages` with QoS 1, at most `window` unacknowledged; resolves with the wall time. */
async function publishAll(client: MqttClient, messages: Iterable<[string, string]>, window: number): Promise<number> {
  const started = performance.now();
  const it = messages[Symbol.iterator]();
  await new Promise<void>((resolve, reject) => {
    let inflight = 0;
    let done = false;
    const pump = () => {
      while (!done && inflight < window) {
        const n = it.next();
        if (n.done) {
          done = true;
          break;
        }
        inflight++;
        client.publish(n.value[0], n.value[1], { qos: 1 }, (err) => {
          if (err) return reject(err);
          inflight--;
          if (done && inflight === 0) resolve();
          else pump();
        });
      }
      if (done && inflight === 0) resolve();
    };
    pump();
  });
  return (performance.now() - started) / 1000;
}

function* backlog(topicOf: (device: string) => string): Generator<[string, string]> {
  for (let r = 0; r < READINGS; r++) for (let i = 0; i < DEVICES; i++) yield [topicOf(deviceId(i)), reading(i, r)];
}

async function connectWhenUp(url: string, clientId: string): Promise<MqttClient> {
  const until = Date.now() + 15_000;
  for (;;) {
    try {
      return await mqtt.connectAsync(url, { clientId, reconnectPeriod: 0, connectTimeout: 2000 });
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'anlian-bench-gw-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const time = new Date().toISOString();
  const drain = PHASE === 'cameras' ? undefined : await drainPhase(dir);
  let cameras: CameraPhaseResult | undefined;
  if (PHASE !== 'drain') {
    const [width, height] = args['camera-size'].split('x').map(Number);
    cameras = await runCameraPhase({
      dir: path.join(dir, 'cameras'),
      cameras: Number(args.cameras),
      seconds: Number(args['camera-seconds']),
      diagnoseEveryS: Number(args['diagnose-every']),
      width: width ?? 640,
      height: height ?? 360,
      alarms: Number(args.alarms),
      cleanups,
      log: (line) => process.stdout.write(line),
    });
    printCameraPhase(cameras, (line) => process.stdout.write(line));
  }
  await mkdir(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `gateway-${time.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ time, node: process.version, ...drain, cameras }, null, 2)}\n`);
  process.stdout.write(`  written to ${path.relative(process.cwd(), file)}\n`);
}

/** Backlog drain after an outage, and the footprint around it. */
async function drainPhase(dir: string): Promise<Record<string, unknown>> {
  process.stdout.write(
    `bench:gateway — ${DEVICES} devices, backlog ${fmt(TOTAL)} messages, QoS 1 window ${INFLIGHT}; gateway: ${gatewayDescription()}\n`,
  );

  // Baseline: raw mqtt.js → the same kind of broker, same topics and payloads, same window.
  const baselinePort = await freePort();
  const baselineBroker = await startBroker(baselinePort);
  const raw = await mqtt.connectAsync(`mqtt://127.0.0.1:${baselinePort}`, { clientId: 'baseline', reconnectPeriod: 0 });
  baselineBroker.send({ type: 'expect', count: TOTAL });
  const counted = baselineBroker.next('counted', 300_000);
  const rawPublishS = await publishAll(
    raw,
    backlog((d) => `${PREFIX}/device/${d}/telemetry`),
    INFLIGHT,
  );
  const rawCount = await counted;
  await raw.endAsync();
  await baselineBroker.stop({ type: 'exit' });
  const baselineRate = TOTAL / rawPublishS;
  process.stdout.write(`  baseline: raw mqtt.js QoS 1 publish ${fmt(baselineRate)} msg/s (${fmt(rawPublishS, 2)} s)\n`);

  // The gateway as its own process, its county link down: nothing listens at the county port yet.
  const countyPort = await freePort();
  const lanPort = await freePort();
  const config = {
    gateway: { county: 'bench', institution: 'inst-bench', id: 'gw-bench' },
    county: {
      url: `mqtt://127.0.0.1:${countyPort}`,
      password: 'bench-secret-not-checked',
      reconnect: { initialMs: 500, maxMs: 1000 },
    },
    dataDir: path.join(dir, 'data'),
    // Unlimited here, to measure what the gateway can drain; deployments keep a limit (default 500 msg/s).
    replay: { ratePerS: 1_000_000, inflight: INFLIGHT },
    devices: Array.from({ length: DEVICES }, (_, i) => ({ id: deviceId(i), kind: 'fire' })),
    adapters: [{ type: 'lan-mqtt', host: '127.0.0.1', port: lanPort }],
    logLevel: 'warn',
  };
  const configFile = path.join(dir, 'gateway.json');
  await writeFile(configFile, JSON.stringify(config));
  const gw = await spawnGateway(configFile);
  cleanups.push(() => gw.kill());
  const { pid, nodeFlags } = gw;
  process.stdout.write(`  gateway process: node ${nodeFlags.join(' ') || '(default flags)'} gateway-entry.js\n`);

  const whole = new ProcessSampler({ gateway: pid });
  whole.start(100);
  const lan = await connectWhenUp(`mqtt://127.0.0.1:${lanPort}`, 'bench-sensors');
  const startRss = new ProcessSampler({ gateway: pid });
  startRss.start();
  const atStart = startRss.stop().gateway as ProcessUsage;

  // The outage: sensors keep reporting, every reading acknowledged only once it is in the queue.
  const enqueueSampler = new ProcessSampler({ gateway: pid });
  enqueueSampler.start(100);
  const enqueueS = await publishAll(
    lan,
    backlog((d) => `sensors/${d}/telemetry`),
    1000,
  );
  const enqueue = enqueueSampler.stop().gateway as ProcessUsage;
  process.stdout.write(
    `  outage:   ${fmt(TOTAL)} readings queued at ${fmt(TOTAL / enqueueS)} msg/s (LAN MQTT → disk queue)\n`,
  );

  // The county comes back: measure the drain at the broker.
  const drainSampler = new ProcessSampler({ gateway: pid });
  drainSampler.start(100);
  const county = await startBroker(countyPort);
  county.send({ type: 'expect', count: TOTAL });
  const drained = await county.next('counted', 600_000);
  const drain = drainSampler.stop().gateway as ProcessUsage;
  const drainS = (drained.lastAt - drained.firstAt) / 1000;
  const drainRate = TOTAL / drainS;
  process.stdout.write(`  recovery: backlog drained at ${fmt(drainRate)} msg/s (${fmt(drainS, 2)} s)\n`);

  // Steady state: every device every 30 s, heartbeats every 30 s.
  county.send({ type: 'expect', count: Number.MAX_SAFE_INTEGER });
  const idleSampler = new ProcessSampler({ gateway: pid });
  idleSampler.start(250);
  const perTickMs = 30_000 / DEVICES;
  let next = 0;
  const ticker = setInterval(() => {
    const i = next++ % DEVICES;
    lan.publish(`sensors/${deviceId(i)}/telemetry`, reading(i, READINGS + Math.floor(next / DEVICES)), { qos: 1 });
  }, perTickMs);
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  clearInterval(ticker);
  const idle = idleSampler.stop().gateway as ProcessUsage;
  const all = whole.stop().gateway as ProcessUsage;
  await lan.endAsync();
  await gw.stop();

  const result = {
    devices: DEVICES,
    backlog: TOTAL,
    inflight: INFLIGHT,
    gatewayCommand: gw.command,
    gatewayNodeFlags: nodeFlags,
    baseline: { rawMqttPublishPerS: baselineRate, seconds: rawPublishS, brokerCounted: rawCount.count },
    enqueue: { perS: TOTAL / enqueueS, seconds: enqueueS, cpuPercent: enqueue.cpuPercent, maxRssMb: enqueue.maxRssMb },
    drain: { perS: drainRate, seconds: drainS, cpuPercent: drain.cpuPercent, maxRssMb: drain.maxRssMb },
    idle: {
      seconds: idle.wallSeconds,
      cpuPercent: idle.cpuPercent,
      maxRssMb: idle.maxRssMb,
      readingsPerS: DEVICES / 30,
    },
    rss: { atStartMb: atStart.maxRssMb, maxMb: all.maxRssMb },
    targets: { drainPerS: 5000, maxRssMb: 80, idleCpuPercent: 2 },
  };
  const ok = (pass: boolean) => (pass ? 'ok' : 'MISSED');
  process.stdout.write(
    [
      '',
      '  figure                          gateway          baseline / target',
      `  backlog drain                   ${fmt(drainRate).padStart(8)} msg/s   raw mqtt.js ${fmt(baselineRate)} msg/s; target ≥ 5,000  ${ok(drainRate >= 5000)}`,
      `  RSS, whole run (max)            ${fmt(all.maxRssMb, 1).padStart(8)} MB      at start ${fmt(atStart.maxRssMb, 1)} MB, steady state (max) ${fmt(idle.maxRssMb, 1)} MB; target ≤ 80  ${ok(all.maxRssMb <= 80)}`,
      `  CPU, steady state (${DEVICES / 30 < 10 ? fmt(DEVICES / 30, 1) : fmt(DEVICES / 30)} msg/s)    ${fmt(idle.cpuPercent, 2).padStart(8)} %       target < 2  ${ok(idle.cpuPercent < 2)}`,
      `  CPU while draining              ${fmt(drain.cpuPercent, 1).padStart(8)} %       of one core`,
      '',
    ].join('\n'),
  );
  return result;
}

try {
  await main();
} finally {
  await cleanup();
}
