import {
  type CountyConfig,
  cameraCoverageZones,
  type DeviceConfig,
  type GatewayConfig,
  type InstitutionConfig,
  locationZone,
} from '@anlian/protocol';
import { SimErrorCode, SimulatorError } from '../errors.js';

/** Modbus units a TCP endpoint can address (1…247, Modbus over serial line v1.02 §2.2). */
const MAX_UNITS = 247;

/**
 * How the simulated devices of one gateway reach it in device mode: sensors publish on the
 * gateway's LAN broker at `sensors/{device}/telemetry|event` (the gateway's default mapping);
 * with Modbus on, extinguisher gauges are transmitters at unit 1, 2, … with pressure in
 * holding register 0 (0.001 MPa) and temperature in register 1 (0.1 °C, signed).
 */
export interface DeviceModeLayout {
  county: string;
  institution: InstitutionConfig;
  gateway: GatewayConfig;
  /** Extinguisher device id → Modbus unit id (only with Modbus). */
  modbusUnits: Map<string, number>;
}

export const PRESSURE_REGISTER = 0;
export const TEMPERATURE_REGISTER = 1;
export const PRESSURE_SCALE = 0.001;
export const TEMPERATURE_SCALE = 0.1;

export function lanTopic(device: string, message: 'telemetry' | 'event'): string {
  return `sensors/${device}/${message}`;
}

/** Finds the gateway (default: the county's first) and assigns Modbus units. */
export function deviceModeLayout(
  county: CountyConfig,
  gatewayId: string | undefined,
  modbus: boolean,
): DeviceModeLayout {
  for (const institution of county.institutions) {
    for (const gateway of institution.gateways) {
      if (gatewayId !== undefined && gateway.id !== gatewayId) continue;
      const modbusUnits = new Map<string, number>();
      if (modbus) {
        for (const d of gateway.devices) {
          if (d.kind === 'extinguisher' && modbusUnits.size < MAX_UNITS) modbusUnits.set(d.id, modbusUnits.size + 1);
        }
      }
      return { county: county.county.id, institution, gateway, modbusUnits };
    }
  }
  throw new SimulatorError(
    SimErrorCode.BAD_ARGUMENT,
    gatewayId === undefined ? 'the county has no gateway' : `no gateway ${JSON.stringify(gatewayId)} in the county`,
  );
}

/** The gateway's cameras, in the county file's order (camera `i` listens on the base port + `i`). */
export function layoutCameras(layout: DeviceModeLayout): DeviceConfig[] {
  return layout.gateway.devices.filter((d) => d.kind === 'camera');
}

/** The simulated devices the layout covers: cameras only when they are simulated (ONVIF + RTSP). */
export function simulatedDevices(layout: DeviceModeLayout, cameras = false): DeviceConfig[] {
  return layout.gateway.devices.filter((d) => cameras || d.kind !== 'camera');
}

/** How the gateway reaches the simulated cameras: each its own ONVIF device service. */
export interface CameraEndpoints {
  /** The ONVIF device service of the gateway's `index`-th camera. */
  url(device: string, index: number): string;
  username: string;
  password: string;
  /**
   * Find them by WS-Discovery instead: each camera is configured by its endpoint identity, and the
   * adapter probes from `interface` (multicast to 239.255.255.250:3702 unless `port` says otherwise).
   */
  discovery?: { endpoint(device: string): string; interface: string; port?: number };
}

/** Camera `i` of the layout at `http://host:(port + i)/onvif/device_service`. */
export function camerasFromPort(host: string, port: number, username: string, password: string): CameraEndpoints {
  return { url: (_device, i) => `http://${host}:${port + i}/onvif/device_service`, username, password };
}

/**
 * A gateway configuration that matches the layout, for `anlian gateway --config` (JSON is
 * valid YAML): the devices, the LAN broker with the default mappings, the Modbus register map,
 * and with cameras the camera adapter, each camera covering the zones the county file gives it
 * (`covers`, 视频复核) or else the room it is in.
 */
export function gatewayConfigFor(
  layout: DeviceModeLayout,
  opts: {
    countyUrl: string;
    lanPort: number;
    modbus?: { host: string; port: number };
    cameras?: CameraEndpoints;
    dataDir: string;
  },
): Record<string, unknown> {
  const devices = simulatedDevices(layout, opts.cameras !== undefined).map((d) => ({
    id: d.id,
    kind: d.kind,
    ...(d.medium ? { medium: d.medium } : {}),
    zone: locationZone(d.location),
  }));
  const registers = [...layout.modbusUnits].flatMap(([device, unitId]) => [
    { device, unitId, address: PRESSURE_REGISTER, scale: PRESSURE_SCALE, field: 'pressure' },
    { device, unitId, address: TEMPERATURE_REGISTER, format: 'int16', scale: TEMPERATURE_SCALE, field: 'temperature' },
  ]);
  const cameras = opts.cameras;
  const discovery = cameras?.discovery;
  const cameraEntries = cameras
    ? layoutCameras(layout).map((d, i) => ({
        device: d.id,
        ...(discovery ? { endpoint: discovery.endpoint(d.id) } : { url: cameras.url(d.id, i) }),
        username: cameras.username,
        password: cameras.password,
        covers: cameraCoverageZones(d),
      }))
    : [];
  return {
    gateway: { county: layout.county, institution: layout.institution.id, id: layout.gateway.id },
    county: {
      url: opts.countyUrl,
      ...(layout.gateway.secret ? { password: layout.gateway.secret } : { passwordFile: 'secret' }),
    },
    dataDir: opts.dataDir,
    devices,
    adapters: [
      { type: 'lan-mqtt', host: '127.0.0.1', port: opts.lanPort },
      ...(opts.modbus && registers.length > 0
        ? [{ type: 'modbus-tcp', host: opts.modbus.host, port: opts.modbus.port, pollMs: 10_000, registers }]
        : []),
      ...(cameraEntries.length > 0
        ? [
            {
              type: 'camera',
              name: 'cameras',
              cameras: cameraEntries,
              ...(discovery
                ? {
                    discovery: {
                      enabled: true,
                      interface: discovery.interface,
                      ...(discovery.port ? { port: discovery.port } : {}),
                    },
                  }
                : {}),
            },
          ]
        : []),
    ],
  };
}
