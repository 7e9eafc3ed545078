/**
 * The fire-alarm prober, run as a child process: one MQTT connection per probe gateway (client id
 * = gateway id, MQTT 3.1.1, QoS 1, as gateways publish), a fire event every 200–500 ms (random)
 * at a random detector that has not alarmed yet, and heartbeats so that no gateway-offline alert
 * interferes. Next to it, a plain MQTT 5 subscriber on the probe topics: the broker's own
 * publish → subscriber latency for the very same messages, the baseline.
 */
import { performance } from 'node:perf_hooks';
import { topics } from '@anlian/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { ProbeGateway, ProbeRecord, ProberCommand, ProberReport } from './alarm-messages.js';
import { fireEventPayload, heartbeatPayload } from './fire-event-payload.js';
import { LoopDelayMonitor } from './loop-delay-monitor.js';
import { PROBE_EVENT_FILTER } from './probe-county.js';

interface GatewayState {
  sim: ProbeGateway;
  client: MqttClient;
  seq: number;
  startedAt: number;
}

let gateways: GatewayState[] = [];
let subscriber: MqttClient | undefined;
let heartbeatTimer: NodeJS.Timeout | undefined;
let heartbeats = 0;
let exiting = false;
/** `topic` → the probe published on it (each detector alarms once, so a topic is one probe). */
const byTopic = new Map<string, ProbeRecord>();
const loop = new LoopDelayMonitor();

function send(report: ProberReport): void {
  process.send?.(report);
}

function fail(message: string): void {
  if (!exiting) send({ type: 'error', message });
}

async function init(cmd: Extract<ProberCommand, { type: 'init' }>): Promise<void> {
  const started = performance.now();
  subscriber = await mqtt.connectAsync(cmd.brokerUrl, {
    clientId: `bench-alarm-baseline-${process.pid}`,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
  });
  subscriber.on('message', (topic) => {
    const now = Date.now();
    const probe = byTopic.get(topic);
    if (probe && probe.brokerDeliveredAt === 0) probe.brokerDeliveredAt = now;
  });
  subscriber.on('error', (err) => fail(`prober baseline subscriber: ${err.message}`));
  await subscriber.subscribeAsync(PROBE_EVENT_FILTER, { qos: 1 });
  gateways = await Promise.all(
    cmd.gateways.map(async (sim) => {
      const client = await mqtt.connectAsync(cmd.brokerUrl, {
        clientId: sim.gateway,
        protocolVersion: 4,
        clean: true,
        keepalive: 30,
        // A lost connection is a failed run, not something to paper over with a reconnect.
        reconnectPeriod: 0,
      });
      client.on('error', (err) => fail(`probe gateway ${sim.gateway}: ${err.message}`));
      client.on('close', () => fail(`probe gateway ${sim.gateway}: connection closed`));
      return { sim, client, seq: 0, startedAt: Date.now() };
    }),
  );
  for (const c of [subscriber, ...gateways.map((g) => g.client)]) {
    c.on('close', () => fail('a prober connection closed'));
  }
  const beat = () => {
    for (const g of gateways) {
      const addr = { county: g.sim.county, institution: g.sim.institution, gateway: g.sim.gateway };
      const payload = heartbeatPayload(Date.now(), ++g.seq, Math.round((Date.now() - g.startedAt) / 1000));
      g.client.publish(topics.heartbeat(addr), payload, { qos: 1 }, (err) => {
        if (err) fail(`heartbeat of ${g.sim.gateway}: ${err.message}`);
      });
      heartbeats++;
    }
  };
  beat();
  heartbeatTimer = setInterval(beat, cmd.heartbeatMs);
  loop.start();
  send({ type: 'ready', connectMs: Math.round(performance.now() - started) });
}

/** Every (gateway, detector) once, in random order (Fisher–Yates). */
function shuffledDetectors(): { g: GatewayState; device: string }[] {
  const all = gateways.flatMap((g) => g.sim.detectors.map((device) => ({ g, device })));
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [all[i], all[j]] = [all[j] as (typeof all)[number], all[i] as (typeof all)[number]];
  }
  return all;
}

async function run(cmd: Extract<ProberCommand, { type: 'run' }>): Promise<void> {
  const pool = shuffledDetectors();
  const probes: ProbeRecord[] = [];
  loop.read();
  const end = Date.now() + cmd.durationMs;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  let lastProgress = Date.now();
  while (Date.now() < end) {
    const next = pool.pop();
    if (!next) {
      fail(`prober: ran out of unused detectors after ${probes.length} probes`);
      break;
    }
    const { g, device } = next;
    const addr = { county: g.sim.county, institution: g.sim.institution, gateway: g.sim.gateway };
    const topic = topics.event(addr, device);
    const seq = ++g.seq;
    const publishedAt = Date.now();
    const probe: ProbeRecord = { gateway: g.sim.gateway, device, seq, publishedAt, ackedAt: 0, brokerDeliveredAt: 0 };
    byTopic.set(topic, probe);
    probes.push(probe);
    g.client.publish(topic, fireEventPayload(publishedAt, seq), { qos: 1 }, (err) => {
      if (err) fail(`fire event on ${topic}: ${err.message}`);
      else probe.ackedAt = Date.now();
    });
    if (Date.now() - lastProgress >= 1000) {
      lastProgress = Date.now();
      send({ type: 'progress', published: probes.length, delivered: probes.filter((p) => p.brokerDeliveredAt).length });
    }
    await sleep(cmd.minIntervalMs + Math.random() * (cmd.maxIntervalMs - cmd.minIntervalMs));
  }
  // Let the last ones reach the baseline subscriber (it normally takes a few ms).
  const settleEnd = Date.now() + cmd.settleMs;
  while (Date.now() < settleEnd && probes.some((p) => p.brokerDeliveredAt === 0 || p.ackedAt === 0)) await sleep(20);
  send({ type: 'done', probes, heartbeats, loopDelay: loop.read() });
}

let queue: Promise<void> = Promise.resolve();
process.on('message', (cmd: ProberCommand) => {
  if (cmd.type === 'exit') {
    exiting = true;
    clearInterval(heartbeatTimer);
    loop.stop();
    const clients = [...gateways.map((g) => g.client), ...(subscriber ? [subscriber] : [])];
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
      send({ type: 'error', message: `prober: ${(err as Error).message}` });
      process.exitCode = 1;
    });
});
// The parent going away ends the prober too.
process.on('disconnect', () => process.exit(0));
