import type { CountyConfig } from '@anlian/protocol';
import { connect, type MqttClient } from 'mqtt';
import { type Logger, pino } from 'pino';
import {
  DEFAULT_CAMERA_PASSWORD,
  DEFAULT_CAMERA_USERNAME,
  SimulatedCameraFleet,
} from '../camera/simulated-camera-fleet.js';
import { MessageGenerator } from '../generator/message-generator.js';
import type { SimFaultMark, SimPublish } from '../generator/sim-step.js';
import type { LoadedScenario } from '../scenario/load-scenario.js';
import {
  type CameraEndpoints,
  type DeviceModeLayout,
  deviceModeLayout,
  lanTopic,
  layoutCameras,
  PRESSURE_REGISTER,
  PRESSURE_SCALE,
  simulatedDevices,
  TEMPERATURE_REGISTER,
  TEMPERATURE_SCALE,
} from './device-mode-layout.js';
import { ModbusRegisterServer } from './modbus-register-server.js';

export interface DeviceModeOptions {
  county: CountyConfig;
  /** Which gateway's devices to simulate; default the county's first gateway. */
  gateway?: string;
  /** The gateway's LAN broker, e.g. `mqtt://127.0.0.1:1884`. */
  lanUrl: string;
  lanUsername?: string;
  lanPassword?: string;
  /** Serve the extinguisher gauges as Modbus TCP transmitters here (port 0: any free port). */
  modbus?: { host: string; port: number };
  /**
   * Simulate the gateway's cameras as ONVIF cameras with RTSP streams: camera `i` answers ONVIF
   * at `host:(port + i)` (port 0: any free ports), credentials default admin / the demo password.
   * A scenario's camera faults change what they show.
   */
  cameras?: {
    host: string;
    port: number;
    username?: string;
    password?: string;
    /** Answer WS-Discovery Probes (port 3702 is the standard; with `multicast`, on 239.255.255.250 too). */
    discovery?: { port: number; multicast?: boolean };
  };
  seed?: number;
  speed?: number;
  startMs: number;
  scenario?: LoadedScenario;
  /** Simulated time to run; default until stopped. */
  durationMs?: number;
  logger?: Logger;
  /** The real clock, ms. */
  now?: () => number;
}

export interface DeviceModeStats {
  lanPublished: number;
  lanAcked: number;
  lanFailed: number;
  modbusUpdates: number;
  modbusRequests: number;
  /** Simulated cameras, and camera fault changes applied from the scenario. */
  cameras: number;
  cameraFaults: number;
}

const TICK_MS = 100;

/**
 * `anlian sim --device-mode`: the devices of one gateway, talking to a real gateway over the
 * local protocols instead of publishing to the county as a gateway. The same generator (signals,
 * scenario faults, drills) decides what each device reports; sensors publish their reading —
 * without the envelope the gateway adds (`v`, `seq`, `kind`), with their own `ts` — on the
 * gateway's LAN broker, and extinguisher gauges become Modbus registers the gateway polls.
 */
export class DeviceModeSimulator {
  readonly layout: DeviceModeLayout;
  readonly #o: DeviceModeOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #modbus: ModbusRegisterServer | undefined;
  readonly #cameras: SimulatedCameraFleet | undefined;
  #cameraFaults = 0;
  #client: MqttClient | undefined;
  #generator: MessageGenerator | undefined;
  #timer: NodeJS.Timeout | undefined;
  #t0 = 0;
  #resolveDone: (() => void) | undefined;
  readonly done: Promise<void>;
  readonly #stats: Omit<DeviceModeStats, 'modbusRequests' | 'cameras' | 'cameraFaults'> = {
    lanPublished: 0,
    lanAcked: 0,
    lanFailed: 0,
    modbusUpdates: 0,
  };

  constructor(opts: DeviceModeOptions) {
    this.#o = opts;
    this.#log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'device-mode' });
    this.#now = opts.now ?? Date.now;
    this.layout = deviceModeLayout(opts.county, opts.gateway, opts.modbus !== undefined);
    this.#modbus = opts.modbus ? new ModbusRegisterServer(opts.modbus) : undefined;
    const cams = opts.cameras;
    this.#cameras = cams
      ? new SimulatedCameraFleet({
          host: cams.host,
          cameras: layoutCameras(this.layout).map((d, i) => ({ id: d.id, port: cams.port ? cams.port + i : 0 })),
          username: cams.username ?? DEFAULT_CAMERA_USERNAME,
          password: cams.password ?? DEFAULT_CAMERA_PASSWORD,
          ...(cams.discovery ? { discovery: cams.discovery } : {}),
        })
      : undefined;
    this.done = new Promise<void>((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** Where the Modbus transmitters listen, once started. */
  get modbusPort(): number | undefined {
    return this.#modbus?.port;
  }

  /** The simulated cameras, once started (tests set faults on them directly). */
  get cameraFleet(): SimulatedCameraFleet | undefined {
    return this.#cameras;
  }

  /** Where the gateway finds the simulated cameras, once started: for `gatewayConfigFor`. */
  cameraEndpoints(): CameraEndpoints | undefined {
    const fleet = this.#cameras;
    const o = this.#o.cameras;
    if (!fleet || !o) return undefined;
    return {
      url: (device) => fleet.camera(device).deviceServiceUrl,
      username: o.username ?? DEFAULT_CAMERA_USERNAME,
      password: o.password ?? DEFAULT_CAMERA_PASSWORD,
    };
  }

  stats(): DeviceModeStats {
    return {
      ...this.#stats,
      modbusRequests: this.#modbus?.requests ?? 0,
      cameras: this.#cameras?.cameras().length ?? 0,
      cameraFaults: this.#cameraFaults,
    };
  }

  /**
   * Starts the simulated devices: once it resolves the Modbus transmitters and cameras serve; the
   * sensors' readings wait in the LAN client until the gateway's broker answers.
   */
  async start(): Promise<void> {
    const { institution, gateway } = this.layout;
    // The generator over just this gateway: its devices, signals and the scenario's faults on them.
    const county: CountyConfig = { ...this.#o.county, institutions: [{ ...institution, gateways: [gateway] }] };
    this.#generator = new MessageGenerator({
      county,
      startMs: this.#o.startMs,
      ...(this.#o.seed === undefined ? {} : { seed: this.#o.seed }),
      ...(this.#o.scenario ? { scenario: this.#o.scenario } : {}),
    });
    await this.#modbus?.start();
    await this.#cameras?.start();
    const client = connect(this.#o.lanUrl, {
      clientId: `sim-sensors-${gateway.id}`.slice(0, 64),
      ...(this.#o.lanUsername ? { username: this.#o.lanUsername } : {}),
      ...(this.#o.lanPassword ? { password: this.#o.lanPassword } : {}),
      reconnectPeriod: 1000,
      protocolVersion: 4,
    });
    // Kept at once, so that `stop` ends it even while it is still trying to reach the gateway.
    // The simulated devices live from now on whether or not the gateway is up yet (a gateway may
    // start after its devices): readings wait in the client, the cameras serve.
    this.#client = client;
    client.on('error', (err) => this.#log.debug({ err: err.message }, 'LAN connection error'));
    this.#t0 = this.#now();
    this.#tick();
    client.once('connect', () => this.#log.info({ lan: this.#o.lanUrl }, 'connected to the gateway’s LAN broker'));
    this.#log.info(
      {
        gateway: gateway.id,
        lan: this.#o.lanUrl,
        devices: simulatedDevices(this.layout, this.#cameras !== undefined).length,
        modbusPort: this.modbusPort,
        cameras: this.#cameras?.cameras().map((c) => ({ device: c.id, onvif: c.deviceServiceUrl })),
      },
      'device mode started',
    );
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    // Forced when the gateway was never reached: a graceful end would wait for the readings queued
    // for it forever.
    await client?.endAsync(!client.connected);
    await this.#modbus?.stop();
    await this.#cameras?.stop();
    this.#resolveDone?.();
  }

  /** Simulated now. */
  simNow(): number {
    return this.#o.startMs + (this.#now() - this.#t0) * (this.#o.speed ?? 1);
  }

  #tick(): void {
    const gen = this.#generator;
    if (!gen) return;
    const now = this.simNow();
    const end = this.#o.durationMs === undefined ? undefined : this.#o.startMs + this.#o.durationMs;
    for (const step of gen.takeUntil(end === undefined ? now : Math.min(now, end))) {
      if (step.kind === 'publish') this.#deliver(step);
      else if (step.kind === 'fault') this.#cameraFault(step);
    }
    if (end !== undefined && now >= end) {
      void this.stop();
      return;
    }
    this.#timer = setTimeout(() => this.#tick(), TICK_MS);
  }

  /** A scenario's camera fault starts or ends: the simulated cameras show it (or stop showing it). */
  #cameraFault(step: SimFaultMark): void {
    const fleet = this.#cameras;
    const fault = this.#o.scenario?.faults[step.fault.index];
    if (!fleet || fault?.type !== 'camera') return;
    const look = step.fault.phase === 'start' ? fault.fault : 'none';
    for (const t of step.fault.targets) {
      if (t.device === undefined || t.gateway !== this.layout.gateway.id) continue;
      const device = t.device;
      this.#cameraFaults++;
      fleet.setFault(device, look).then(
        () => this.#log.info({ device, fault: look, scenario: step.fault.id }, 'simulated camera fault'),
        (err: unknown) => this.#log.warn({ device, err: (err as Error).message }, 'simulated camera fault not applied'),
      );
    }
  }

  #deliver(step: SimPublish): void {
    if ((step.type !== 'telemetry' && step.type !== 'event') || step.device === undefined) return;
    const device = step.device;
    const data = step.data as unknown as Record<string, unknown>;
    const unit = this.layout.modbusUnits.get(device);
    if (step.type === 'telemetry' && unit !== undefined && this.#modbus) {
      if (typeof data.pressure === 'number') this.#modbus.set(unit, PRESSURE_REGISTER, data.pressure / PRESSURE_SCALE);
      const t = typeof data.temperature === 'number' ? Math.round(data.temperature / TEMPERATURE_SCALE) : 200;
      this.#modbus.set(unit, TEMPERATURE_REGISTER, t < 0 ? 0x10000 + t : t);
      this.#stats.modbusUpdates++;
      return;
    }
    const client = this.#client;
    // Cameras are not LAN sensors: simulated, the gateway's camera adapter watches them itself.
    if (!client || data.kind === 'camera') return;
    // What a sensor sends: its reading and its time; the gateway adds v, seq and the kind.
    const { v: _v, seq: _seq, kind: _kind, ...body } = data;
    this.#stats.lanPublished++;
    client.publish(lanTopic(device, step.type), JSON.stringify(body), { qos: 1 }, (err) => {
      if (err) {
        this.#stats.lanFailed++;
        this.#log.warn({ device, err: err.message }, 'LAN publish failed');
      } else this.#stats.lanAcked++;
    });
  }
}
