import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topics } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import { mosquittoHash } from '@anlian/store';
import { createTestCertificates, type Mosquitto, startMosquitto, type TestCertificates } from '@anlian/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { ExternalSubscriber } from '../../src/broker/external-subscriber.js';
import { writeMosquittoAuthFiles } from '../../src/broker/mosquitto-config.js';
import { addr, connectGateway, FakeDirectory, GW_A, GW_B, Inbox, metricValue, refusalCode } from './support.js';

/**
 * Gateways reach the county across the internet over MQTT with TLS, on either broker of the
 * county: the embedded aedes of `anlian up` (its mqtts listener) and mosquitto 2 (the TLS listener
 * `anlian broker-config` writes). The gateway verifies the broker's certificate against the
 * county's CA (`county.caFile`); the broker checks the gateway's own credentials.
 */

let certs: TestCertificates;
/** A CA that did not sign the brokers' certificate: a gateway trusting only it must not connect. */
let strangerCa: TestCertificates;
let ca: Buffer;

beforeAll(async () => {
  [certs, strangerCa] = await Promise.all([
    createTestCertificates(),
    createTestCertificates({ caName: 'Somebody else’s CA' }),
  ]);
  ca = await readFile(certs.caFile);
});
afterAll(async () => {
  await certs?.remove();
  await strangerCa?.remove();
});

interface TlsBroker {
  /** `mqtts://127.0.0.1:PORT` */
  tlsUrl: string;
  /** Gateway messages as the county received them. */
  inbox: Inbox;
  /** Broker-side count of refused TLS handshakes, where the broker tells (aedes). */
  handshakeFailures?: () => Promise<number>;
  /** CONNACK code for a wrong password with MQTT 3.1.1: aedes 4, mosquitto 2.0 5. */
  badPasswordCode: number;
  stop(): Promise<void>;
}

async function embedded(): Promise<TlsBroker> {
  const metrics = new Registry();
  const inbox = new Inbox();
  const broker = new EmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    tls: { port: 0, cert: await readFile(certs.certFile), key: await readFile(certs.keyFile) },
    directory: new FakeDirectory([GW_A, GW_B]),
    logger: silentLogger(),
    metrics,
  });
  await broker.start(async (m) => inbox.push(m));
  expect(broker.describe()).toBe(
    `mqtt://127.0.0.1:${broker.port} and mqtts://127.0.0.1:${broker.tlsPort} (embedded aedes)`,
  );
  return {
    tlsUrl: `mqtts://127.0.0.1:${broker.tlsPort}`,
    inbox,
    handshakeFailures: () => metricValue(metrics, 'anlian_broker_auth_failures_total', { reason: 'tls_handshake' }),
    badPasswordCode: 4,
    stop: () => broker.stop(),
  };
}

async function mosquitto(): Promise<TlsBroker> {
  const authDir = await mkdtemp(join(tmpdir(), 'anlian-tls-auth-'));
  const gateway = (g: typeof GW_A) => ({
    gatewayId: g.id,
    county: g.county,
    institution: g.institution,
    mosquittoHash: mosquittoHash(g.secret),
  });
  await writeMosquittoAuthFiles({
    credentials: [gateway(GW_A), gateway(GW_B)],
    services: [{ role: 'ingest', username: 'ingest', mosquittoHash: mosquittoHash('ingest-password') }],
    dir: authDir,
  });
  let server: Mosquitto | undefined;
  let ingest: ExternalSubscriber | undefined;
  try {
    server = await startMosquitto({ authDir, tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
    const inbox = new Inbox();
    // ingest on the plain listener (the county's private network), as in production.
    ingest = new ExternalSubscriber({
      url: server.url,
      username: 'ingest',
      password: 'ingest-password',
      clientId: `ingest-tls-${process.pid}`,
      logger: silentLogger(),
      metrics: new Registry(),
    });
    await ingest.start(async (m) => inbox.push(m));
    const running = server;
    const subscriber = ingest;
    return {
      tlsUrl: running.tlsUrl ?? '',
      inbox,
      badPasswordCode: 5,
      stop: async () => {
        await subscriber.stop();
        await running.stop();
        await rm(authDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await ingest?.stop();
    await server?.stop();
    await rm(authDir, { recursive: true, force: true });
    throw err;
  }
}

describe.each([
  ['the embedded broker (aedes)', embedded],
  ['mosquitto 2', mosquitto],
])('gateways over TLS on %s', (_name, start) => {
  let broker: TlsBroker;
  beforeAll(async () => {
    broker = await start();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('a gateway that trusts the county’s CA connects with its own credentials and its messages arrive', async () => {
    expect(broker.tlsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const gw = await connectGateway(broker.tlsUrl, GW_A, { ca });
    const a = addr(GW_A);
    await gw.publishAsync(topics.heartbeat(a), '{"over":"tls"}', { qos: 1 });
    const got = await broker.inbox.next((m) => m.topic === topics.heartbeat(a));
    expect(got.payload.toString()).toBe('{"over":"tls"}');
  });

  it('refuses a gateway that logs in with another gateway’s password', async () => {
    const code = await refusalCode(connectGateway(broker.tlsUrl, { ...GW_A, secret: GW_B.secret }, { ca }));
    expect(code).toBe(broker.badPasswordCode);
    // …and the other gateway's own login still works.
    const b = await connectGateway(broker.tlsUrl, GW_B, { ca });
    expect(b.connected).toBe(true);
  });

  it('a gateway does not connect to a broker whose certificate its CA did not sign', async () => {
    const before = (await broker.handshakeFailures?.()) ?? 0;
    await expect(connectGateway(broker.tlsUrl, GW_A, { ca: await readFile(strangerCa.caFile) })).rejects.toMatchObject({
      code: expect.stringMatching(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/),
    });
    // Nor without any CA: the system's CAs do not know the county's.
    await expect(connectGateway(broker.tlsUrl, GW_A)).rejects.toMatchObject({
      code: expect.stringMatching(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/),
    });
    // The broker hears of the refusal when the client's alert arrives, a moment after the client gave up.
    const failures = broker.handshakeFailures;
    if (failures) await vi.waitFor(async () => expect(await failures()).toBeGreaterThanOrEqual(before + 2));
  });

  it('a gateway that connected to 127.0.0.1 accepts only a certificate made out to 127.0.0.1 (RFC 6125)', async () => {
    // The certificate names 127.0.0.1, ::1 and localhost; asking for another name must fail.
    await expect(connectGateway(broker.tlsUrl, GW_A, { ca, servername: 'county.example.cn' })).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });
});
