import type { IngestEvent } from '@anlian/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { LocalFireAlarm } from '../src/alarm/local-alarm.js';
import { buildGateway, type Gateway } from '../src/gateway-service.js';
import { silentLogger } from '../src/logger.js';
import { type CountyIngest, startCountyIngest, type TestDevice, testDevices } from './support/county-ingest.js';
import { gatewayConfig, tempDir, waitFor } from './support/gateway-fixture.js';
import { type LinkProxy, startLinkProxy } from './support/link-proxy.js';
import { ManualClock } from './support/manual-clock.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function telemetryFields(d: TestDevice, round: number): Record<string, unknown> {
  switch (d.kind) {
    case 'kitchen':
      return { temperature: 30 + (round % 10) };
    case 'extinguisher':
      return { pressure: 1.2, medium: 'dry_powder' };
    default:
      return { battery: 90 - (round % 5) };
  }
}

const isDeviceMessage = (e: IngestEvent): e is Extract<IngestEvent, { type: 'telemetry' | 'event' }> =>
  e.type === 'telemetry' || e.type === 'event';

/** Device time of each telemetry (or event) message per device, in the order ingest accepted them. */
function tsByDevice(received: readonly IngestEvent[], type: 'telemetry' | 'event'): Map<string, number[]> {
  const m = new Map<string, number[]>();
  for (const e of received) {
    if (e.type !== type) continue;
    const list = m.get(e.device) ?? [];
    list.push(e.payload.ts);
    m.set(e.device, list);
  }
  return m;
}

interface Setup {
  county: CountyIngest;
  proxy: LinkProxy;
  gateway: Gateway;
  clock: ManualClock;
  devices: TestDevice[];
  alarms: LocalFireAlarm[];
}

async function setUp(nDevices: number, replay: { ratePerS: number; inflight: number }): Promise<Setup> {
  const devices = testDevices(nDevices);
  const county = await startCountyIngest(devices);
  cleanups.push(() => county.close());
  const proxy = await startLinkProxy(county.port);
  cleanups.push(() => proxy.close());
  const data = await tempDir();
  cleanups.push(data.remove);
  const clock = new ManualClock();
  const gateway = buildGateway({
    config: gatewayConfig({ url: proxy.url, dataDir: data.dir, devices, overrides: { replay } }),
    logger: process.env.GW_DEBUG ? (await import('../src/logger.js')).createLogger({ level: 'debug' }) : silentLogger(),
    clock,
  });
  const alarms: LocalFireAlarm[] = [];
  gateway.alarm.onTrigger((a) => alarms.push(a));
  await gateway.start();
  cleanups.push(() => gateway.stop());
  expect(await waitFor(() => gateway.uplink.connected)).toBe(true);
  return { county, proxy, gateway, clock, devices, alarms };
}

describe('store-and-forward through a county link outage', () => {
  it('a 10-minute outage of 200 devices: every message arrives exactly once, in order per device, the fire alarm first', async () => {
    const { county, proxy, gateway, clock, devices, alarms } = await setUp(200, { ratePerS: 3000, inflight: 100 });
    const expectedTelemetry = new Map<string, number[]>();
    const expectedEvents = new Map<string, number[]>();
    const submit = (d: TestDevice, message: 'telemetry' | 'event', ts: number, fields: Record<string, unknown>) => {
      const outcome = gateway.submit({ device: d.id, message, ts, fields });
      expect(outcome.ok && outcome.queued).toBe(true);
      const m = message === 'telemetry' ? expectedTelemetry : expectedEvents;
      m.set(d.id, [...(m.get(d.id) ?? []), ts]);
    };
    const round = (r: number) => {
      for (const d of devices) submit(d, 'telemetry', clock.now(), telemetryFields(d, r));
    };

    // Connected: one round goes straight through.
    round(0);
    expect(await waitFor(() => gateway.queue.depth() === 0)).toBe(true);

    const cutAt = county.received.length;
    proxy.cut();
    expect(await waitFor(() => !gateway.uplink.connected)).toBe(true);

    // Ten simulated minutes: every device reports every 30 s; faults at 2 and 5 min, a fire at 7 min.
    let fireTs = 0;
    for (let r = 1; r <= 20; r++) {
      clock.advance(30_000);
      round(r);
      if (r === 4 || r === 10) {
        const d = devices[r * 3] as TestDevice;
        submit(d, 'event', clock.now() + 1, { event: 'fault', detail: 'battery low' });
      }
      if (r === 14) {
        fireTs = clock.now() + 2;
        submit(devices[0] as TestDevice, 'event', fireTs, { event: 'fire', zone: '主楼 3F 东走廊' });
      }
    }
    const backlog = 20 * devices.length + 3;
    expect(gateway.queue.depth()).toBe(backlog);
    expect(gateway.queue.stats().depth).toEqual({ alarm: 1, event: 2, telemetry: 20 * devices.length });
    // The county could not hear the fire: the local alarm sounded, with the reason.
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ device: 'dev-000', reason: 'uplink-down', ts: fireTs });
    // Nothing reached the county meanwhile (its last will did: the link dropped uncleanly).
    expect(county.received.slice(cutAt).filter(isDeviceMessage)).toHaveLength(0);

    proxy.restore();
    expect(await waitFor(() => gateway.queue.depth() === 0, 30_000)).toBe(true);
    expect(await waitFor(() => county.received.filter(isDeviceMessage).length >= devices.length * 21 + 3)).toBe(true);

    // Exactly once and in order, per device: the device times are the ones sent, in sending order.
    expect(tsByDevice(county.received, 'telemetry')).toEqual(expectedTelemetry);
    expect(tsByDevice(county.received, 'event')).toEqual(expectedEvents);
    const seqs = county.received.filter(isDeviceMessage).map((e) => e.payload.seq);
    expect(new Set(seqs).size).toBe(seqs.length);

    // The replay: the fire alarm first, then the other events, then the backlog of telemetry.
    const replay = county.received.slice(cutAt).filter(isDeviceMessage);
    expect(replay[0]).toMatchObject({ type: 'event', device: 'dev-000', payload: { event: 'fire', ts: fireTs } });
    expect(replay.slice(1, 3).map((e) => e.type)).toEqual(['event', 'event']);
    expect(replay.slice(3).every((e) => e.type === 'telemetry')).toBe(true);

    // The county saw the gateway drop (last will) and come back (online), and a heartbeat with the backlog.
    const statuses = county.received.slice(cutAt).filter((e) => e.type === 'status');
    expect(statuses.map((e) => e.type === 'status' && `${e.payload.state}/${e.payload.reason}`)).toEqual([
      'offline/will',
      'online/connect',
    ]);
    const beats = county.received.filter((e) => e.type === 'heartbeat');
    expect(beats.some((e) => e.type === 'heartbeat' && e.payload.queueDepth >= backlog - 200)).toBe(true);
  });

  it('the county broker restarts: the gateway reconnects with backoff and resumes', async () => {
    const { county, gateway, clock, devices } = await setUp(20, { ratePerS: 5000, inflight: 50 });
    const delays: number[] = [];
    gateway.uplink.on('retry', (ms) => delays.push(ms));
    const before = gateway.uplink.stats().connects;

    await county.stopBroker();
    expect(await waitFor(() => !gateway.uplink.connected)).toBe(true);
    for (let r = 0; r < 5; r++) {
      clock.advance(10_000);
      for (const d of devices) gateway.submit({ device: d.id, message: 'telemetry', fields: telemetryFields(d, r) });
    }
    // Several attempts fail against the stopped broker, each waiting longer.
    expect(await waitFor(() => delays.length >= 4)).toBe(true);
    await county.startBroker();
    expect(await waitFor(() => gateway.queue.depth() === 0, 20_000)).toBe(true);
    expect(gateway.uplink.stats().connects).toBe(before + 1);

    // Backoff from 100 ms, doubling, ±20 % jitter, capped at 1 s (the fixture's settings).
    expect(delays[0]).toBeGreaterThanOrEqual(80);
    expect(delays[0]).toBeLessThanOrEqual(120);
    expect(delays[1]).toBeGreaterThanOrEqual(160);
    expect(delays[1]).toBeLessThanOrEqual(240);
    expect(delays[2]).toBeGreaterThanOrEqual(320);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1200);

    const byDevice = tsByDevice(county.received, 'telemetry');
    for (const d of devices) expect(byDevice.get(d.id)).toHaveLength(5);
  });
});
