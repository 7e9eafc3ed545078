import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import { mosquittoHash } from '@anlian/store';
import { type Mosquitto, startMosquitto } from '@anlian/testing';
import { MqttClient, type Packet } from 'mqtt';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { ExternalSubscriber, type ExternalSubscriberOptions } from '../../src/broker/external-subscriber.js';
import type { InboundMessage, MessageHandler } from '../../src/broker/message-source.js';
import { writeMosquittoAuthFiles } from '../../src/broker/mosquitto-config.js';
import {
  addr,
  connectClient,
  connectGateway,
  deferred,
  GW_A,
  GW_B,
  Inbox,
  metricValue,
  refusalCode,
} from './support.js';

const A = addr(GW_A);
const B = addr(GW_B);
const INGEST = { username: 'ingest', password: 'ingest-password' };
/** Commands to gateways are alerting's to send (ingest's account may not). */
const ALERTING = { username: 'alerting', password: 'alerting-password' };

let authDir: string;
let broker: Mosquitto;

beforeAll(async () => {
  authDir = await mkdtemp(join(tmpdir(), 'anlian-ext-auth-'));
  const report = await writeMosquittoAuthFiles({
    credentials: [
      {
        gatewayId: GW_A.id,
        county: GW_A.county,
        institution: GW_A.institution,
        mosquittoHash: mosquittoHash(GW_A.secret),
      },
      {
        gatewayId: GW_B.id,
        county: GW_B.county,
        institution: GW_B.institution,
        mosquittoHash: mosquittoHash(GW_B.secret),
      },
      { gatewayId: 'gw-nohash', county: 'youyang', institution: 'yy-a', mosquittoHash: null },
    ],
    services: [
      { role: 'ingest', username: INGEST.username, mosquittoHash: mosquittoHash(INGEST.password) },
      { role: 'alerting', username: ALERTING.username, mosquittoHash: mosquittoHash(ALERTING.password) },
    ],
    dir: authDir,
  });
  expect(report.skipped.map((s) => s.gatewayId)).toEqual(['gw-nohash']);
  // mosquitto's default max_queued_messages (1000) would drop QoS 1 messages queued for a busy
  // subscriber during the 2000-message burst; production sets its own bound (deploy/mosquitto).
  broker = await startMosquitto({ authDir, configExtra: 'max_queued_messages 100000' });
});

afterAll(async () => {
  await broker?.stop();
  await rm(authDir, { recursive: true, force: true });
});

let subscribers: ExternalSubscriber[] = [];
afterEach(async () => {
  await Promise.all(subscribers.map((s) => s.stop()));
  subscribers = [];
});

let nextId = 0;
/** A started subscriber; a unique client id per test unless given (sessions outlive the test otherwise). */
async function startSubscriber(
  handler: MessageHandler,
  opts: Partial<Omit<ExternalSubscriberOptions, 'logger'>> = {},
): Promise<{ sub: ExternalSubscriber; metrics: Registry }> {
  const metrics = opts.metrics ?? new Registry();
  const sub = new ExternalSubscriber({
    url: broker.url,
    username: INGEST.username,
    password: INGEST.password,
    clientId: `ingest-test-${process.pid}-${nextId++}`,
    logger: silentLogger(),
    reconnect: { minMs: 50, maxMs: 500 },
    connectTimeoutMs: 10_000,
    ...opts,
    metrics,
  });
  subscribers.push(sub);
  await sub.start(handler);
  return { sub, metrics };
}

function recording(inbox: Inbox): MessageHandler {
  return async (m: InboundMessage) => inbox.push(m);
}

/** What one subscriber connection saw and did, in order: the wire as mqtt.js reports it, and the test's own marks. */
type WireEntry =
  | { kind: 'connect'; conn: number; receiveMaximum: number | undefined }
  | { kind: 'publish'; conn: number; messageId: number; payload: string }
  | { kind: 'puback'; conn: number; messageId: number }
  | { kind: 'resolved' | 'rejected'; payload: string };

/**
 * Records the packets of the mqtt.js client whose client id is `clientId` through its public
 * `packetsend` / `packetreceive` events (the client is caught when it connects), so a test can
 * check what was acknowledged relative to what the handler did.
 */
function wireLog(clientId: string): {
  log: WireEntry[];
  client: () => MqttClient;
  changed: (check: () => boolean) => Promise<void>;
  /** Re-checks what `changed` waits for; call it when the handler changed something. */
  poke: () => void;
} {
  const log: WireEntry[] = [];
  const waiters = new Set<() => void>();
  const note = (e: WireEntry) => {
    log.push(e);
    for (const w of [...waiters]) w();
  };
  let caught: MqttClient | undefined;
  let conn = -1;
  const connect = MqttClient.prototype.connect;
  const spy = vi.spyOn(MqttClient.prototype, 'connect').mockImplementation(function (this: MqttClient) {
    if (this.options.clientId === clientId && caught !== this) {
      caught = this;
      this.on('packetsend', (p: Packet) => {
        if (p.cmd === 'connect') note({ kind: 'connect', conn: ++conn, receiveMaximum: p.properties?.receiveMaximum });
        if (p.cmd === 'puback') note({ kind: 'puback', conn, messageId: p.messageId ?? -1 });
      });
      this.on('packetreceive', (p: Packet) => {
        if (p.cmd === 'publish') {
          note({ kind: 'publish', conn, messageId: p.messageId ?? -1, payload: p.payload.toString() });
        }
      });
    }
    return connect.call(this);
  });
  onTestFinished(() => spy.mockRestore());
  return {
    log,
    poke: () => {
      for (const w of [...waiters]) w();
    },
    client: () => {
      if (!caught) throw new Error(`no client ${clientId} connected`);
      return caught;
    },
    /** Resolves once `check` holds, re-checked on every wire entry (no timers). */
    changed: (check) =>
      new Promise<void>((resolve) => {
        const w = () => {
          if (check()) {
            waiters.delete(w);
            resolve();
          }
        };
        waiters.add(w);
        w();
      }),
  };
}

/** A round trip on the subscriber's own connection: every PUBLISH the broker wrote before it has been handed over. */
async function fence(client: MqttClient): Promise<void> {
  await client.subscribeAsync(`fence/${process.pid}`, { qos: 0 });
}

/** Lets pending promise callbacks and I/O callbacks run (no wall clock involved). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

describe('ExternalSubscriber against mosquitto 2 with generated passwd/acl', () => {
  it('receives every gateway → county topic a gateway publishes under its own prefix', async () => {
    const inbox = new Inbox();
    const { sub } = await startSubscriber(recording(inbox), { shareGroup: 'own-topics' });
    expect(sub.connected()).toBe(true);
    expect(sub.describe()).toContain('$share/own-topics/anlian/v1/+/+/+/#');
    expect(sub.describe()).not.toContain(INGEST.password);

    const gw = await connectGateway(broker.url, GW_A);
    const sent = [
      topics.status(A),
      topics.heartbeat(A),
      topics.telemetry(A, 'smoke-1'),
      topics.event(A, 'smoke-1'),
      topics.commandReply(A, 'ping'),
    ];
    for (const t of sent) await gw.publishAsync(t, `{"t":"${t}"}`, { qos: 1 });
    // Two lanes (telemetry and heartbeats; events, status and replies): order holds within each.
    for (const t of sent) await inbox.next((m) => m.topic === t);
    expect([...inbox.topics()].sort()).toEqual([...sent].sort());
    const telemetry = inbox.messages.find((m) => m.topic === sent[2]);
    expect(telemetry).toMatchObject({ qos: 1, retain: false, payload: Buffer.from(`{"t":"${sent[2]}"}`) });
    expect(telemetry?.clientId).toBeUndefined();
  });

  it('lets a fire event overtake a telemetry backlog: events come on a session of their own', async () => {
    const handled: string[] = [];
    let releaseTelemetry: () => void = () => {};
    const telemetryGate = new Promise<void>((resolve) => {
      releaseTelemetry = resolve;
    });
    // Telemetry handling is stuck (ingest behind): its session's Receive Maximum fills and the rest waits in the broker.
    await startSubscriber(
      async (m) => {
        if (m.topic.endsWith('/telemetry')) await telemetryGate;
        handled.push(m.topic);
      },
      { shareGroup: 'lanes', receiveMaximum: 10 },
    );
    const gw = await connectGateway(broker.url, GW_A);
    for (let i = 0; i < 100; i++) gw.publish(topics.telemetry(A, `t-${i}`), '{}', { qos: 1 });
    await gw.publishAsync(topics.event(A, 'smoke-1'), '{"fire":true}', { qos: 1 });
    // With one session, the event would queue behind the 10 stuck telemetry messages until released.
    for (let i = 0; i < 250 && handled.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(handled).toEqual([topics.event(A, 'smoke-1')]);
    releaseTelemetry();
    while (handled.length < 101) await new Promise((r) => setTimeout(r, 20));
    expect(handled.filter((t) => t.endsWith('/telemetry'))).toHaveLength(100);
  });

  it('refuses a gateway with a wrong password, an unknown user and a gateway left out of the passwd file', async () => {
    // mosquitto answers a failed password check with 5 "not authorized" (MQTT 3.1.1).
    expect(await refusalCode(connectGateway(broker.url, { ...GW_A, secret: 'wrong' }))).toBe(5);
    expect(await refusalCode(connectGateway(broker.url, { ...GW_A, id: 'gw-nohash', secret: 'x' }))).toBe(5);
    expect(await refusalCode(connectClient(broker.url, { protocolVersion: 4, clientId: 'anon' }))).toBe(5);
  });

  it('drops what a gateway may not publish: another gateway’s prefix, its own commands', async () => {
    const inbox = new Inbox();
    await startSubscriber(recording(inbox), { shareGroup: 'acl' });
    const gw = await connectGateway(broker.url, GW_A);
    // mosquitto acknowledges a denied PUBLISH and drops it: the gateway cannot tell, the county never sees it.
    await gw.publishAsync(topics.telemetry(B, 'd1'), 'forged', { qos: 1 });
    await gw.publishAsync(topics.status(B), 'forged', { qos: 1, retain: true });
    await gw.publishAsync(topics.command(A, 'reload'), 'forged', { qos: 1 });
    await gw.publishAsync(topics.command(B, 'reload'), 'forged', { qos: 1 });
    // A fence on the same connection and the same single subscriber session: delivered in order.
    await gw.publishAsync(topics.heartbeat(A), 'fence', { qos: 1 });
    await inbox.next((m) => m.topic === topics.heartbeat(A));
    expect(inbox.topics()).toEqual([topics.heartbeat(A)]);
    expect(gw.connected).toBe(true);
  });

  it('does not replay retained statuses to a new shared subscription', async () => {
    const gw = await connectGateway(broker.url, GW_B);
    await gw.publishAsync(topics.status(B), 'retained', { qos: 1, retain: true });
    const inbox = new Inbox();
    await startSubscriber(recording(inbox), { shareGroup: `retained-${process.pid}` });
    await gw.publishAsync(topics.heartbeat(B), 'fence', { qos: 1 });
    await inbox.next((m) => m.topic === topics.heartbeat(B));
    expect(inbox.topics()).toEqual([topics.heartbeat(B)]);
  });

  it('delivers a gateway only its own commands (mosquitto grants any SUBSCRIBE and checks `read` on delivery)', async () => {
    const gwA = await connectGateway(broker.url, GW_A);
    const got: string[] = [];
    gwA.on('message', (t) => got.push(t));
    await gwA.subscribeAsync([topics.commandsOf(A), topics.commandsOf(B)], { qos: 1 });
    const county = await connectClient(broker.url, {
      protocolVersion: 5,
      clientId: `county-${process.pid}`,
      ...ALERTING,
    });
    await county.publishAsync(topics.command(B, 'ping'), '{}', { qos: 1 });
    await county.publishAsync(topics.command(A, 'ping'), '{}', { qos: 1 });
    await new Promise<void>((resolve) => {
      if (got.length > 0) resolve();
      else gwA.once('message', () => resolve());
    });
    expect(got).toEqual([topics.command(A, 'ping')]);
  });

  it('splits 2000 messages between two replicas of one share group without loss or duplicates', async () => {
    const N = 2000;
    const byReplica = [new Map<string, number>(), new Map<string, number>()] as const;
    let total = 0;
    const all = deferred();
    const counter =
      (replica: Map<string, number>): MessageHandler =>
      async (m) => {
        const key = m.payload.toString();
        replica.set(key, (replica.get(key) ?? 0) + 1);
        if (++total === N) all.resolve();
      };
    const group = `split-${process.pid}`;
    const one = await startSubscriber(counter(byReplica[0]), { shareGroup: group });
    // The second replica runs two sessions: the share group spreads over three members.
    const two = await startSubscriber(counter(byReplica[1]), { shareGroup: group, sessions: 2 });
    expect(two.sub.describe()).toMatch(/-0, .*-1, .*-alarm /);

    const gwA = await connectGateway(broker.url, GW_A);
    const gwB = await connectGateway(broker.url, GW_B);
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        (i % 2 === 0 ? gwA : gwB).publishAsync(
          topics.telemetry(i % 2 === 0 ? A : B, `d${i % 7}`),
          JSON.stringify({ seq: i }),
          { qos: 1 },
        ),
      ),
    );
    await all.promise;
    // Stop both (in-flight handlers settle) before counting, so a late duplicate would be seen.
    await Promise.all([one.sub.stop(), two.sub.stop()]);

    const seen = new Map<string, number>();
    for (const replica of byReplica) for (const [k, n] of replica) seen.set(k, (seen.get(k) ?? 0) + n);
    expect(seen.size).toBe(N);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(byReplica[0].size).toBeGreaterThan(0);
    expect(byReplica[1].size).toBeGreaterThan(0);
    expect(byReplica[0].size + byReplica[1].size).toBe(N);
    expect(await metricValue(one.metrics, 'anlian_broker_messages_delivered_total', { outcome: 'accepted' })).toBe(
      byReplica[0].size,
    );
  });

  it('withholds the PUBACK when the handler rejects; the broker redelivers after the reconnect', async () => {
    let calls = 0;
    const inbox = new Inbox();
    const { metrics } = await startSubscriber(
      async (m) => {
        calls++;
        if (calls === 1) throw new Error('spool unavailable');
        inbox.push(m);
      },
      { shareGroup: 'redeliver' },
    );
    const gw = await connectGateway(broker.url, GW_A);
    await gw.publishAsync(topics.event(A, 'smoke-1'), '{"seq":1}', { qos: 1 });
    const got = await inbox.next(() => true);
    expect(got.payload.toString()).toBe('{"seq":1}');
    expect(calls).toBe(2);
    expect(await metricValue(metrics, 'anlian_broker_messages_delivered_total', { outcome: 'failed' })).toBe(1);
    expect(await metricValue(metrics, 'anlian_broker_external_reconnects_total')).toBeGreaterThan(0);
  });

  it('hands many messages to the handler at once; each PUBACK only after its handler resolved, in arrival order', async () => {
    const clientId = `ingest-concurrent-${process.pid}`;
    const wire = wireLog(clientId);
    const N = 20;
    const held = new Map<string, ReturnType<typeof deferred<void>>>();
    onTestFinished(() => {
      for (const d of held.values()) d.resolve();
    });
    let active = 0;
    let maxActive = 0;
    await startSubscriber(
      async (m) => {
        const d = deferred();
        held.set(m.payload.toString(), d);
        wire.poke();
        maxActive = Math.max(maxActive, ++active);
        try {
          await d.promise;
        } finally {
          active--;
        }
      },
      { clientId, shareGroup: `concurrent-${process.pid}`, receiveMaximum: 100 },
    );
    expect(wire.log[0]).toEqual({ kind: 'connect', conn: 0, receiveMaximum: 100 });
    const gw = await connectGateway(broker.url, GW_A);
    const payloads = Array.from({ length: N }, (_, i) => `{"seq":${i}}`);
    for (const p of payloads) await gw.publishAsync(topics.telemetry(A, 'smoke-1'), p, { qos: 1 });
    await fence(wire.client());
    await settle();
    // All of them in the handler at once, none acknowledged.
    expect(held.size).toBe(N);
    expect(maxActive).toBe(N);
    expect(wire.log.filter((e) => e.kind === 'puback')).toEqual([]);

    // Resolve all but the first, last to first: still nothing may be acknowledged out of order.
    for (const p of payloads.slice(1).reverse()) {
      wire.log.push({ kind: 'resolved', payload: p });
      held.get(p)?.resolve();
    }
    await settle();
    expect(wire.log.filter((e) => e.kind === 'puback')).toEqual([]);
    wire.log.push({ kind: 'resolved', payload: payloads[0] as string });
    held.get(payloads[0] as string)?.resolve();
    await wire.changed(() => wire.log.filter((e) => e.kind === 'puback').length === N);

    const publishes = wire.log.filter((e) => e.kind === 'publish');
    expect(publishes.map((e) => e.payload)).toEqual(payloads);
    const acks = wire.log.filter((e) => e.kind === 'puback');
    expect(acks.map((e) => e.messageId)).toEqual(publishes.map((e) => e.messageId));
    for (const p of publishes) {
      const resolvedAt = wire.log.findIndex((e) => e.kind === 'resolved' && e.payload === p.payload);
      const ackedAt = wire.log.findIndex((e) => e.kind === 'puback' && e.messageId === p.messageId);
      expect(resolvedAt).toBeGreaterThanOrEqual(0);
      expect(ackedAt).toBeGreaterThan(resolvedAt);
    }
  });

  it('runs at most receiveMaximum handlers per session; each one that settles lets one more in', async () => {
    const clientId = `ingest-recvmax-${process.pid}`;
    const wire = wireLog(clientId);
    const held: ReturnType<typeof deferred<void>>[] = [];
    // Whatever happens, let the handlers finish so that stop() does not wait for them.
    onTestFinished(() => {
      for (const d of held) d.resolve();
    });
    await startSubscriber(
      async () => {
        const d = deferred();
        held.push(d);
        wire.poke();
        await d.promise;
      },
      { clientId, shareGroup: `recvmax-${process.pid}`, receiveMaximum: 5 },
    );
    expect(wire.log[0]).toEqual({ kind: 'connect', conn: 0, receiveMaximum: 5 });
    const gw = await connectGateway(broker.url, GW_A);
    for (let i = 0; i < 12; i++) await gw.publishAsync(topics.telemetry(A, 'smoke-1'), `{"seq":${i}}`, { qos: 1 });
    // The broker keeps to the Receive Maximum before the first PUBACK.
    await fence(wire.client());
    await settle();
    expect(held).toHaveLength(5);
    expect(wire.log.filter((e) => e.kind === 'publish')).toHaveLength(5);
    // After PUBACKs mosquitto 2.0.11 may send more than the quota; the handler still sees at most 5 at once.
    for (const d of held.slice(0, 3)) d.resolve();
    await wire.changed(() => held.length === 8);
    await settle();
    expect(held).toHaveLength(8);
    for (const d of held.slice(3)) d.resolve();
    await wire.changed(() => held.length === 12);
    for (const d of held) d.resolve();
    await wire.changed(() => wire.log.filter((e) => e.kind === 'puback').length === 12);
  });

  it('never acknowledges a message whose handler rejected among many in flight; the broker redelivers it', async () => {
    const clientId = `ingest-reject-many-${process.pid}`;
    const wire = wireLog(clientId);
    const N = 20;
    const bad = '{"seq":7}';
    const accepted = new Map<string, number>();
    let failedOnce = false;
    let release = deferred();
    onTestFinished(() => release.resolve());
    await startSubscriber(
      async (m) => {
        const p = m.payload.toString();
        // Hold the first connection's handlers so that all of them are in flight together.
        await release.promise;
        if (p === bad && !failedOnce) {
          failedOnce = true;
          wire.log.push({ kind: 'rejected', payload: p });
          throw new Error('spool unavailable');
        }
        accepted.set(p, (accepted.get(p) ?? 0) + 1);
        wire.poke();
      },
      { clientId, shareGroup: `reject-many-${process.pid}`, receiveMaximum: 100 },
    );
    const gw = await connectGateway(broker.url, GW_A);
    const payloads = Array.from({ length: N }, (_, i) => `{"seq":${i}}`);
    for (const p of payloads) await gw.publishAsync(topics.telemetry(A, 'smoke-1'), p, { qos: 1 });
    await fence(wire.client());
    release.resolve();
    release = { promise: Promise.resolve(), resolve: () => {}, reject: () => {} };
    await wire.changed(() => accepted.get(bad) === 1 && payloads.every((p) => accepted.has(p)));

    const first = wire.log.filter(
      (e): e is Extract<WireEntry, { kind: 'publish' | 'puback' }> =>
        (e.kind === 'publish' || e.kind === 'puback') && e.conn === 0,
    );
    const badId = first.find((e) => e.kind === 'publish' && e.payload === bad)?.messageId;
    expect(badId).toBeDefined();
    // On the connection it failed on: no PUBACK for it, nor for anything after it (arrival order).
    const acked0 = first.filter((e) => e.kind === 'puback').map((e) => e.messageId);
    expect(acked0).not.toContain(badId);
    expect(acked0).toEqual(
      first
        .filter((e) => e.kind === 'publish')
        .slice(0, 7)
        .map((e) => e.messageId),
    );
    // It came back on a later connection, and was acknowledged there.
    const again = wire.log.find((e) => e.kind === 'publish' && e.conn > 0 && e.payload === bad);
    expect(again).toBeDefined();
    expect(failedOnce).toBe(true);
  });

  it('a restarted replica resumes its session and gets what was queued for it meanwhile', async () => {
    const clientId = `ingest-resume-${process.pid}`;
    const group = `resume-${process.pid}`;
    const first = new Inbox();
    const r1 = await startSubscriber(recording(first), { clientId, shareGroup: group });
    await r1.sub.stop(); // DISCONNECT keeps the session (session expiry), subscription included

    const gw = await connectGateway(broker.url, GW_A);
    for (let i = 0; i < 5; i++) await gw.publishAsync(topics.heartbeat(A), `{"seq":${i}}`, { qos: 1 });

    const second = new Inbox();
    await startSubscriber(recording(second), { clientId, shareGroup: group });
    await second.next((m) => m.payload.toString() === '{"seq":4}');
    expect(second.messages.map((m) => m.payload.toString())).toEqual([0, 1, 2, 3, 4].map((i) => `{"seq":${i}}`));
    expect(first.messages).toHaveLength(0);
  });

  it('the broker restarted: each session subscribes again (mosquitto 2.0 does not keep shared subscriptions) within seconds', async () => {
    const inbox = new Inbox();
    // The production defaults for reconnecting, not the tests' quick ones.
    const { sub } = await startSubscriber(recording(inbox), {
      shareGroup: `restart-${process.pid}`,
      reconnect: undefined,
    });
    const gw = await connectGateway(broker.url, GW_A, { reconnectPeriod: 100 });
    await gw.publishAsync(topics.heartbeat(A), 'before', { qos: 1 });
    await inbox.next((m) => m.payload.toString() === 'before');

    await broker.halt();
    // Long enough for a backoff that keeps doubling to leave the replica away for many seconds.
    await new Promise((r) => setTimeout(r, 10_000));
    await broker.resume();
    const back = Date.now();
    // What the broker takes before the replica has subscribed again is dropped (no subscriber):
    // probe until one arrives, on each lane, then nothing is missing.
    const probe = async (topic: string, lane: string) => {
      for (let i = 0; ; i++) {
        const body = `probe-${lane}-${i}`;
        await gw.publishAsync(topic, body, { qos: 1 });
        const got = await Promise.race([
          inbox.next((m) => m.payload.toString() === body).then(() => true),
          new Promise<false>((r) => setTimeout(() => r(false), 100)),
        ]);
        if (got) return;
        if (Date.now() - back > 15_000) throw new Error(`nothing delivered on the ${lane} lane after the restart`);
      }
    };
    await probe(topics.heartbeat(A), 'bulk');
    await probe(topics.event(A, 'smoke-1'), 'alarm');
    // The replica is back within about its reconnect cap (0.5 s), not a backoff grown during the outage.
    expect(Date.now() - back).toBeLessThan(5000);
    expect(sub.connected()).toBe(true);
    for (let i = 0; i < 20; i++) await gw.publishAsync(topics.heartbeat(A), `after-${i}`, { qos: 1 });
    await inbox.next((m) => m.payload.toString() === 'after-19');
    expect(inbox.messages.filter((m) => m.payload.toString().startsWith('after-'))).toHaveLength(20);
  }, 60_000);

  it('fails start() with a clear error on wrong ingest credentials', async () => {
    const sub = new ExternalSubscriber({
      url: broker.url,
      username: INGEST.username,
      password: 'wrong',
      clientId: `ingest-bad-${process.pid}`,
      logger: silentLogger(),
      metrics: new Registry(),
    });
    onTestFinished(() => sub.stop());
    await expect(sub.start(async () => {})).rejects.toThrow(/refused ingest-bad-.*Not authorized/);
    expect(sub.connected()).toBe(false);
  });
});
