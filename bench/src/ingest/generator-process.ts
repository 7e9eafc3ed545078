/**
 * The load generator, run as a child process (`fork`) so that it shares neither an event loop nor
 * a heap with the measurer. It publishes QoS 1 telemetry on behalf of every simulated gateway over
 * a few MQTT connections (each connection carries a fixed set of gateways, so every gateway's
 * messages stay in order on one connection) at an exact offered rate.
 */
import { performance } from 'node:perf_hooks';
import { topics } from '@anlian/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { GeneratorCommand, GeneratorReport, GeneratorStepResult, ProbeRecord } from './child-messages.js';
import type { SimGateway } from './province.js';
import { telemetryPayload } from './telemetry-payload.js';

interface GatewayState {
  sim: SimGateway;
  client: MqttClient;
  topics: string[];
  /** Index of this gateway's first device in `lastTs`. */
  deviceBase: number;
  nextDevice: number;
  seq: number;
}

let gateways: GatewayState[] = [];
let clients: MqttClient[] = [];
/** Last `ts` per device: InfluxDB keeps one point per series and time, so a device's ts must grow. */
let lastTs = new Float64Array(0);

function send(report: GeneratorReport): void {
  process.send?.(report);
}

async function init(cmd: Extract<GeneratorCommand, { type: 'init' }>): Promise<void> {
  const started = performance.now();
  clients = await Promise.all(
    Array.from({ length: cmd.connections }, (_, i) =>
      mqtt.connectAsync(cmd.brokerUrl, {
        clientId: `bench-gen-${process.pid}-${i}`,
        protocolVersion: 4,
        clean: true,
        keepalive: 60,
        // A lost connection is a failed run, not something to paper over with a reconnect.
        reconnectPeriod: 0,
      }),
    ),
  );
  for (const c of clients) {
    c.on('error', (err) => send({ type: 'error', message: `generator connection: ${err.message}` }));
    c.on('close', () => {
      if (!exiting) send({ type: 'error', message: 'generator connection closed' });
    });
  }
  let deviceBase = 0;
  gateways = cmd.gateways.map((sim, i) => {
    const addr = { county: sim.county, institution: sim.institution, gateway: sim.gateway };
    const state: GatewayState = {
      sim,
      client: clients[i % clients.length] as MqttClient,
      topics: sim.devices.map((d) => topics.telemetry(addr, d.id)),
      deviceBase,
      nextDevice: 0,
      seq: 0,
    };
    deviceBase += sim.devices.length;
    return state;
  });
  lastTs = new Float64Array(deviceBase);
  send({ type: 'ready', connectMs: Math.round(performance.now() - started) });
}

async function run(cmd: Extract<GeneratorCommand, { type: 'run' }>): Promise<void> {
  const total = Math.round((cmd.rate * cmd.durationMs) / 1000);
  const r: GeneratorStepResult = {
    step: cmd.step,
    published: 0,
    acked: 0,
    failed: 0,
    firstPublishAt: 0,
    lastPublishAt: 0,
    maxTickLagMs: 0,
    ackDrainMs: 0,
  };
  let probes: ProbeRecord[] = [];
  let cursor = 0;
  let messageNo = 0;
  const onAck = (err?: Error) => {
    if (err) r.failed++;
    else r.acked++;
  };

  const publishOne = () => {
    const g = gateways[cursor] as GatewayState;
    cursor = (cursor + 1) % gateways.length;
    const d = g.nextDevice;
    g.nextDevice = (d + 1) % g.topics.length;
    const slot = g.deviceBase + d;
    let ts = Date.now();
    const prev = lastTs[slot] as number;
    if (ts <= prev) ts = prev + 1;
    lastTs[slot] = ts;
    const seq = g.seq++;
    const kind = g.sim.devices[d]?.kind ?? 'fire';
    g.client.publish(g.topics[d] as string, telemetryPayload(kind, ts, seq, messageNo++), { qos: 1 }, onAck);
    if (g.sim.probe) probes.push({ gateway: g.sim.gateway, seq, ts });
    if (r.published === 0) r.firstPublishAt = ts;
    r.lastPublishAt = ts;
    r.published++;
  };

  // Fixed-rate schedule: at every tick publish what is due by now, so the offered rate is exact
  // however late a tick fires (a late tick publishes a larger burst, and the lag is reported).
  const start = performance.now();
  let lastTick = start;
  let lastProgress = start;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      r.maxTickLagMs = Math.max(r.maxTickLagMs, now - lastTick - cmd.tickMs);
      lastTick = now;
      const due = Math.min(total, Math.floor((cmd.rate * (now - start)) / 1000));
      while (r.published < due) publishOne();
      if (now - lastProgress >= 500) {
        lastProgress = now;
        send({ type: 'progress', step: cmd.step, published: r.published, acked: r.acked, probes });
        probes = [];
      }
      if (r.published >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, cmd.tickMs);
  });

  const drainStart = performance.now();
  while (r.acked + r.failed < r.published && performance.now() - drainStart < cmd.ackTimeoutMs) {
    await new Promise((res) => setTimeout(res, 5));
  }
  r.ackDrainMs = Math.round(performance.now() - drainStart);
  r.maxTickLagMs = Math.round(r.maxTickLagMs * 10) / 10;
  send({ type: 'done', result: r, probes });
}

let exiting = false;
let queue: Promise<void> = Promise.resolve();
process.on('message', (cmd: GeneratorCommand) => {
  if (cmd.type === 'exit') {
    // Not queued behind a running step: the parent is stopping (end of run, error or Ctrl-C).
    exiting = true;
    void Promise.allSettled(clients.map((c) => c.endAsync(true))).then(() => process.exit(0));
    return;
  }
  queue = queue
    .then(async () => {
      switch (cmd.type) {
        case 'init':
          return init(cmd);
        case 'run':
          return run(cmd);
        default: {
          const never: never = cmd;
          throw new Error(`unknown command ${JSON.stringify(never)}`);
        }
      }
    })
    .catch((err: unknown) => {
      send({ type: 'error', message: `generator: ${(err as Error).message}` });
      process.exitCode = 1;
    });
});
// The parent going away ends the generator too (SIGKILL of the parent leaves no orphans behind).
process.on('disconnect', () => process.exit(0));
