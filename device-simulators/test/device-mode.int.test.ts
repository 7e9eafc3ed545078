import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildGateway, resolveGatewayConfig, silentLogger } from '@anlian/gateway';
import { type CountyConfig, CountyConfig as CountySchema, decodeMessage } from '@anlian/protocol';
import { reservePort } from '@anlian/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { gatewayConfigFor } from '../src/device-mode/device-mode-layout.js';
import { DeviceModeSimulator } from '../src/device-mode/device-mode-simulator.js';
import { resolveScenarioPath } from '../src/paths.js';
import { defineScenario, loadScenario, parseScenario } from '../src/scenario/load-scenario.js';
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
    const [lan, modbusPort] = [await reservePort(), await reservePort()];
    onTestFinished(() => {
      lan.release();
      modbusPort.release();
    });
    const lanPort = lan.port;
    const modbus = { host: '127.0.0.1', port: modbusPort.port };

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

  it('with a fire panel: detectors and circuits report through a simulated UITD (GB/T 26875.3) to the real gateway', async () => {
    const at = (floor: string, room: string) => ({ building: '主楼', floor, room });
    const PANEL_COUNTY: CountyConfig = CountySchema.parse({
      ...COUNTY,
      institutions: [
        {
          ...COUNTY.institutions[0],
          gateways: [
            {
              id: 'gw-dm-1',
              secret: 'device-mode-secret-1',
              devices: [
                { id: 'smoke-201', kind: 'fire', name: '主楼2F 201室 感烟探测器', location: at('2F', '201室') },
                { id: 'smoke-202', kind: 'fire', name: '主楼2F 202室 感烟探测器', location: at('2F', '202室') },
                { id: 'smoke-duty', kind: 'fire', name: '主楼1F 值班室 感烟探测器', location: at('1F', '值班室') },
                { id: 'elec-socket', kind: 'electrical', name: '主楼1F 配电房 插座回路', location: at('1F', '配电房') },
                { id: 'ext-1', kind: 'extinguisher', name: '灭火器', location: at('1F', '走廊'), reportIntervalS: 10 },
              ],
            },
          ],
        },
      ],
    });
    // The shipped panel-fire scenario's two faults, on this gateway and sooner.
    const scenario = parseScenario(
      [
        'title: { zh: 消防主机火警, en: Fire panel alarm }',
        'description: { zh: 插座回路漏电，卧室烟感经消防主机报火警, en: "A leaking circuit, then a bedroom fire through the panel" }',
        'faults:',
        '  - { type: electrical-leakage, at: 10s, target: { device: elec-socket }, to: 400, over: 60s, reportEvery: 10s }',
        '  - { type: fire-alarm, at: 90s, target: { device: smoke-202 } }',
      ].join('\n'),
    );
    const county = await startBroker(PANEL_COUNTY);
    const dataDir = await mkdtemp(path.join(tmpdir(), 'anlian-devmode-panel-'));
    onTestFinished(() => rm(dataDir, { recursive: true, force: true }));
    const [lan, panel] = [await reservePort(), await reservePort()];
    onTestFinished(() => {
      lan.release();
      panel.release();
    });
    const lanPort = lan.port;
    const firePanel = { host: '127.0.0.1', port: panel.port };
    const sim = new DeviceModeSimulator({
      county: PANEL_COUNTY,
      lanUrl: `mqtt://127.0.0.1:${lanPort}`,
      firePanel,
      speed: 20,
      seed: 3,
      scenario,
      startMs: Date.parse('2026-11-23T21:50:00+08:00'),
    });
    // The UITD reports as the duty room's detector, where the panel stands; the rest are its components.
    expect(sim.layout.panel?.device).toBe('smoke-duty');
    expect(sim.layout.panel?.points.get('smoke-202')).toMatchObject({ loop: 2, point: 2, componentType: 42 });
    const file = gatewayConfigFor(sim.layout, { countyUrl: county.url, lanPort, firePanel, dataDir });
    const panelAdapter = (file.adapters as Record<string, unknown>[]).find((a) => a.type === 'gb26875');
    expect(panelAdapter).toMatchObject({
      port: firePanel.port,
      uitds: [
        { device: 'smoke-duty', components: expect.arrayContaining([{ loop: 2, point: 2, device: 'smoke-202' }]) },
      ],
    });
    const gateway = buildGateway({
      config: resolveGatewayConfig({ ...file, logLevel: 'silent' }),
      logger: silentLogger(),
    });
    await gateway.start();
    onTestFinished(() => gateway.stop());
    await sim.start();
    onTestFinished(() => sim.stop());

    const from = (device: string, type: 'telemetry' | 'event'): Record<string, unknown>[] =>
      county.published
        .filter((p) => p.topic.endsWith(`/device/${device}/${type}`))
        .map((p) => decodeMessage(p.topic, p.payload))
        .flatMap((m) => (m.ok && m.message.type === type ? [m.message.payload as Record<string, unknown>] : []));
    // The circuit's readings are analog values on the panel: residual current (mA) and cable temperature.
    const leak = await waitFor(() =>
      from('elec-socket', 'event').find((e) => e.kind === 'electrical' && e.event === 'leakage'),
    );
    expect(leak).toBeDefined();
    const readings = from('elec-socket', 'telemetry');
    expect(readings.length).toBeGreaterThan(1);
    expect(readings.at(-1)).toMatchObject({
      kind: 'electrical',
      residualCurrent: expect.any(Number),
      cableTemperature: expect.any(Number),
    });
    expect(Math.max(...readings.map((r) => Number(r.residualCurrent ?? 0)))).toBeGreaterThanOrEqual(300);
    // The detector's fire alarm, with the panel's description as the zone and what the detector is.
    const fire = await waitFor(() => from('smoke-202', 'event').find((e) => e.kind === 'fire' && e.event === 'fire'));
    expect(fire).toMatchObject({ zone: '主楼2F 202室' });
    expect(String(fire?.detail)).toContain('点型光电感烟火灾探测器');
    // The gauge still reaches the gateway over the LAN broker; no detector did (a wired detector has no battery).
    expect(await waitFor(() => from('ext-1', 'telemetry').length > 0)).toBe(true);
    expect(['smoke-201', 'smoke-202'].flatMap((d) => from(d, 'telemetry')).filter((t) => 'battery' in t)).toEqual([]);
    expect(sim.stats().panelConfirmed).toBeGreaterThan(2);
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
    const lan = await reservePort();
    onTestFinished(() => lan.release());
    const lanPort = lan.port;
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
    const nobody = await reservePort();
    onTestFinished(() => nobody.release());
    const sim = new DeviceModeSimulator({
      county: await demoCounty(),
      gateway: 'gw-yy-daxi-1',
      // Nothing listens there: this test watches the cameras, not the LAN sensors.
      lanUrl: `mqtt://127.0.0.1:${nobody.port}`,
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
