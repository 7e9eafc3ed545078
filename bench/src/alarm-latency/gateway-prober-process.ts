/**
 * The gateway prober (`bench:alarm-latency --via-gateway`), run as a child process: the probe
 * gateway's fire detectors as simulated sensors on the real gateway's LAN broker (one MQTT 3.1.1
 * connection, QoS 1, `sensors/{device}/event` with `{"event":"fire","ts":…}`, as
 * `anlian sim --device-mode` publishes them), a fire alarm every 200–500 ms at a detector that has
 * not alarmed yet. Beside them two plain subscribers stamp each alarm on the way: one on the LAN
 * broker (`sensors/+/event`), one on the county broker on the gateway's event topics (its forward).
 */
import { performance } from 'node:perf_hooks';
import { lanTopic } from '@anlian/device-simulators';
import { StatusPayload, topics } from '@anlian/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { HopProbeRecord, HopProberCommand, HopProberReport } from './gateway-hop-messages.js';
import { LoopDelayMonitor } from './loop-delay-monitor.js';

type Init = Extract<HopProberCommand, { type: 'init' }>;

let sensors: MqttClient | undefined;
let lanWatch: MqttClient | undefined;
let countyWatch: MqttClient | undefined;
let detectors: string[] = [];
let gatewayId = '';
let exiting = false;
/** Each detector alarms once, so its LAN topic and its county topic each name one probe. */
const byLanTopic = new Map<string, HopProbeRecord>();
const byCountyTopic = new Map<string, HopProbeRecord>();
const loop = new LoopDelayMonitor();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function send(report: HopProberReport): void {
  process.send?.(report);
}

function fail(message: string): void {
  if (!exiting) send({ type: 'error', message });
}

/** The gateway's LAN broker comes up a moment after its process starts: try until it answers. */
async function connectLan(url: string, clientId: string, until: number): Promise<MqttClient> {
  for (;;) {
    try {
      return await mqtt.connectAsync(url, {
        clientId,
        protocolVersion: 4,
        clean: true,
        keepalive: 30,
        connectTimeout: 2000,
        // A lost connection is a failed run, not something to paper over with a reconnect.
        reconnectPeriod: 0,
      });
    } catch (err) {
      if (Date.now() > until) throw new Error(`the gateway's LAN broker ${url}: ${(err as Error).message}`);
      await sleep(100);
    }
  }
}

async function init(cmd: Init): Promise<void> {
  const started = performance.now();
  const until = Date.now() + cmd.startTimeoutMs;
  const addr = { county: cmd.gateway.county, institution: cmd.gateway.institution, gateway: cmd.gateway.gateway };
  gatewayId = cmd.gateway.gateway;
  detectors = [...cmd.gateway.detectors];

  // The county side first: the gateway's retained `online` says its uplink is up.
  let online: () => void = () => {};
  const onlineP = new Promise<void>((r) => {
    online = r;
  });
  const statusTopic = topics.status(addr);
  countyWatch = await mqtt.connectAsync(cmd.countyUrl, {
    clientId: `bench-alarm-gw-county-watch-${process.pid}`,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
  });
  countyWatch.on('message', (topic, payload) => {
    const now = Date.now();
    if (topic === statusTopic) {
      const status = StatusPayload.safeParse(JSON.parse(payload.toString('utf8')));
      if (status.success && status.data.state === 'online') online();
      return;
    }
    const probe = byCountyTopic.get(topic);
    if (probe && probe.countyDeliveredAt === 0) probe.countyDeliveredAt = now;
  });
  countyWatch.on('error', (err) => fail(`county subscriber: ${err.message}`));
  // Every event the gateway forwards (topics.event checks its device segment, so no `+` there).
  const eventFilter = statusTopic.replace(/\/status$/, '/device/+/event');
  await countyWatch.subscribeAsync([statusTopic, eventFilter], { qos: 1 });

  lanWatch = await connectLan(cmd.lanUrl, `bench-lan-watch-${process.pid}`, until);
  lanWatch.on('message', (topic) => {
    const now = Date.now();
    const probe = byLanTopic.get(topic);
    if (probe && probe.lanDeliveredAt === 0) probe.lanDeliveredAt = now;
  });
  lanWatch.on('error', (err) => fail(`LAN subscriber: ${err.message}`));
  await lanWatch.subscribeAsync(lanTopic('+', 'event'), { qos: 1 });
  sensors = await connectLan(cmd.lanUrl, `bench-sensors-${gatewayId}`.slice(0, 64), until);
  sensors.on('error', (err) => fail(`LAN sensors: ${err.message}`));
  for (const c of [countyWatch, lanWatch, sensors]) c.on('close', () => fail('a gateway prober connection closed'));
  const connectMs = Math.round(performance.now() - started);
  const left = until - Date.now();
  const timedOut = sleep(Math.max(0, left)).then(() => {
    throw new Error(`gateway ${gatewayId} was not online at the county broker within ${cmd.startTimeoutMs} ms`);
  });
  await Promise.race([onlineP, timedOut]);
  loop.start();
  send({ type: 'ready', connectMs, gatewayOnlineMs: Math.round(performance.now() - started) });
}

/** The detectors in random order (Fisher–Yates): each alarms at most once in a run. */
function shuffled(ids: readonly string[]): string[] {
  const all = [...ids];
  for (let i = all.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [all[i], all[j]] = [all[j] as string, all[i] as string];
  }
  return all;
}

async function run(cmd: Extract<HopProberCommand, { type: 'run' }>, addr: Parameters<typeof topics.event>[0]) {
  const client = sensors;
  if (!client) throw new Error('run before init');
  const pool = shuffled(detectors);
  const probes: HopProbeRecord[] = [];
  loop.read();
  const end = Date.now() + cmd.durationMs;
  let lastProgress = Date.now();
  while (Date.now() < end) {
    const device = pool.pop();
    if (device === undefined) {
      fail(`gateway prober: ran out of unused detectors after ${probes.length} probes`);
      break;
    }
    const topic = lanTopic(device, 'event');
    const publishedAt = Date.now();
    const probe: HopProbeRecord = {
      gateway: gatewayId,
      device,
      publishedAt,
      lanAckedAt: 0,
      lanDeliveredAt: 0,
      countyDeliveredAt: 0,
    };
    byLanTopic.set(topic, probe);
    byCountyTopic.set(topics.event(addr, device), probe);
    probes.push(probe);
    // What a sensor sends (gateway/README.md, lan-mqtt): the gateway adds kind, zone and seq.
    client.publish(topic, JSON.stringify({ event: 'fire', ts: publishedAt }), { qos: 1 }, (err) => {
      if (err) fail(`fire alarm on ${topic}: ${err.message}`);
      else probe.lanAckedAt = Date.now();
    });
    if (Date.now() - lastProgress >= 1000) {
      lastProgress = Date.now();
      send({
        type: 'progress',
        published: probes.length,
        countyDelivered: probes.filter((p) => p.countyDeliveredAt).length,
      });
    }
    await sleep(cmd.minIntervalMs + Math.random() * (cmd.maxIntervalMs - cmd.minIntervalMs));
  }
  // Let the last ones through the gateway (it normally takes a few ms).
  const settleEnd = Date.now() + cmd.settleMs;
  const open = (p: HopProbeRecord) => p.lanAckedAt === 0 || p.lanDeliveredAt === 0 || p.countyDeliveredAt === 0;
  while (Date.now() < settleEnd && probes.some(open)) await sleep(20);
  send({ type: 'done', probes, loopDelay: loop.read() });
}

let address: Parameters<typeof topics.event>[0] | undefined;
let queue: Promise<void> = Promise.resolve();
process.on('message', (cmd: HopProberCommand) => {
  if (cmd.type === 'exit') {
    exiting = true;
    loop.stop();
    const clients = [sensors, lanWatch, countyWatch].filter((c): c is MqttClient => c !== undefined);
    void Promise.allSettled(clients.map((c) => c.endAsync(true))).then(() => process.exit(0));
    return;
  }
  queue = queue
    .then(async () => {
      switch (cmd.type) {
        case 'init':
          address = { county: cmd.gateway.county, institution: cmd.gateway.institution, gateway: cmd.gateway.gateway };
          return init(cmd);
        case 'run':
          if (!address) throw new Error('run before init');
          return run(cmd, address);
        default: {
          const never: never = cmd;
          throw new Error(`unknown command ${JSON.stringify(never)}`);
        }
      }
    })
    .catch((err: unknown) => {
      send({ type: 'error', message: `gateway prober: ${(err as Error).message}` });
      process.exitCode = 1;
    });
});
// The parent going away ends the prober too.
process.on('disconnect', () => process.exit(0));
