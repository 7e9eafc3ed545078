import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@anlian/protocol';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { ExternalSubscriber, type ExternalSubscriberOptions } from '../../src/broker/external-subscriber.js';
import type { InboundMessage, MessageHandler } from '../../src/broker/message-source.js';
import { writeMosquittoAuthFiles } from '../../src/broker/mosquitto-config.js';
import { silentLogger } from '../../src/logger.js';
import { mosquittoHash } from '../../src/store/secret-hash.js';
import { type Mosquitto, startMosquitto } from '../../src/testing/mosquitto.js';
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
    ingestUser: { username: INGEST.username, mosquittoHash: mosquittoHash(INGEST.password) },
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
    const last = sent[sent.length - 1] as string;
    await inbox.next((m) => m.topic === last);
    expect(inbox.topics()).toEqual(sent);
    expect(inbox.messages[2]).toMatchObject({ qos: 1, retain: false, payload: Buffer.from(`{"t":"${sent[2]}"}`) });
    expect(inbox.messages[2]?.clientId).toBeUndefined();
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
      ...INGEST,
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
    expect(two.sub.describe()).toMatch(/-0, .*-1$/);

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
