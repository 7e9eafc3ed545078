import ModbusSerial from 'modbus-serial';
import type { Logger } from 'pino';
import type { ModbusRegister, ModbusTcpAdapterConfig } from '../config/gateway-config.js';
import type { AdapterDeps, DeviceAdapter } from './device-adapter.js';

// modbus-serial is CommonJS whose typings say `export default`: under NodeNext the default import
// is `module.exports`, and the class is also `module.exports.default` (index.js sets it).
const ModbusRTU = ModbusSerial.default;
type ModbusClient = InstanceType<typeof ModbusRTU>;

interface PolledDevice {
  id: string;
  registers: ModbusRegister[];
  failures: number;
  /** A `fault` event was sent and no `restore` yet. */
  faulted: boolean;
}

/** Decodes one value from its registers (32-bit values: high word first, the common default). */
export function decodeRegisters(format: ModbusRegister['format'], words: readonly number[]): number {
  const buf = Buffer.alloc(4);
  buf.writeUInt16BE(words[0] ?? 0, 0);
  buf.writeUInt16BE(words[1] ?? 0, 2);
  switch (format) {
    case 'uint16':
      return buf.readUInt16BE(0);
    case 'int16':
      return buf.readInt16BE(0);
    case 'uint32':
      return buf.readUInt32BE(0);
    case 'int32':
      return buf.readInt32BE(0);
    case 'float32':
      return buf.readFloatBE(0);
    default: {
      const never: never = format;
      throw new Error(`unknown register format ${String(never)}`);
    }
  }
}

const wordsOf = (format: ModbusRegister['format']) => (format === 'uint16' || format === 'int16' ? 1 : 2);
/** Keeps readings tidy: transmitters report more digits than they resolve. */
const round = (v: number) => Math.round(v * 10_000) / 10_000;

/**
 * Polls pressure and temperature transmitters over Modbus TCP (modbus-serial): one request at a
 * time (many Modbus gateways serve one), every register of a device per poll, one telemetry
 * message per device per poll. A device that fails `faultAfter` polls in a row raises a `fault`
 * event, and a `restore` when it answers again; a dropped connection is reopened on the next poll.
 */
export class ModbusTcpAdapter implements DeviceAdapter {
  readonly name: string;
  readonly #c: ModbusTcpAdapterConfig;
  readonly #d: AdapterDeps;
  readonly #log: Logger;
  readonly #devices: PolledDevice[];
  #client: ModbusClient | undefined;
  #cancel: (() => void) | undefined;
  #polling: Promise<void> | undefined;
  #running = false;
  #lastError: string | undefined;
  #polls = 0;

  constructor(config: ModbusTcpAdapterConfig, deps: AdapterDeps) {
    this.name = config.name;
    this.#c = config;
    this.#d = deps;
    this.#log = deps.logger.child({ module: 'modbus', adapter: config.name });
    const byDevice = new Map<string, ModbusRegister[]>();
    for (const r of config.registers) byDevice.set(r.device, [...(byDevice.get(r.device) ?? []), r]);
    this.#devices = [...byDevice].map(([id, registers]) => ({ id, registers, failures: 0, faulted: false }));
  }

  async start(): Promise<void> {
    this.#running = true;
    this.#schedule(0);
    this.#log.info(
      { host: this.#c.host, port: this.#c.port, devices: this.#devices.length, pollMs: this.#c.pollMs },
      'Modbus polling started',
    );
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#cancel?.();
    this.#cancel = undefined;
    await this.#polling;
    this.#disconnect();
  }

  /** One poll of every device now (tests; also what the timer runs). */
  async pollOnce(): Promise<void> {
    if (this.#polling) return this.#polling;
    this.#polling = this.#poll().finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  health(): { name: string; ok: boolean; detail?: string } {
    const failing = this.#devices.filter((d) => d.failures > 0).map((d) => d.id);
    const ok = this.#client?.isOpen === true && failing.length === 0 && this.#polls > 0;
    const detail = ok
      ? `${this.#devices.length} transmitters at ${this.#c.host}:${this.#c.port}`
      : `${this.#lastError ?? 'not polled yet'}${failing.length ? `; not answering: ${failing.join(', ')}` : ''}`;
    return { name: this.name, ok, detail: detail.slice(0, 500) };
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#cancel = this.#d.clock.setTimeout(() => {
      void this.pollOnce().finally(() => this.#schedule(this.#c.pollMs));
    }, ms);
  }

  async #connect(): Promise<ModbusClient> {
    if (this.#client?.isOpen) return this.#client;
    this.#disconnect();
    const client = new ModbusRTU();
    client.setTimeout(this.#c.timeoutMs);
    this.#client = client;
    await client.connectTCP(this.#c.host, { port: this.#c.port, timeout: this.#c.timeoutMs });
    this.#log.info({ host: this.#c.host, port: this.#c.port }, 'Modbus TCP connected');
    return client;
  }

  #disconnect(): void {
    const client = this.#client;
    this.#client = undefined;
    if (client?.isOpen) client.close(() => {});
  }

  async #poll(): Promise<void> {
    this.#polls++;
    let client: ModbusClient;
    try {
      client = await this.#connect();
    } catch (err) {
      this.#lastError = `connect ${this.#c.host}:${this.#c.port}: ${(err as Error).message}`;
      this.#log.warn({ err: (err as Error).message }, 'Modbus TCP connect failed');
      this.#disconnect();
      for (const d of this.#devices) this.#failed(d, this.#lastError);
      return;
    }
    for (const d of this.#devices) {
      if (!this.#running && this.#polls > 1) return;
      const fields: Record<string, number> = {};
      try {
        for (const r of d.registers) {
          client.setID(r.unitId ?? this.#c.unitId);
          const n = wordsOf(r.format);
          const res =
            r.table === 'holding'
              ? await client.readHoldingRegisters(r.address, n)
              : await client.readInputRegisters(r.address, n);
          fields[r.field] = round(decodeRegisters(r.format, res.data) * r.scale + r.offset);
        }
      } catch (err) {
        this.#lastError = `${d.id}: ${(err as Error).message}`;
        this.#failed(d, this.#lastError);
        if (!client.isOpen) return;
        continue;
      }
      this.#lastError = undefined;
      if (d.faulted) this.#submitEvent(d, 'restore', 'transmitter answers again');
      d.failures = 0;
      d.faulted = false;
      const outcome = this.#d.sink.submit({ device: d.id, message: 'telemetry', fields });
      if (!outcome.ok)
        this.#log.warn({ device: d.id, reason: outcome.reason, detail: outcome.detail }, 'Modbus reading refused');
    }
  }

  #failed(d: PolledDevice, detail: string): void {
    d.failures++;
    if (d.failures === this.#c.faultAfter && !d.faulted) {
      d.faulted = true;
      this.#submitEvent(d, 'fault', `no answer for ${d.failures} polls: ${detail}`);
    }
  }

  #submitEvent(d: PolledDevice, event: 'fault' | 'restore', detail: string): void {
    const outcome = this.#d.sink.submit({
      device: d.id,
      message: 'event',
      fields: { event, detail: detail.slice(0, 500) },
    });
    if (!outcome.ok) this.#log.warn({ device: d.id, event, reason: outcome.reason }, 'Modbus event refused');
    else this.#log.warn({ device: d.id, event, detail }, `transmitter ${event}`);
  }
}
