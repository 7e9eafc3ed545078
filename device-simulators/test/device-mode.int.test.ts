import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildGateway, resolveGatewayConfig, silentLogger } from '@anlian/gateway';
import { type CountyConfig, CountyConfig as CountySchema, decodeMessage } from '@anlian/protocol';
import { reservePort } from '@anlian/testing';
import { describe, expect, it, onTestFinished } from 'vitest';
import { gatewayConfigFor } from '../src/device-mode/device-mode-layout.js';
import { DeviceModeSimulator } from '../src/device-mode/device-mode-simulator.js';
import { startBroker } from './support.js';

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
});
