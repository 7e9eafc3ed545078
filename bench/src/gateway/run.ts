// bench/gateway: how fast the edge gateway drains a backlog to the county after an outage, and
// what it costs on the box. Prints the figures next to a baseline measured in the same run (raw
// mqtt.js publishing to the same broker) and writes them to bench/results/gateway-<time>.json.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { reservePort } from '@anlian/testing';
import mqtt, { type MqttClient } from 'mqtt';
import { IpcChild } from '../ingest/ipc-child.js';
import { ProcessSampler, type ProcessUsage } from '../ingest/process-sampler.js';
import type { BrokerCommand, BrokerReport } from './broker-messages.js';

const HELP = `bench:gateway — backlog drain rate and footprint of the edge gateway

  npm run bench:gateway                         200 devices × 300 queued readings, 15 s idle
  npm run bench:gateway -- --devices 200 --readings 300 --idle-seconds 15 --inflight 100

Options:
  --devices N        devices of the institution (default 200)
  --readings N       readings per device queued during the outage (default 300: 60,000 messages)
  --inflight N       QoS 1 window of the gateway and of the baseline publisher (default 100, the gateway's default)
  --idle-seconds N   steady state after the drain, every device reporting every 30 s (default 15)
`;

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '200' },
    readings: { type: 'string', default: '300' },
    inflight: { type: 'string', default: '100' },
    'idle-seconds': { type: 'string', default: '15' },
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
// The gateway as deployed: its launcher (deploy/gateway/anlian-gateway.service runs it), which
// execs node with the gateway's flags, so the measured process is the one a box runs.
// GATEWAY_NODE_FLAGS runs `node $GATEWAY_NODE_FLAGS gateway-entry.js` instead, to compare
// flags; GATEWAY_NODE_FLAGS='' measures Node's defaults (what `anlian gateway` gets).
const GATEWAY_LAUNCHER = fileURLToPath(new URL('../../../gateway/bin/anlian-gateway', import.meta.url));
const GATEWAY_ENTRY = fileURLToPath(new URL('../../../gateway/dist/gateway-entry.js', import.meta.url));
const GATEWAY_NODE_FLAGS = process.env.GATEWAY_NODE_FLAGS?.split(' ').filter(Boolean);
const gatewayCommand = (configFile: string): [string, string[]] =>
  GATEWAY_NODE_FLAGS === undefined
    ? [GATEWAY_LAUNCHER, ['--config', configFile]]
    : [process.execPath, [...GATEWAY_NODE_FLAGS, GATEWAY_ENTRY, '--config', configFile]];
/** The measured process's own command line, as the kernel has it (after the launcher's exec). */
async function commandLine(pid: number): Promise<string[]> {
  const until = Date.now() + 5000;
  for (;;) {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
    if (argv.some((a) => a.endsWith('gateway-entry.js')) || Date.now() > until) return argv;
    await new Promise((r) => setTimeout(r, 20));
  }
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
  process.stdout.write(
    `bench:gateway — ${DEVICES} devices, backlog ${fmt(TOTAL)} messages, QoS 1 window ${INFLIGHT}; gateway: ${GATEWAY_NODE_FLAGS === undefined ? 'gateway/bin/anlian-gateway, as deployed' : `node ${GATEWAY_NODE_FLAGS.join(' ') || '(default flags)'} gateway-entry.js`}\n`,
  );

  // Baseline: raw mqtt.js → the same kind of broker, same topics and payloads, same window.
  const port = async () => {
    const r = await reservePort();
    cleanups.push(() => r.release());
    return r.port;
  };
  const baselinePort = await port();
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
  const countyPort = await port();
  const lanPort = await port();
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
  const [command, commandArgs] = gatewayCommand(configFile);
  const gw: ChildProcess = spawn(command, commandArgs, {
    stdio: ['ignore', 'ignore', 'inherit'],
    // The launcher runs `node` from PATH unless NODE says which: the bench's own.
    env: { ...process.env, NODE: process.execPath },
  });
  const gwExited = new Promise((resolve) => gw.once('exit', resolve));
  cleanups.push(async () => {
    if (gw.exitCode === null) gw.kill('SIGKILL');
    await gwExited;
  });
  const pid = gw.pid as number;
  const argv = await commandLine(pid);
  const entryAt = argv.findIndex((a) => a.endsWith('gateway-entry.js'));
  if (entryAt < 0) throw new Error(`the measured process is not the gateway: ${argv.join(' ')}`);
  const nodeFlags = argv.slice(1, entryAt);
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
  gw.kill('SIGTERM');
  await gwExited;

  const result = {
    time: new Date().toISOString(),
    node: process.version,
    devices: DEVICES,
    backlog: TOTAL,
    inflight: INFLIGHT,
    gatewayCommand: [command, ...commandArgs],
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
  await mkdir(RESULTS, { recursive: true });
  const file = path.join(RESULTS, `gateway-${result.time.replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`  written to ${path.relative(process.cwd(), file)}\n`);
}

try {
  await main();
} finally {
  await cleanup();
}
