/**
 * The baseline: the least a subscriber can do with the same stream — an MQTT 5 client on a
 * shared subscription that counts messages and reads `ts` from the payload's first bytes for the
 * publish → receive latency. Its own process, like ingest, so CPU and RSS are measured alone.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { SubscriberCommand, SubscriberReport } from './child-messages.js';
import { LatencyRecorder } from './latency-recorder.js';
import { payloadTs } from './telemetry-payload.js';

let client: MqttClient | undefined;
let received = 0;
let firstAt = 0;
let lastAt = 0;
const latency = new LatencyRecorder();
let progressTimer: NodeJS.Timeout | undefined;

function send(report: SubscriberReport): void {
  process.send?.(report);
}

async function init(cmd: Extract<SubscriberCommand, { type: 'init' }>): Promise<void> {
  client = await mqtt.connectAsync(cmd.brokerUrl, {
    clientId: `bench-baseline-${process.pid}`,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 0,
    properties: { receiveMaximum: cmd.receiveMaximum },
  });
  client.on('error', (err) => send({ type: 'error', message: `baseline subscriber: ${err.message}` }));
  client.on('message', (_topic, payload) => {
    const now = Date.now();
    if (received === 0) firstAt = now;
    lastAt = now;
    received++;
    latency.add(now - payloadTs(payload));
  });
  await client.subscribeAsync(cmd.topic, { qos: 1 });
  progressTimer = setInterval(() => send({ type: 'progress', received }), 250);
  send({ type: 'ready' });
}

process.on('message', (cmd: SubscriberCommand) => {
  switch (cmd.type) {
    case 'init':
      init(cmd).catch((err: unknown) =>
        send({ type: 'error', message: `baseline subscriber: ${(err as Error).message}` }),
      );
      return;
    case 'snapshot':
      send({ type: 'snapshot', received, firstAt, lastAt, latency: latency.summary() });
      received = 0;
      firstAt = 0;
      lastAt = 0;
      latency.reset();
      return;
    case 'exit':
      clearInterval(progressTimer);
      client?.endAsync().then(
        () => process.exit(0),
        () => process.exit(1),
      );
      return;
    default: {
      const never: never = cmd;
      throw new Error(`unknown command ${JSON.stringify(never)}`);
    }
  }
});
process.on('disconnect', () => process.exit(0));
