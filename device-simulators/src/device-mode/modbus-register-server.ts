import { createServer, type Server, type Socket } from 'node:net';

/** Modbus exception codes (Modbus Application Protocol v1.1b3, §7). */
const ILLEGAL_FUNCTION = 0x01;
const ILLEGAL_DATA_ADDRESS = 0x02;
const TARGET_DEVICE_FAILED = 0x0b;
const READ_HOLDING = 0x03;
const READ_INPUT = 0x04;
const MBAP_BYTES = 7;

/**
 * Simulated transmitters behind one Modbus TCP endpoint (a Modbus gateway with units 1…247):
 * function codes 3 and 4 over a register map per unit. Just enough Modbus for the gateway's
 * adapter to poll real TCP frames; written here because the simulator does not depend on a
 * Modbus library.
 */
export class ModbusRegisterServer {
  readonly #host: string;
  readonly #requestedPort: number;
  /** `unit:address` → 16-bit value. */
  readonly #registers = new Map<string, number>();
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port: number | undefined;
  #requests = 0;

  constructor(opts: { host?: string; port: number }) {
    this.#host = opts.host ?? '127.0.0.1';
    this.#requestedPort = opts.port;
  }

  get port(): number | undefined {
    return this.#port;
  }

  get requests(): number {
    return this.#requests;
  }

  /** Sets a holding (and input) register of a unit; values are clamped to 16 bits. */
  set(unit: number, address: number, value: number): void {
    this.#registers.set(`${unit}:${address}`, Math.max(0, Math.min(0xffff, Math.round(value))) & 0xffff);
  }

  async start(): Promise<void> {
    const server = createServer((socket) => this.#serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#requestedPort, this.#host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    const a = server.address();
    this.#port = typeof a === 'object' && a ? a.port : this.#requestedPort;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #serve(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= MBAP_BYTES + 1) {
        const length = pending.readUInt16BE(4);
        if (pending.length < 6 + length) break;
        const frame = pending.subarray(0, 6 + length);
        pending = pending.subarray(6 + length);
        socket.write(this.#answer(frame));
      }
    });
  }

  #answer(frame: Buffer): Buffer {
    this.#requests++;
    const transaction = frame.readUInt16BE(0);
    const unit = frame.readUInt8(6);
    const fc = frame.readUInt8(7);
    const reply = (pdu: Buffer) => {
      const head = Buffer.alloc(MBAP_BYTES);
      head.writeUInt16BE(transaction, 0);
      head.writeUInt16BE(0, 2);
      head.writeUInt16BE(pdu.length + 1, 4);
      head.writeUInt8(unit, 6);
      return Buffer.concat([head, pdu]);
    };
    const exception = (code: number) => reply(Buffer.from([fc | 0x80, code]));
    if (fc !== READ_HOLDING && fc !== READ_INPUT) return exception(ILLEGAL_FUNCTION);
    if (frame.length < MBAP_BYTES + 5) return exception(ILLEGAL_DATA_ADDRESS);
    const start = frame.readUInt16BE(8);
    const count = frame.readUInt16BE(10);
    if (count < 1 || count > 125) return exception(ILLEGAL_DATA_ADDRESS);
    const words: number[] = [];
    for (let i = 0; i < count; i++) {
      const v = this.#registers.get(`${unit}:${start + i}`);
      // No such transmitter at this unit: what a Modbus gateway answers for a silent device.
      if (v === undefined)
        return exception(i === 0 && !this.#hasUnit(unit) ? TARGET_DEVICE_FAILED : ILLEGAL_DATA_ADDRESS);
      words.push(v);
    }
    const pdu = Buffer.alloc(2 + 2 * count);
    pdu.writeUInt8(fc, 0);
    pdu.writeUInt8(2 * count, 1);
    words.forEach((w, i) => {
      pdu.writeUInt16BE(w, 2 + 2 * i);
    });
    return reply(pdu);
  }

  #hasUnit(unit: number): boolean {
    const prefix = `${unit}:`;
    for (const key of this.#registers.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }
}
