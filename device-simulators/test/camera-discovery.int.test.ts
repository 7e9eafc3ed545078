import {
  CameraAdapter,
  CameraAdapterConfig,
  type DeviceEntry,
  type DeviceReading,
  parseProbeMatches,
  probeWsDiscovery,
  type SubmitOutcome,
  silentLogger,
  systemClock,
  WS_DISCOVERY_MULTICAST,
} from '@anlian/gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CAMERA_PASSWORD, SimulatedCameraFleet } from '../src/camera/simulated-camera-fleet.js';
import { cameraEndpoint } from '../src/camera/ws-discovery-responder.js';

// WS-Discovery (ONVIF Core §7.3) between the gateway's camera adapter and simulated cameras, over
// real UDP: multicast to 239.255.255.250 on the loopback interface (on a free port rather than
// 3702, so that nothing else on the machine answers) and unicast to the cameras' address.
let fleet: SimulatedCameraFleet;
let port: number;
beforeAll(async () => {
  fleet = new SimulatedCameraFleet({
    cameras: [{ id: 'cam-a' }, { id: 'cam-b' }, { id: 'cam-off', fault: 'offline' }],
    discovery: { port: 0, multicast: true },
  });
  await fleet.start();
  port = fleet.discoveryPort as number;
});
afterAll(async () => {
  await fleet?.stop();
});

describe('WS-Discovery', () => {
  it('the simulated cameras answer a multicast Probe and a unicast one; an unplugged camera does not', async () => {
    const multicast = await probeWsDiscovery({
      address: WS_DISCOVERY_MULTICAST,
      port,
      interface: '127.0.0.1',
      timeoutMs: 1200,
    });
    const found = (list: typeof multicast) =>
      list.map((d) => [d.endpoint, d.xaddrs]).sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    const expected = ['cam-a', 'cam-b']
      .map((id) => [cameraEndpoint(id), [fleet.camera(id).deviceServiceUrl]])
      .sort((a, b) => String(a[1]).localeCompare(String(b[1])));
    expect(found(multicast)).toEqual(expected);
    expect(multicast[0]?.types).toContain('dn:NetworkVideoTransmitter');
    expect(multicast.map((d) => d.scopes.find((s) => s.includes('/name/'))).sort()).toEqual([
      'onvif://www.onvif.org/name/cam-a',
      'onvif://www.onvif.org/name/cam-b',
    ]);
    const unicast = await probeWsDiscovery({ address: '127.0.0.1', port, timeoutMs: 600 });
    expect(found(unicast)).toEqual(expected);
  });

  it('ignores answers to someone else’s Probe', () => {
    const answer = `<s:Envelope><s:Header><a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action>
      <a:RelatesTo>urn:uuid:other</a:RelatesTo></s:Header><s:Body><d:ProbeMatches><d:ProbeMatch>
      <a:EndpointReference><a:Address>urn:uuid:x</a:Address></a:EndpointReference>
      <d:XAddrs>http://10.0.0.9/onvif/device_service</d:XAddrs></d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>`;
    expect(parseProbeMatches(answer, 'urn:uuid:mine', '10.0.0.9:3702')).toEqual([]);
    expect(parseProbeMatches(answer, 'urn:uuid:other', '10.0.0.9:3702')).toEqual([
      {
        endpoint: 'urn:uuid:x',
        xaddrs: ['http://10.0.0.9/onvif/device_service'],
        types: [],
        scopes: [],
        from: '10.0.0.9:3702',
      },
    ]);
  });

  it('the adapter finds a camera configured by its endpoint, watches it, and names the cameras nobody configured', async () => {
    const readings: DeviceReading[] = [];
    const sink = {
      submit(r: DeviceReading): SubmitOutcome {
        readings.push(r);
        return { ok: true, queued: true, durable: Promise.resolve() };
      },
    };
    const config = CameraAdapterConfig.parse({
      type: 'camera',
      cameras: [
        // No address: DHCP gives the camera whatever it likes; its identity stays.
        { device: 'cam-a', endpoint: cameraEndpoint('cam-a'), username: 'admin', password: DEFAULT_CAMERA_PASSWORD },
        {
          device: 'cam-off',
          endpoint: cameraEndpoint('cam-off'),
          username: 'admin',
          password: DEFAULT_CAMERA_PASSWORD,
        },
      ],
      keepaliveS: 3600,
      diagnoseEveryS: 3600,
      sampleS: 2,
      onvifTimeoutMs: 2000,
      streamTimeoutMs: 3000,
      discovery: { enabled: true, port, interface: '127.0.0.1', timeoutMs: 1000 },
    });
    const devices = new Map<string, DeviceEntry>(['cam-a', 'cam-off'].map((id) => [id, { id, kind: 'camera' }]));
    const adapter = new CameraAdapter(config, { sink, clock: systemClock, logger: silentLogger(), devices });
    await adapter.start();
    try {
      await adapter.diagnoseNow('cam-a');
      const telemetry = (device: string) =>
        readings.filter((r) => r.device === device && r.message === 'telemetry').map((r) => r.fields);
      expect(telemetry('cam-a').at(-1)).toMatchObject({ online: true, streamOk: true, codec: 'h264' });
      expect(adapter.unconfigured().map((d) => d.endpoint)).toEqual([cameraEndpoint('cam-b')]);
      expect(adapter.health().detail).toContain(
        `1 ONVIF cameras on the LAN not configured: ${fleet.camera('cam-b').deviceServiceUrl}`,
      );
      // The unplugged one never answered: offline after 3 missed keepalives, and says why.
      for (let i = 0; i < 3; i++) await adapter.keepaliveOnce();
      expect(telemetry('cam-off').at(-1)).toMatchObject({ online: false, fault: 'unreachable' });
      const event = readings.find((r) => r.device === 'cam-off' && r.message === 'event');
      expect(event?.fields).toMatchObject({ event: 'signal_loss' });
      expect(adapter.counts().discoveries).toBe(1);
    } finally {
      await adapter.stop();
    }
  });

  it('a camera known only by its endpoint needs discovery on', () => {
    const r = CameraAdapterConfig.safeParse({
      type: 'camera',
      cameras: [{ device: 'cam-a', endpoint: 'urn:uuid:x', username: 'admin', password: 'p' }],
    });
    expect(r.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).toEqual([
      'cameras.0.endpoint: a camera known only by its endpoint needs discovery.enabled',
    ]);
  });
});
