import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COUNTY_TOPIC_ROOT, countyTopics, topics } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import { mosquittoHash } from '@anlian/store';
import { type Mosquitto, startMosquitto } from '@anlian/testing';
import type { MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { type CountyServiceRole, writeMosquittoAuthFiles } from '../../src/broker/mosquitto-config.js';
import {
  addr,
  closed,
  connectClient,
  connectGateway,
  FakeDirectory,
  GW_A,
  metricValue,
  refusalCode,
} from './support.js';

const A = addr(GW_A);
const PASSWORD: Record<CountyServiceRole, string> = {
  ingest: 'ingest-password',
  alerting: 'alerting-password',
  dashboard: 'dashboard-password',
};
const ALERT_TOPIC = countyTopics.alertChange(GW_A.county, GW_A.institution);

/** Collects what a client receives; `until` waits for a topic and payload (a fence). */
function inbox(client: MqttClient) {
  const got: { topic: string; payload: string }[] = [];
  const waiters: { match: (t: string, p: string) => boolean; resolve: () => void }[] = [];
  client.on('message', (topic, payload) => {
    const p = payload.toString();
    got.push({ topic, payload: p });
    for (const w of [...waiters]) {
      if (w.match(topic, p)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  return {
    got,
    payloads: () => got.map((g) => g.payload),
    until: (topic: string, payload: string) =>
      new Promise<void>((resolve) => {
        if (got.some((g) => g.topic === topic && g.payload === payload)) return resolve();
        waiters.push({ match: (t, p) => t === topic && p === payload, resolve });
      }),
  };
}

/**
 * The county services' broker accounts on mosquitto (production form): each service connects
 * with its own account and may do what its role needs, nothing more (SERVICE_ACL). The services
 * speak MQTT 5, so mosquitto answers a denied PUBLISH with PUBACK reason 0x87 Not authorized
 * (MQTT 5 §3.4.2.1) and drops it; a `read` it does not allow is never delivered (checked with a
 * fence: a later allowed message arrives, the denied one never did).
 */
describe('county service accounts on mosquitto 2', () => {
  let authDir: string;
  let broker: Mosquitto;
  const service = (role: CountyServiceRole, id: string = role) =>
    connectClient(broker.url, {
      protocolVersion: 5,
      clientId: `${id}-${process.pid}`,
      username: role,
      password: PASSWORD[role],
    });

  beforeAll(async () => {
    authDir = await mkdtemp(join(tmpdir(), 'anlian-svc-auth-'));
    const report = await writeMosquittoAuthFiles({
      credentials: [
        {
          gatewayId: GW_A.id,
          county: GW_A.county,
          institution: GW_A.institution,
          mosquittoHash: mosquittoHash(GW_A.secret),
        },
      ],
      services: (['ingest', 'alerting', 'dashboard'] as const).map((role) => ({
        role,
        username: role,
        mosquittoHash: mosquittoHash(PASSWORD[role]),
      })),
      dir: authDir,
    });
    expect(report.services).toEqual(['ingest', 'alerting', 'dashboard']);
    broker = await startMosquitto({ authDir });
  });
  afterAll(async () => {
    await broker?.stop();
    if (authDir) await rm(authDir, { recursive: true, force: true });
  });

  it('every service reads the gateways’ messages; ingest on the shared subscription', async () => {
    const ingest = await service('ingest');
    const alerting = await service('alerting');
    const dashboard = await service('dashboard');
    const seen = [inbox(ingest), inbox(alerting), inbox(dashboard)];
    await ingest.subscribeAsync(`$share/ingest/${topics.allGateways()}`, { qos: 1 });
    await alerting.subscribeAsync(topics.allGateways(), { qos: 1 });
    await dashboard.subscribeAsync(topics.allGateways(), { qos: 1 });
    const gw = await connectGateway(broker.url, GW_A);
    await gw.publishAsync(topics.heartbeat(A), 'beat', { qos: 1 });
    await Promise.all(seen.map((s) => s.until(topics.heartbeat(A), 'beat')));
  });

  it('only alerting sends commands to gateways', async () => {
    const gw = await connectGateway(broker.url, GW_A);
    const got = inbox(gw);
    await gw.subscribeAsync(topics.commandsOf(A), { qos: 1 });
    const ingest = await service('ingest');
    const dashboard = await service('dashboard');
    const alerting = await service('alerting');
    const notAuthorized = { code: 0x87 };
    await expect(ingest.publishAsync(topics.command(A, 'reload'), 'from-ingest', { qos: 1 })).rejects.toMatchObject(
      notAuthorized,
    );
    await expect(
      dashboard.publishAsync(topics.command(A, 'reload'), 'from-dashboard', { qos: 1 }),
    ).rejects.toMatchObject(notAuthorized);
    await alerting.publishAsync(topics.command(A, 'ping'), 'from-alerting', { qos: 1 });
    await got.until(topics.command(A, 'ping'), 'from-alerting');
    expect(got.payloads()).toEqual(['from-alerting']);
  });

  it('alerting publishes alert changes on the county topics; dashboards read them; ingest and gateways do not', async () => {
    const alerting = await service('alerting');
    const otherAlerting = await service('alerting', 'alerting-2');
    const dashboard = await service('dashboard');
    const ingest = await service('ingest');
    const gw = await connectGateway(broker.url, GW_A);
    const [atDashboard, atOtherAlerting, atIngest, atGateway] = [dashboard, otherAlerting, ingest, gw].map(inbox);
    const countyAll = `${COUNTY_TOPIC_ROOT}/#`;
    await dashboard.subscribeAsync(countyAll, { qos: 1 });
    await otherAlerting.subscribeAsync(countyAll, { qos: 1 });
    await ingest.subscribeAsync(countyAll, { qos: 1 });
    await gw.subscribeAsync(countyAll, { qos: 1 });
    // A dashboard may not speak on the county topics (alert changes are alerting's).
    await expect(dashboard.publishAsync(ALERT_TOPIC, 'forged-by-dashboard', { qos: 1 })).rejects.toMatchObject({
      code: 0x87,
    });
    await expect(ingest.publishAsync(ALERT_TOPIC, 'forged-by-ingest', { qos: 1 })).rejects.toMatchObject({
      code: 0x87,
    });
    await alerting.publishAsync(ALERT_TOPIC, 'change-1', { qos: 1 });
    await atDashboard?.until(ALERT_TOPIC, 'change-1');
    await atOtherAlerting?.until(ALERT_TOPIC, 'change-1');
    expect(atDashboard?.payloads()).toEqual(['change-1']);
    expect(atOtherAlerting?.payloads()).toEqual(['change-1']);
    // ingest and the gateway subscribed to the same filter; a fence on their own topics shows
    // that deliveries to them have caught up.
    await gw.publishAsync(topics.heartbeat(A), 'fence', { qos: 1 });
    await ingest.subscribeAsync(topics.allGateways(), { qos: 1 });
    await gw.publishAsync(topics.heartbeat(A), 'fence-2', { qos: 1 });
    await atIngest?.until(topics.heartbeat(A), 'fence-2');
    expect(atIngest?.got.filter((g) => g.topic.startsWith('anlian-county/'))).toEqual([]);
    expect(atGateway?.got).toEqual([]);
  });

  it('a gateway’s snapshot reaches ingest; ingest announces the stored picture on the county media topic, dashboards read it; a dashboard or gateway cannot forge one', async () => {
    const ingest = await service('ingest');
    const dashboard = await service('dashboard');
    const gw = await connectGateway(broker.url, GW_A);
    const [atIngest, atDashboard, atGateway] = [ingest, dashboard, gw].map(inbox);
    const MEDIA_TOPIC = countyTopics.mediaStored(GW_A.county, GW_A.institution);
    await ingest.subscribeAsync(`$share/ingest/${topics.allGateways()}`, { qos: 1 });
    await dashboard.subscribeAsync(countyTopics.allMediaStored(), { qos: 1 });
    await gw.subscribeAsync(countyTopics.allMediaStored(), { qos: 1 });
    // Gateways speak MQTT 3.1.1: a denied PUBLISH would be acknowledged and dropped, so the
    // snapshot arriving at ingest is the proof that the gateway's ACL lets it through.
    await gw.publishAsync(topics.snapshot(A, 'cam-1'), 'picture', { qos: 1 });
    await atIngest?.until(topics.snapshot(A, 'cam-1'), 'picture');
    await expect(dashboard.publishAsync(MEDIA_TOPIC, 'forged-by-dashboard', { qos: 1 })).rejects.toMatchObject({
      code: 0x87,
    });
    await gw.publishAsync(MEDIA_TOPIC, 'forged-by-gateway', { qos: 1 });
    await ingest.publishAsync(MEDIA_TOPIC, 'stored-1', { qos: 1 });
    await atDashboard?.until(MEDIA_TOPIC, 'stored-1');
    expect(atDashboard?.payloads()).toEqual(['stored-1']);
    // ingest may announce pictures only: the alert topics stay alerting's.
    await expect(ingest.publishAsync(ALERT_TOPIC, 'forged-by-ingest', { qos: 1 })).rejects.toMatchObject({
      code: 0x87,
    });
    // A later message through the broker: what the gateway was going to receive has arrived (nothing).
    await gw.publishAsync(topics.heartbeat(A), 'fence', { qos: 1 });
    await atIngest?.until(topics.heartbeat(A), 'fence');
    expect(atGateway?.got).toEqual([]);
  });

  it('refuses a service with a wrong password, and anonymous clients', async () => {
    expect(
      await refusalCode(
        connectClient(broker.url, { protocolVersion: 4, clientId: 'x1', username: 'alerting', password: 'wrong' }),
      ),
    ).toBe(5);
    expect(await refusalCode(connectClient(broker.url, { protocolVersion: 4, clientId: 'x2' }))).toBe(5);
  });
});

/**
 * The embedded broker of `anlian up` has no service accounts: the county's services run in its
 * process. It keeps refusing everything that is not a gateway of the registry.
 */
describe('the embedded broker has no service accounts', () => {
  let broker: EmbeddedBroker;
  const metrics = new Registry();
  let url: string;
  beforeAll(async () => {
    broker = new EmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      directory: new FakeDirectory([GW_A]),
      logger: silentLogger(),
      metrics,
    });
    await broker.start(async () => {});
    url = `mqtt://127.0.0.1:${broker.port}`;
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('refuses the service accounts of the production form', async () => {
    for (const role of ['ingest', 'alerting', 'dashboard'] as const) {
      expect(
        await refusalCode(
          connectClient(url, { protocolVersion: 4, clientId: role, username: role, password: PASSWORD[role] }),
        ),
      ).toBe(4);
    }
    expect(await metricValue(metrics, 'anlian_broker_auth_failures_total', { reason: 'unknown_gateway' })).toBe(3);
  });

  it('a gateway may neither publish on nor subscribe to the county topics', async () => {
    const gw = await connectGateway(url, GW_A);
    // mqtt.js rejects on a 0x80 return code, with the SUBACK attached.
    await expect(gw.subscribeAsync(countyTopics.allAlertChanges(), { qos: 1 })).rejects.toMatchObject({
      packet: { granted: [128] },
    });
    const gone = closed(gw);
    gw.publish(ALERT_TOPIC, 'forged', { qos: 1 });
    await gone;
    expect(await metricValue(metrics, 'anlian_broker_publish_denied_total', { reason: 'not_contract_topic' })).toBe(1);
  });
});
