import { topics } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EmbeddedBroker, type EmbeddedBrokerOptions } from '../../src/broker/embedded-broker.js';
import type { InboundMessage, MessageHandler } from '../../src/broker/message-source.js';
import {
  addr,
  closed,
  connectGateway,
  deferred,
  FakeDirectory,
  GW_A,
  GW_B,
  GW_OFF,
  Inbox,
  metricValue,
  refusalCode,
} from './support.js';

const A = addr(GW_A);
const B = addr(GW_B);

let running: EmbeddedBroker[] = [];
afterEach(async () => {
  await Promise.all(running.map((b) => b.stop()));
  running = [];
});

interface Started {
  broker: EmbeddedBroker;
  url: string;
  metrics: Registry;
  inbox: Inbox;
}

/** Starts a broker on a free port whose handler records every message (or runs `handler`). */
async function startBroker(opts: Partial<EmbeddedBrokerOptions> & { handler?: MessageHandler } = {}): Promise<Started> {
  const metrics = new Registry();
  const inbox = new Inbox();
  const broker = new EmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    directory: new FakeDirectory([GW_A, GW_B, GW_OFF]),
    logger: silentLogger(),
    metrics,
    ...opts,
  });
  running.push(broker);
  const handler = opts.handler;
  await broker.start(async (m) => {
    if (handler) await handler(m);
    inbox.push(m);
  });
  return { broker, url: `mqtt://127.0.0.1:${broker.port}`, metrics, inbox };
}

describe('EmbeddedBroker', () => {
  it('delivers a gateway message to the handler, then acknowledges it', async () => {
    const { broker, url, inbox, metrics } = await startBroker();
    expect(broker.connected()).toBe(true);
    expect(broker.describe()).toContain(`127.0.0.1:${broker.port}`);
    const gw = await connectGateway(url, GW_A);
    await vi.waitFor(async () => expect(await metricValue(metrics, 'anlian_broker_clients_connected')).toBe(1));

    const payload = JSON.stringify({ v: 1, ts: Date.now(), seq: 1, kind: 'fire', battery: 80 });
    await gw.publishAsync(topics.telemetry(A, 'smoke-1'), payload, { qos: 1 });
    await gw.publishAsync(topics.status(A), '{"state":"online"}', { qos: 1, retain: true });

    expect(inbox.messages).toHaveLength(2);
    expect(inbox.messages[0]).toEqual({
      topic: topics.telemetry(A, 'smoke-1'),
      payload: Buffer.from(payload),
      qos: 1,
      retain: false,
      clientId: 'gw-a',
    } satisfies InboundMessage);
    expect(inbox.messages[1]).toMatchObject({ topic: topics.status(A), qos: 1, retain: true, clientId: 'gw-a' });
    expect(await metricValue(metrics, 'anlian_broker_messages_delivered_total', { outcome: 'accepted' })).toBe(2);

    await gw.endAsync();
    await vi.waitFor(async () => expect(await metricValue(metrics, 'anlian_broker_clients_connected')).toBe(0));
  });

  it('refuses a wrong password, an unknown or disabled gateway, and a client id other than the username', async () => {
    const { url, metrics, inbox } = await startBroker();
    // MQTT 3.1.1 CONNACK return codes [MQTT-3.2.2-3]: 4 bad user name or password, 2 identifier rejected.
    expect(await refusalCode(connectGateway(url, { ...GW_A, secret: 'wrong' }))).toBe(4);
    expect(await refusalCode(connectGateway(url, { ...GW_A, id: 'gw-nobody' }))).toBe(4);
    expect(await refusalCode(connectGateway(url, GW_OFF))).toBe(4);
    expect(await refusalCode(connectGateway(url, GW_A, { clientId: 'gw-b' }))).toBe(2);
    expect(await refusalCode(connectGateway(url, GW_A, { clientId: 'something-else' }))).toBe(2);
    expect(await refusalCode(connectGateway(url, GW_A, { password: undefined }))).toBe(4);

    const failures = (reason: string) => metricValue(metrics, 'anlian_broker_auth_failures_total', { reason });
    expect(await failures('bad_secret')).toBe(1);
    expect(await failures('unknown_gateway')).toBe(1);
    expect(await failures('disabled')).toBe(1);
    expect(await failures('client_id_mismatch')).toBe(2);
    expect(await failures('missing_credentials')).toBe(1);
    expect(inbox.messages).toHaveLength(0);
    // …and the right credentials still work.
    await connectGateway(url, GW_A);
  });

  it.each([
    ['another gateway’s prefix', topics.status(B), 'other_gateway'],
    ['another gateway’s telemetry', topics.telemetry(B, 'd1'), 'other_gateway'],
    ['a county → gateway command', topics.command(A, 'ping'), 'wrong_direction'],
    ['$SYS', '$SYS/x', 'reserved'],
    ['a topic outside the contract', 'anlian/v1/youyang/yy-a/gw-a/secret', 'not_contract_topic'],
  ])('drops a publish to %s, closes that connection, and keeps serving', async (_what, topic, reason) => {
    const { url, inbox, metrics } = await startBroker();
    const bad = await connectGateway(url, GW_A);
    const gone = closed(bad);
    // MQTT 3.1.1 cannot refuse a PUBLISH: aedes closes the connection [MQTT-3.3.5-2]; no PUBACK comes.
    bad.publish(topic, 'x', { qos: 1 });
    await gone;
    expect(await metricValue(metrics, 'anlian_broker_publish_denied_total', { reason })).toBe(1);

    // The same gateway (fresh session) and another gateway keep working.
    const again = await connectGateway(url, GW_A);
    await again.publishAsync(topics.heartbeat(A), '{}', { qos: 1 });
    const b = await connectGateway(url, GW_B);
    await b.publishAsync(topics.heartbeat(B), '{}', { qos: 1 });
    expect(inbox.topics()).toEqual([topics.heartbeat(A), topics.heartbeat(B)]);
  });

  it('answers SUBACK 0x80 to a subscription outside the gateway’s own commands and keeps the connection', async () => {
    const { url, metrics } = await startBroker();
    const gw = await connectGateway(url, GW_A);
    const own = await gw.subscribeAsync(topics.commandsOf(A), { qos: 1 });
    expect(own.map((g) => g.qos)).toEqual([1]);

    for (const [filter, reason] of [
      [topics.commandsOf(B), 'other_gateway'],
      [topics.command(B, 'ping'), 'other_gateway'],
      ['anlian/v1/#', 'wildcard'],
      ['#', 'wildcard'],
      ['$SYS/#', 'reserved'],
      [topics.status(A), 'wrong_direction'],
    ] as const) {
      // mqtt.js rejects on a 0x80 return code, with the SUBACK attached.
      await expect(gw.subscribeAsync(filter, { qos: 1 }), filter).rejects.toMatchObject({ packet: { granted: [128] } });
      expect(await metricValue(metrics, 'anlian_broker_subscribe_denied_total', { reason }), filter).toBeGreaterThan(0);
    }
    expect(gw.connected).toBe(true);
    await gw.publishAsync(topics.heartbeat(A), '{}', { qos: 1 });
  });

  it('refuses an oversized payload by closing the connection, and accepts one at the limit', async () => {
    const { url, inbox, metrics } = await startBroker({ maxPayloadBytes: 1024 });
    const gw = await connectGateway(url, GW_A);
    await gw.publishAsync(topics.telemetry(A, 'd1'), Buffer.alloc(1024, 0x61), { qos: 1 });
    const gone = closed(gw);
    gw.publish(topics.telemetry(A, 'd1'), Buffer.alloc(1025, 0x62), { qos: 1 });
    await gone;
    expect(await metricValue(metrics, 'anlian_broker_publish_denied_total', { reason: 'too_large' })).toBe(1);
    expect(inbox.messages.map((m) => m.payload.length)).toEqual([1024]);
  });

  it('sends the PUBACK only after the handler has resolved', async () => {
    const order: string[] = [];
    const gate = deferred();
    const { url } = await startBroker({
      handler: async (m) => {
        order.push(`handler called ${m.topic}`);
        await gate.promise;
        order.push('handler resolved');
      },
    });
    const gw = await connectGateway(url, GW_A);
    const acked = gw.publishAsync(topics.event(A, 'smoke-1'), '{}', { qos: 1 }).then(() => order.push('puback'));
    // Let the broker hold the message for a while: a PUBACK sent early would land in `order` first.
    await vi.waitFor(() => expect(order).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 300));
    order.push('releasing');
    gate.resolve();
    await acked;
    expect(order).toEqual([`handler called ${topics.event(A, 'smoke-1')}`, 'releasing', 'handler resolved', 'puback']);
  });

  it('does not acknowledge when the handler rejects; the gateway redelivers after reconnecting', async () => {
    let calls = 0;
    const { url, inbox, metrics } = await startBroker({
      handler: async () => {
        calls++;
        if (calls === 1) throw new Error('spool unavailable');
      },
    });
    // mqtt.js keeps the unacknowledged QoS 1 message in its outgoing store and resends it on reconnect.
    const gw = await connectGateway(url, GW_A, { reconnectPeriod: 20 });
    const reconnected = new Promise<void>((resolve) => gw.once('reconnect', () => resolve()));
    await gw.publishAsync(topics.event(A, 'smoke-1'), '{"seq":7}', { qos: 1 });
    await reconnected;
    expect(calls).toBe(2);
    expect(inbox.messages.map((m) => m.payload.toString())).toEqual(['{"seq":7}']);
    expect(await metricValue(metrics, 'anlian_broker_messages_delivered_total', { outcome: 'failed' })).toBe(1);
    expect(await metricValue(metrics, 'anlian_broker_messages_delivered_total', { outcome: 'accepted' })).toBe(1);
  });

  it('delivers the last will when a gateway’s connection drops', async () => {
    const { url, inbox } = await startBroker();
    const will = {
      topic: topics.status(A),
      payload: Buffer.from('{"state":"offline","reason":"will"}'),
      qos: 1 as const,
      retain: true,
    };
    const gw = await connectGateway(url, GW_A, { will });
    gw.stream.destroy(); // no DISCONNECT: the broker must publish the will [MQTT-3.1.2-8]
    const got = await inbox.next((m) => m.topic === will.topic);
    expect(got).toEqual({ topic: will.topic, payload: will.payload, qos: 1, retain: true, clientId: 'gw-a' });
  });

  it('does not deliver the will after a clean DISCONNECT', async () => {
    const { url, inbox } = await startBroker();
    const will = { topic: topics.status(A), payload: Buffer.from('offline'), qos: 1 as const, retain: true };
    const gw = await connectGateway(url, GW_A, { will });
    await gw.endAsync();
    // A fence: another gateway's message, handled after aedes processed gw-a's DISCONNECT.
    const b = await connectGateway(url, GW_B);
    await b.publishAsync(topics.heartbeat(B), '{}', { qos: 1 });
    expect(inbox.topics()).toEqual([topics.heartbeat(B)]);
  });

  it('refuses a CONNECT whose will is outside the gateway’s topics', async () => {
    const { url, metrics } = await startBroker();
    const will = { topic: topics.status(B), payload: Buffer.from('offline'), qos: 1 as const, retain: true };
    expect(await refusalCode(connectGateway(url, GW_A, { will }))).toBe(5);
    expect(await metricValue(metrics, 'anlian_broker_auth_failures_total', { reason: 'bad_will' })).toBe(1);
  });

  it('stop() waits for in-flight handlers, acknowledges them, and does not deliver wills', async () => {
    const gate = deferred();
    let entered = 0;
    const { broker, url, inbox } = await startBroker({
      handler: async (m) => {
        if (m.topic === topics.event(A, 'smoke-1')) {
          entered++;
          await gate.promise;
        }
      },
    });
    const will = { topic: topics.status(A), payload: Buffer.from('offline'), qos: 1 as const, retain: true };
    const gw = await connectGateway(url, GW_A, { will });
    const acked = gw.publishAsync(topics.event(A, 'smoke-1'), '{}', { qos: 1 });
    await vi.waitFor(() => expect(entered).toBe(1));
    let stopped = false;
    const stopping = broker.stop().then(() => {
      stopped = true;
    });
    expect(broker.connected()).toBe(false);
    await new Promise((r) => setTimeout(r, 50));
    expect(stopped).toBe(false);
    gate.resolve();
    await acked; // the PUBACK went out before the connection was closed
    await stopping;
    expect(inbox.topics()).toEqual([topics.event(A, 'smoke-1')]);
  });

  it('can be stopped without having been started, and twice', async () => {
    const broker = new EmbeddedBroker({
      port: 0,
      directory: new FakeDirectory([]),
      logger: silentLogger(),
      metrics: new Registry(),
    });
    await broker.stop();
    await broker.start(async () => {});
    await broker.stop();
    await broker.stop();
    expect(broker.connected()).toBe(false);
  });
});
