import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildGateway, resolveGatewayConfig, silentLogger } from '@anlian/gateway';
import { type CountyConfig, CountyConfig as CountySchema, decodeMessage } from '@anlian/protocol';
import { freePort } from '@anlian/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { gatewayConfigFor } from '../src/device-mode/device-mode-layout.js';
import { DeviceModeSimulator } from '../src/device-mode/device-mode-simulator.js';
import { resolveScenarioPath } from '../src/paths.js';
import { defineScenario, loadScenario } from '../src/scenario/load-scenario.js';
import { demoCounty, startBroker } from './support.js';

const loc = (room: string) => ({ building: '主楼', floor: '2F', room });
const COUNTY: CountyConfig = CountySchema.parse({
  county: { id: 'devmode', name: '设备模式县', adcode: '500242' },
  institutions: [
    {
      id: 'inst-dm',
      name: '设备模式敬老院',
      address: '测试',
      location: { lng: 108.77, lat: 28.84 },
      beds: 30,
      gateways: [
        {
          id: 'gw-dm-1',
          secret: 'device-mode-secret-1',
          devices: [
            { id: 'smoke-1', kind: 'fire', name: '烟感 1', location: loc('201'), reportIntervalS: 10 },
            { id: 'smoke-2', kind: 'fire', name: '烟感 2', location: loc('202'), reportIntervalS: 10 },
            { id: 'kit-1', kind: 'kitchen', name: '厨房', location: loc('厨房'), reportIntervalS: 10 },
            { id: 'ext-1', kind: 'extinguisher', name: '灭火器 1', location: loc('走廊'), reportIntervalS: 10 },
            { id: 'ext-2', kind: 'extinguisher', name: '灭火器 2', location: loc('走廊'), reportIntervalS: 10 },
          ],
        },
      ],
    },
  ],
});

async function waitFor<T>(fn: () => T, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = fn();
  while (!last && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    last = fn();
  }
  return last;
}

describe('device mode', () => {
  it('simulated sensors and Modbus transmitters drive a real gateway, which forwards to the county', async () => {
    const county = await startBroker(COUNTY);
    const dataDir = await mkdtemp(path.join(tmpdir(), 'anlian-devmode-'));
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
    const lanPort = await freePort();
    const modbus = { host: '127.0.0.1', port: await freePort() };

    const sim = new DeviceModeSimulator({
      county: COUNTY,
      lanUrl: `mqtt://127.0.0.1:${lanPort}`,
      modbus,
      speed: 20,
      seed: 3,
      startMs: Date.parse('2026-11-23T11:00:00+08:00'),
    });
    // The configuration the simulator says matches it, as `anlian sim --print-gateway-config` prints it.
    const file = gatewayConfigFor(sim.layout, { countyUrl: county.url, lanPort, modbus, dataDir });
    const adapters = (file.adapters as Record<string, unknown>[]).map((a) =>
      a.type === 'modbus-tcp' ? { ...a, pollMs: 200 } : a,
    );
    const gateway = buildGateway({
      config: resolveGatewayConfig({ ...file, adapters, logLevel: 'silent' }),
      logger: silentLogger(),
    });
    await gateway.start();
    onTestFinished(() => gateway.stop());
    await sim.start();
    onTestFinished(() => sim.stop());

    const telemetryFrom = (device: string) =>
      county.published
        .filter((p) => p.topic.endsWith(`/device/${device}/telemetry`))
        .map((p) => decodeMessage(p.topic, p.payload));
    const devices = ['smoke-1', 'smoke-2', 'kit-1', 'ext-1', 'ext-2'];
    expect(await waitFor(() => devices.every((d) => telemetryFrom(d).length > 0))).toBe(true);

    // Every message the county got is a valid one from the gateway, numbered by it.
    for (const d of devices) for (const m of telemetryFrom(d)) expect(m.ok).toBe(true);
    const ext = telemetryFrom('ext-1')[0];
    expect(ext?.ok && ext.message.type === 'telemetry' && ext.message.payload).toMatchObject({
      kind: 'extinguisher',
      medium: 'dry_powder',
    });
    const pressure =
      ext?.ok && ext.message.type === 'telemetry' && ext.message.payload.kind === 'extinguisher'
        ? ext.message.payload.pressure
        : 0;
    expect(pressure).toBeGreaterThan(0.5);
    expect(pressure).toBeLessThan(2);
    expect(sim.stats().modbusRequests).toBeGreaterThan(0);
    expect(sim.stats().lanAcked).toBeGreaterThan(0);
    expect(gateway.stats().readings.rejected).toEqual({});
    expect(county.refused).toEqual([]);
  });
});

const CAMERA_COUNTY: CountyConfig = CountySchema.parse({
  county: { id: 'devmode', name: '设备模式县', adcode: '500242' },
  institutions: [
    {
      id: 'inst-cam',
      name: '摄像机敬老院',
      address: '测试',
      location: { lng: 108.77, lat: 28.84 },
      beds: 30,
      gateways: [
        {
          id: 'gw-cam-1',
          secret: 'device-mode-secret-2',
          devices: [
            {
              id: 'smoke-lobby',
              kind: 'fire',
              name: '烟感',
              location: { building: '主楼', floor: '1F', room: '大厅' },
            },
            {
              id: 'cam-corr',
              kind: 'camera',
              name: '走廊摄像机',
              location: { building: '主楼', floor: '1F', room: '走廊' },
              covers: [{ building: '主楼', floor: '1F' }],
            },
            {
              id: 'cam-lobby',
              kind: 'camera',
              name: '大厅摄像机',
              location: { building: '主楼', floor: '1F', room: '大厅' },
            },
          ],
        },
      ],
    },
  ],
});

describe('device mode with simulated cameras', () => {
  it('the scenario’s camera fault shows on a simulated ONVIF camera, and the real gateway’s diagnosis reports it', async () => {
    const county = await startBroker(CAMERA_COUNTY);
    const dataDir = await mkdtemp(path.join(tmpdir(), 'anlian-devmode-cam-'));
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
    const lanPort = await freePort();
    const scenario = defineScenario({
      title: { zh: '画面冻结', en: 'frozen' },
      description: { zh: '走廊摄像机画面冻结', en: 'the corridor camera freezes' },
      faults: [
        { id: 'corr-frozen', type: 'camera', at: '1m', target: { device: 'cam-corr' }, fault: 'frozen', for: '2h' },
      ],
    });
    const sim = new DeviceModeSimulator({
      county: CAMERA_COUNTY,
      lanUrl: `mqtt://127.0.0.1:${lanPort}`,
      cameras: { host: '127.0.0.1', port: 0 },
      scenario,
      speed: 60,
      seed: 3,
      startMs: Date.now(),
    });
    // The gateway's LAN broker is not up yet: the simulator's LAN client retries, its cameras serve.
    await sim.start();
    onTestFinished(() => sim.stop());
    const fleet = sim.cameraFleet;
    if (!fleet) throw new Error('no camera fleet');
    // 1 simulated minute at 60×: the corridor camera freezes a second in.
    expect(await waitFor(() => fleet.cameras().length === 2 && fleet.camera('cam-corr').fault === 'frozen')).toBe(true);
    expect(fleet.camera('cam-lobby').fault).toBe('none');

    const endpoints = sim.cameraEndpoints();
    if (!endpoints) throw new Error('no camera endpoints');
    const file = gatewayConfigFor(sim.layout, { countyUrl: county.url, lanPort, cameras: endpoints, dataDir });
    const camerasAdapter = (file.adapters as Record<string, unknown>[]).find((a) => a.type === 'camera');
    // The county file's coverage became the gateway's: the corridor camera its floor, the lobby its room.
    expect(camerasAdapter?.cameras).toEqual([
      expect.objectContaining({
        device: 'cam-corr',
        covers: ['主楼 1F'],
        url: fleet.camera('cam-corr').deviceServiceUrl,
      }),
      expect.objectContaining({ device: 'cam-lobby', covers: ['主楼 1F 大厅'] }),
    ]);
    const adapters = (file.adapters as Record<string, unknown>[]).map((a) =>
      a.type === 'camera' ? { ...a, sampleS: 3, streamTimeoutMs: 4000 } : a,
    );
    const gateway = buildGateway({
      config: resolveGatewayConfig({ ...file, adapters, logLevel: 'silent' }),
      logger: silentLogger(),
    });
    await gateway.start();
    onTestFinished(() => gateway.stop());

    const decoded = (device: string, type: 'telemetry' | 'event') =>
      county.published
        .filter((p) => p.topic.endsWith(`/device/${device}/${type}`))
        .map((p) => decodeMessage(p.topic, p.payload))
        .flatMap((m) => (m.ok ? [m.message.payload as unknown as Record<string, unknown>] : []));
    expect(await waitFor(() => decoded('cam-corr', 'event').some((e) => e.event === 'frozen'), 60_000)).toBe(true);
    expect(await waitFor(() => decoded('cam-lobby', 'telemetry').some((t) => t.streamOk === true), 60_000)).toBe(true);
    expect(decoded('cam-lobby', 'event')).toEqual([]);
    expect(decoded('cam-corr', 'telemetry').at(-1)).toMatchObject({ online: true, frozen: true, codec: 'h264' });
    expect(sim.stats()).toMatchObject({ cameras: 2, cameraFaults: 1 });
    expect(county.refused).toEqual([]);
  });

  it('the camera-failure drill freezes, blackens and unplugs the simulated cameras it names, then restores them', async () => {
    const scenario = await loadScenario(resolveScenarioPath('camera-failure'));
    const sim = new DeviceModeSimulator({
      county: await demoCounty(),
      gateway: 'gw-yy-daxi-1',
      // Nothing listens there: this test watches the cameras, not the LAN sensors.
      lanUrl: `mqtt://127.0.0.1:${await freePort()}`,
      cameras: { host: '127.0.0.1', port: 0 },
      scenario,
      // 1, 3 and 5 simulated minutes in: 0.5, 1.5 and 2.5 s.
      speed: 120,
      startMs: Date.now(),
    });
    await sim.start();
    onTestFinished(() => sim.stop());
    const fleet = sim.cameraFleet;
    if (fleet?.cameras().length !== 9) throw new Error('the cameras did not start');
    const faults = () =>
      [fleet.camera('cam-1f-kitchen'), fleet.camera('cam-1f-gate'), fleet.camera('cam-1f-corr')].map((c) => c.fault);
    expect(await waitFor(() => faults().join() === 'frozen,black,offline', 10_000)).toBe(true);
    // Offline: its ONVIF port refuses connections.
    await expect(fetch(fleet.camera('cam-1f-corr').deviceServiceUrl, { method: 'POST' })).rejects.toThrow();
    // The gate camera's 5 minutes end first (8 simulated minutes in).
    expect(await waitFor(() => faults()[1] === 'none', 10_000)).toBe(true);
    const untouched = fleet.cameras().filter((c) => !['cam-1f-kitchen', 'cam-1f-gate', 'cam-1f-corr'].includes(c.id));
    expect(untouched.map((c) => c.fault)).toEqual(untouched.map(() => 'none'));
  });
});
