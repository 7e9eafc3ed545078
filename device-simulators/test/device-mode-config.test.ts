import { covers, resolveGatewayConfig } from '@anlian/gateway';
import { describe, expect, it } from 'vitest';
import { cameraEndpoint } from '../src/camera/ws-discovery-responder.js';
import { runDeviceModeCommand } from '../src/device-mode/device-mode-command.js';
import { DEMO_COUNTY_FILE } from '../src/paths.js';

async function printed(args: {
  gateway: string;
  cameraListen?: string;
  cameraDiscovery?: boolean;
}): Promise<Record<string, unknown>> {
  let out = '';
  let err = '';
  const code = await runDeviceModeCommand(
    {
      county: DEMO_COUNTY_FILE,
      broker: 'mqtt://county.example:1883',
      naturalFaults: true,
      logLevel: 'silent',
      printGatewayConfig: true,
      lan: 'mqtt://127.0.0.1:1884',
      ...args,
    },
    { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) } },
  );
  expect(err).toBe('');
  expect(code).toBe(0);
  return JSON.parse(out) as Record<string, unknown>;
}

describe('anlian sim --device-mode --print-gateway-config', () => {
  it('with --camera-listen: the camera adapter, each camera covering the zones the county file gives it', async () => {
    const file = await printed({ gateway: 'gw-yy-fuli-zhongxin-1', cameraListen: '127.0.0.1:8600' });
    // What `anlian gateway --config` accepts.
    const config = resolveGatewayConfig({ ...file, logLevel: 'silent' }, { baseDir: '/etc/anlian' });
    const adapter = config.adapters.find((a) => a.type === 'camera');
    if (adapter?.type !== 'camera') throw new Error('no camera adapter');
    // The county file's order, one ONVIF port each from 8600.
    expect(adapter.cameras.map((c) => [c.device, c.url])).toEqual([
      ['cam-1f-corr', 'http://127.0.0.1:8600/onvif/device_service'],
      ['cam-2f-corr', 'http://127.0.0.1:8601/onvif/device_service'],
      ['cam-3f-corr', 'http://127.0.0.1:8602/onvif/device_service'],
      ['cam-4f-corr', 'http://127.0.0.1:8603/onvif/device_service'],
      ['cam-5f-corr', 'http://127.0.0.1:8604/onvif/device_service'],
      ['cam-1f-gate', 'http://127.0.0.1:8605/onvif/device_service'],
      ['cam-1f-back', 'http://127.0.0.1:8606/onvif/device_service'],
      ['cam-1f-lobby', 'http://127.0.0.1:8607/onvif/device_service'],
      ['cam-1f-duty', 'http://127.0.0.1:8608/onvif/device_service'],
    ]);
    // Corridor cameras cover their floor (demo county `covers`); the others the room they are in.
    expect(adapter.cameras.find((c) => c.device === 'cam-3f-corr')?.covers).toEqual(['主楼 3F']);
    expect(adapter.cameras.find((c) => c.device === 'cam-1f-lobby')?.covers).toEqual(['主楼 1F 接待大厅']);
    // A fire alarm in the lobby: the 1F corridor camera and the lobby's own.
    const zoneOf = (id: string) => config.devices.find((d) => d.id === id)?.zone;
    const reviewing = (detector: string) =>
      adapter.cameras.filter((c) => covers(c.covers, zoneOf(detector))).map((c) => c.device);
    expect(zoneOf('smk-1f-lobby')).toBe('主楼 1F 接待大厅');
    expect(reviewing('smk-1f-lobby')).toEqual(['cam-1f-corr', 'cam-1f-lobby']);
    expect(reviewing('smk-3f-corr-e')).toEqual(['cam-3f-corr']);
    // Cameras are devices of the gateway too.
    expect(config.devices.filter((d) => d.kind === 'camera')).toHaveLength(9);
  });

  it('the kitchen camera covers the kitchen and its store room, as the county file says', async () => {
    const file = await printed({ gateway: 'gw-yy-daxi-1', cameraListen: '127.0.0.1:8600' });
    const config = resolveGatewayConfig({ ...file, logLevel: 'silent' }, { baseDir: '/etc/anlian' });
    const adapter = config.adapters.find((a) => a.type === 'camera');
    if (adapter?.type !== 'camera') throw new Error('no camera adapter');
    expect(adapter.cameras.find((c) => c.device === 'cam-1f-kitchen')?.covers).toEqual([
      '主楼 1F 厨房',
      '主楼 1F 厨房储藏间',
    ]);
  });

  it('with --camera-discovery: cameras by their WS-Discovery identity, probed from the cameras’ interface', async () => {
    const file = await printed({
      gateway: 'gw-yy-fuli-zhongxin-1',
      cameraListen: '127.0.0.1:8600',
      cameraDiscovery: true,
    });
    const config = resolveGatewayConfig({ ...file, logLevel: 'silent' }, { baseDir: '/etc/anlian' });
    const adapter = config.adapters.find((a) => a.type === 'camera');
    if (adapter?.type !== 'camera') throw new Error('no camera adapter');
    expect(adapter.discovery).toMatchObject({
      enabled: true,
      address: '239.255.255.250',
      port: 3702,
      interface: '127.0.0.1',
    });
    expect(adapter.cameras[0]).toMatchObject({ device: 'cam-1f-corr', endpoint: cameraEndpoint('cam-1f-corr') });
    expect(adapter.cameras.every((c) => c.url === undefined)).toBe(true);
  });

  it('without --camera-listen: no cameras, as before', async () => {
    const file = await printed({ gateway: 'gw-yy-fuli-zhongxin-1' });
    expect((file.adapters as { type: string }[]).map((a) => a.type)).toEqual(['lan-mqtt']);
    expect((file.devices as { kind: string }[]).some((d) => d.kind === 'camera')).toBe(false);
  });
});
