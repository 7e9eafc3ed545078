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
 * holding register 0 (0.001 MPa) and temperature in register 1 (0.1 °C, signed); with a fire
 * panel, fire detectors and electrical circuits report through a simulated UITD (GB/T 26875.3).
 */
export interface DeviceModeLayout {
  county: string;
  institution: InstitutionConfig;
  gateway: GatewayConfig;
  /** Extinguisher device id → Modbus unit id (only with Modbus). */
  modbusUnits: Map<string, number>;
  /** With a fire panel: the UITD and where each of its devices sits on the panel. */
  panel?: PanelLayout;
}

/** A component on the fire alarm control panel: loop (回路) and point (号), as panels number them. */
export interface PanelPoint {
  loop: number;
  point: number;
  /** GB/T 26875.3 table 5: 42 smoke, 33 heat (A1R), 17 residual current (electrical). */
  componentType: number;
  /** The panel's description (部件说明, ≤ 31 bytes of GB 18030): building, floor, room. */
  description: string;
}

/**
 * The building's fire alarm control panel and its UITD (用户信息传输装置): the fire detectors and
 * the electrical fire monitoring detectors are wired to the panel, which reports them over
 * GB/T 26875.3 to the gateway's fire-panel adapter. The UITD reports as `device` — a fire device
 * in the duty room (值班室, where the panel stands), else the first — and every other panel device
 * is listed as a component, so it keeps its own identity at the county.
 */
export interface PanelLayout {
  /** The UITD's address (the source of its frames). */
  address: number;
  device: string;
  points: Map<string, PanelPoint>;
}

/** The simulated UITD's address: any 48-bit number; a label-like one. */
export const SIMULATED_UITD_ADDRESS = 100_001;
/** Panels number loops from 1; the electrical detectors here are on a loop of their own. */
const ELECTRICAL_LOOP = 20;
/**
 * A vendor's analog type for residual current in mA: table 6's current (type 9) counts 0.1 A,
 * too coarse for a natural leakage of 100–200 mA. The gateway is told its scale.
 */
export const RESIDUAL_CURRENT_MA_TYPE = 128;

function panelLayout(gateway: GatewayConfig): PanelLayout | undefined {
  const fire = gateway.devices.filter((d) => d.kind === 'fire');
  const own = fire.find((d) => /值班室|消防控制室/.test(d.location.room)) ?? fire[0];
  if (!own) return undefined;
  const points = new Map<string, PanelPoint>();
  const perLoop = new Map<number, number>();
  const description = (d: DeviceConfig) => `${d.location.building}${d.location.floor} ${d.location.room}`;
  for (const d of gateway.devices) {
    if (d.kind !== 'fire' && d.kind !== 'electrical') continue;
    // Fire detectors on one loop per floor (3F → loop 3); electrical detectors on their own.
    const loop = d.kind === 'electrical' ? ELECTRICAL_LOOP : Number.parseInt(d.location.floor, 10) || 1;
    const point = (perLoop.get(loop) ?? 0) + 1;
    perLoop.set(loop, point);
    const componentType = d.kind === 'electrical' ? 17 : /感温/.test(d.name) ? 33 : 42;
    points.set(d.id, { loop, point, componentType, description: description(d) });
  }
  return { address: SIMULATED_UITD_ADDRESS, device: own.id, points };
}

export const PRESSURE_REGISTER = 0;
export const TEMPERATURE_REGISTER = 1;
export const PRESSURE_SCALE = 0.001;
export const TEMPERATURE_SCALE = 0.1;

export function lanTopic(device: string, message: 'telemetry' | 'event'): string {
  return `sensors/${device}/${message}`;
}

/** Finds the gateway (default: the county's first), assigns Modbus units and places panel devices. */
export function deviceModeLayout(
  county: CountyConfig,
  gatewayId: string | undefined,
  modbus: boolean,
  firePanel = false,
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
      const panel = firePanel ? panelLayout(gateway) : undefined;
      if (firePanel && !panel) {
        throw new SimulatorError(
          SimErrorCode.BAD_ARGUMENT,
          `gateway ${gateway.id} has no fire device for a fire panel`,
        );
      }
      return { county: county.county.id, institution, gateway, modbusUnits, ...(panel ? { panel } : {}) };
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
    /** Where the gateway's fire-panel adapter listens (the simulated UITD connects there). */
    firePanel?: { host: string; port: number };
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
      ...(opts.firePanel && layout.panel ? [firePanelAdapter(layout.panel, opts.firePanel)] : []),
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

function firePanelAdapter(panel: PanelLayout, at: { host: string; port: number }): Record<string, unknown> {
  const components = [...panel.points]
    .filter(([device]) => device !== panel.device)
    .map(([device, p]) => ({ loop: p.loop, point: p.point, device }));
  return {
    type: 'gb26875',
    host: at.host,
    port: at.port,
    uitds: [{ address: panel.address, device: panel.device, components }],
    analog: [{ type: RESIDUAL_CURRENT_MA_TYPE, field: 'residualCurrent', scale: 1 }],
  };
}
