import type { Socket } from 'node:net';
import {
  Command,
  commandRole,
  type DataUnit,
  type Dialect,
  encodeDataUnit,
  encodeFrame,
  type Frame,
  FrameDecoder,
  replyCommand,
  timeLabelFromEpochMs,
} from '@anlian/gb26875';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';

/** What a session asks of the adapter. */
export interface SessionHandler {
  /** The first frame's source address: may this UITD talk to us? */
  admit(session: UitdSession, address: number): boolean;
  /**
   * A `send` (or an answer carrying data) from the UITD. Resolves `confirm` once what it carried
   * is safely queued, `deny` when it cannot be taken (the UITD resends), `none` for answers.
   */
  received(session: UitdSession, frame: Frame): Promise<'confirm' | 'deny' | 'none'>;
  closed(session: UitdSession, reason: string): void;
  /** A frame was denied (否认): counted in the adapter's health. */
  denied(session: UitdSession, serial: number, why: string): void;
}

export interface UitdSessionOptions {
  socket: Socket;
  dialect: Dialect;
  centreAddress: number;
  utcOffsetMinutes: number;
  linkTimeoutMs: number;
  replyTimeoutMs: number;
  retries: number;
  clock: Clock;
  logger: Logger;
  handler: SessionHandler;
}

export interface SessionStats {
  frames: number;
  denied: number;
  garbageBytes: number;
}

interface PendingRequest {
  resolve: (f: Frame) => void;
  reject: (e: Error) => void;
}

/**
 * One TCP connection from a UITD (GB/T 26875.3-2011 §6): frames in through the streaming decoder,
 * every `send` confirmed (or denied) with the serial it came with, the centre's own commands
 * (clock sync, duty check) sent with a serial of our own and resent until answered (§6.5: at most
 * `retries` times, `replyTimeoutMs` apart). A connection that sends nothing — not even the UITD's
 * heartbeat, an empty `send` every 20–30 s — for `linkTimeoutMs` is closed.
 */
export class UitdSession {
  readonly #o: UitdSessionOptions;
  readonly #log: Logger;
  readonly #decoder: FrameDecoder;
  readonly #pending = new Map<number, PendingRequest>();
  readonly stats: SessionStats = { frames: 0, denied: 0, garbageBytes: 0 };
  /** The UITD's address, once its first frame was admitted. */
  address: number | undefined;
  #serial = 0;
  #idle: (() => void) | undefined;
  #closed = false;
  /** Frames are handled one after another, so confirms leave in the order frames arrived. */
  #chain: Promise<void> = Promise.resolve();

  constructor(opts: UitdSessionOptions) {
    this.#o = opts;
    this.#log = opts.logger;
    this.#decoder = new FrameDecoder({ dialect: opts.dialect });
  }

  get remote(): string {
    return `${this.#o.socket.remoteAddress ?? '?'}:${this.#o.socket.remotePort ?? '?'}`;
  }

  get closed(): boolean {
    return this.#closed;
  }

  start(): void {
    const s = this.#o.socket;
    s.setNoDelay(true);
    s.setKeepAlive(true, 30_000);
    s.on('data', (chunk: Buffer) => this.#onData(chunk));
    s.on('error', (err) => this.#log.warn({ err: err.message, remote: this.remote }, 'UITD connection error'));
    s.on('close', () => this.#finish('connection closed'));
    this.#touch();
  }

  /** Closes the connection (a newer one from the same UITD, the adapter stopping). */
  close(reason: string): void {
    if (this.#closed) return;
    this.#log.info({ remote: this.remote, address: this.address, reason }, 'closing UITD connection');
    this.#o.socket.destroy();
    this.#finish(reason);
  }

  /**
   * Sends a command (control: clock sync, duty check) or a request and resolves with the UITD's
   * answer frame; resends on timeout or deny, rejects after the last try.
   */
  async request(command: number, unit: DataUnit): Promise<Frame> {
    const serial = this.#nextSerial();
    const bytes = this.#encode(serial, command, encodeDataUnit(unit, this.#o.dialect));
    let lastError = 'no answer';
    for (let attempt = 0; attempt <= this.#o.retries; attempt++) {
      if (this.#closed) throw new Error('the UITD connection closed');
      const answer = new Promise<Frame>((resolve, reject) => this.#pending.set(serial, { resolve, reject }));
      let cancel: () => void = () => {};
      const timeout = new Promise<undefined>((resolve) => {
        cancel = this.#o.clock.setTimeout(() => resolve(undefined), this.#o.replyTimeoutMs);
      });
      this.#o.socket.write(bytes);
      try {
        const frame = await Promise.race([answer, timeout]);
        if (frame === undefined) {
          lastError = `no answer within ${this.#o.replyTimeoutMs} ms`;
          continue;
        }
        if (commandRole(frame.command, this.#o.dialect) === 'deny') {
          lastError = 'denied';
          continue;
        }
        return frame;
      } finally {
        cancel();
        this.#pending.delete(serial);
      }
    }
    throw new Error(`type ${unit.type} to UITD ${this.address}: ${lastError} after ${this.#o.retries + 1} tries`);
  }

  #nextSerial(): number {
    const s = this.#serial;
    this.#serial = (this.#serial + 1) & 0xffff;
    return s;
  }

  #encode(serial: number, command: number, data: Uint8Array): Buffer {
    return encodeFrame(
      {
        serial,
        version: { main: 1, user: this.#o.dialect.userVersion },
        time: timeLabelFromEpochMs(this.#o.clock.now(), this.#o.utcOffsetMinutes),
        source: this.#o.centreAddress,
        destination: this.address ?? 0,
        command,
        data,
      },
      this.#o.dialect,
    );
  }

  #answer(serial: number, command: number): void {
    if (this.#closed) return;
    this.#o.socket.write(this.#encode(serial, command, new Uint8Array(0)));
  }

  #deny(serial: number, why: string): void {
    this.stats.denied++;
    this.#o.handler.denied(this, serial, why);
    this.#log.warn({ remote: this.remote, address: this.address, serial, why }, 'UITD frame denied');
    this.#answer(serial, Command.deny);
  }

  #touch(): void {
    this.#idle?.();
    this.#idle = this.#o.clock.setTimeout(
      () => this.close(`no frame for ${Math.round(this.#o.linkTimeoutMs / 1000)} s (heartbeat lost)`),
      this.#o.linkTimeoutMs,
    );
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) return;
    this.#touch();
    // A burst of bogus starts is answered with one deny per chunk, not one per "@@".
    let framingDenied = false;
    this.#decoder.decode(chunk, (e) => {
      switch (e.type) {
        case 'garbage':
          this.stats.garbageBytes += e.bytes;
          return;
        case 'error':
          if (e.reason === 'checksum' || !framingDenied) this.#deny(e.serial, `${e.reason}: ${e.detail}`);
          if (e.reason !== 'checksum') framingDenied = true;
          return;
        case 'frame':
          this.stats.frames++;
          this.#chain = this.#chain
            .then(() => this.#onFrame(e.frame))
            .catch((err: unknown) => {
              this.#log.error({ err, remote: this.remote }, 'UITD frame handling failed');
            });
          return;
        default: {
          const never: never = e;
          throw new Error(`unknown decoder event ${JSON.stringify(never)}`);
        }
      }
    });
  }

  async #onFrame(frame: Frame): Promise<void> {
    if (this.#closed) return;
    if (this.address === undefined) {
      if (!this.#o.handler.admit(this, frame.source)) {
        this.#deny(frame.serial, `UITD ${frame.source} is not on this adapter's list`);
        this.close(`UITD ${frame.source} is not allowed`);
        return;
      }
      this.address = frame.source;
    } else if (frame.source !== this.address) {
      this.#deny(frame.serial, `source ${frame.source} on the connection of UITD ${this.address}`);
      return;
    }
    const role = commandRole(frame.command, this.#o.dialect);
    switch (role) {
      case 'send': {
        const verdict = await this.#o.handler.received(this, frame);
        if (verdict === 'confirm') this.#answer(frame.serial, replyCommand(frame.command, this.#o.dialect));
        else if (verdict === 'deny') this.#deny(frame.serial, 'not taken');
        return;
      }
      case 'confirm':
      case 'response':
      case 'deny': {
        const p = this.#pending.get(frame.serial);
        if (role === 'response' && frame.data.length > 0) await this.#o.handler.received(this, frame);
        if (p) p.resolve(frame);
        else this.#log.debug({ serial: frame.serial, role }, 'answer to no pending request');
        return;
      }
      default:
        // Upstream, a UITD sends data; control and request are the centre's (§6.2–6.4).
        this.#deny(frame.serial, `command ${frame.command} is not one a UITD sends`);
    }
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#idle?.();
    this.#idle = undefined;
    for (const p of this.#pending.values()) p.reject(new Error(`the UITD connection closed: ${reason}`));
    this.#pending.clear();
    this.#decoder.reset();
    this.#o.handler.closed(this, reason);
  }
}
