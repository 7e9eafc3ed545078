import type { CountyConfig } from '@anlian/protocol';
import { connectAsync, type MqttClient } from 'mqtt';
import { type Logger, pino } from 'pino';
import { MessageGenerator } from '../generator/message-generator.js';
import type { SimPublish } from '../generator/sim-step.js';
import type { LoadedScenario } from '../scenario/load-scenario.js';
import {
  type DeviceModeLayout,
  deviceModeLayout,
  lanTopic,
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
  #client: MqttClient | undefined;
  #generator: MessageGenerator | undefined;
  #timer: NodeJS.Timeout | undefined;
  #t0 = 0;
  #resolveDone: (() => void) | undefined;
  readonly done: Promise<void>;
  readonly #stats: DeviceModeStats = {
    lanPublished: 0,
    lanAcked: 0,
    lanFailed: 0,
    modbusUpdates: 0,
    modbusRequests: 0,
  };

  constructor(opts: DeviceModeOptions) {
    this.#o = opts;
    this.#log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'device-mode' });
    this.#now = opts.now ?? Date.now;
    this.layout = deviceModeLayout(opts.county, opts.gateway, opts.modbus !== undefined);
    this.#modbus = opts.modbus ? new ModbusRegisterServer(opts.modbus) : undefined;
    this.done = new Promise<void>((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** Where the Modbus transmitters listen, once started. */
  get modbusPort(): number | undefined {
    return this.#modbus?.port;
  }

  stats(): DeviceModeStats {
    return { ...this.#stats, modbusRequests: this.#modbus?.requests ?? 0 };
  }

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
    this.#client = await connectAsync(this.#o.lanUrl, {
      clientId: `sim-sensors-${gateway.id}`.slice(0, 64),
      ...(this.#o.lanUsername ? { username: this.#o.lanUsername } : {}),
      ...(this.#o.lanPassword ? { password: this.#o.lanPassword } : {}),
      reconnectPeriod: 1000,
      protocolVersion: 4,
    });
    this.#log.info(
      {
        gateway: gateway.id,
        lan: this.#o.lanUrl,
        devices: simulatedDevices(this.layout).length,
        modbusPort: this.modbusPort,
      },
      'device mode started',
    );
    this.#t0 = this.#now();
    this.#tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const client = this.#client;
    this.#client = undefined;
    await client?.endAsync();
    await this.#modbus?.stop();
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
    }
    if (end !== undefined && now >= end) {
      void this.stop();
      return;
    }
    this.#timer = setTimeout(() => this.#tick(), TICK_MS);
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
