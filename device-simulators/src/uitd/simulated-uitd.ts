import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import {
  type AnalogValue,
  Command,
  type ComponentStatus,
  type ComponentStatusFlags,
  commandRole,
  componentStatusWord,
  DataType,
  type DataUnit,
  type Dialect,
  decodeDataUnit,
  dialectOf,
  encodeDataUnit,
  encodeFrame,
  type Frame,
  FrameDecoder,
  replyCommand,
  type SystemStatusFlags,
  systemStatusWord,
  type TimeLabel,
  timeLabelFromEpochMs,
  type UitdOperationFlags,
  type UitdStatusFlags,
  uitdOperationByte,
  uitdStatusByte,
} from '@anlian/gb26875';
import { type Logger, pino } from 'pino';

export interface SimulatedUitdOptions {
  /** The monitoring centre: the gateway's fire-panel adapter. */
  host: string;
  port: number;
  /** This UITD's address (the source of its frames). */
  address: number;
  centreAddress?: number;
  dialect?: Partial<Dialect>;
  /** An empty `send` this often (GB/T 26875.3 practice: 20–30 s). 0: none. */
  heartbeatMs?: number;
  /** §6.5: wait this long for a confirm, resend this many times. */
  replyTimeoutMs?: number;
  retries?: number;
  utcOffsetMinutes?: number;
  /**
   * What the fire control room does when the centre checks on it (查岗): answer after `afterMs`
   * (pressing the answer key), or nobody is there.
   */
  dutyCheck?: { answer: true; afterMs: number; operator?: number } | { answer: false };
  /** Reconnect after the link drops; default true. */
  reconnectMs?: number | false;
  /** Device time, ms; default the system clock. */
  now?: () => number;
  logger?: Logger;
}

/** What became of a frame the UITD sent. */
export type SendOutcome = 'confirmed' | 'denied' | 'unanswered';

export interface SimulatedUitdEvents {
  connected: [];
  disconnected: [];
  /** The centre asked for a duty check with this answer window. */
  'duty-check': [answerMinutes: number];
  'clock-sync': [time: TimeLabel];
  /** The centre denied a frame (its serial). */
  denied: [serial: number];
}

export interface SimulatedUitdStats {
  sent: number;
  confirmed: number;
  denied: number;
  resends: number;
  dutyChecks: number;
  dutyAnswers: number;
}

/** One component event as a panel reports it. */
export interface ComponentReport {
  systemType?: number;
  systemAddress?: number;
  componentType: number;
  loop: number;
  point: number;
  status: Partial<ComponentStatusFlags>;
  description?: string;
  at?: number;
}

/**
 * A simulated user information transmission device (用户信息传输装置): connects over TCP to its
 * monitoring centre — here the gateway's fire-panel adapter — and speaks GB/T 26875.3-2011: its
 * panel's component and system status, analog values, its own status and operations, heartbeats;
 * every frame resent with the same serial until confirmed (§6.5); it confirms the centre's clock
 * sync and duty checks, and answers a duty check (or does not) as configured.
 */
export class SimulatedUitd extends EventEmitter<SimulatedUitdEvents> {
  readonly #o: SimulatedUitdOptions;
  readonly #dialect: Dialect;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #pending = new Map<number, (outcome: 'confirmed' | 'denied') => void>();
  readonly stats: SimulatedUitdStats = { sent: 0, confirmed: 0, denied: 0, resends: 0, dutyChecks: 0, dutyAnswers: 0 };
  #socket: Socket | undefined;
  #decoder: FrameDecoder;
  #serial = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #reconnect: NodeJS.Timeout | undefined;
  #timers = new Set<NodeJS.Timeout>();
  #running = false;

  constructor(opts: SimulatedUitdOptions) {
    super();
    this.#o = opts;
    this.#dialect = dialectOf(opts.dialect);
    this.#decoder = new FrameDecoder({ dialect: this.#dialect });
    this.#log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'uitd', address: opts.address });
    this.#now = opts.now ?? Date.now;
  }

  get connected(): boolean {
    return this.#socket !== undefined && !this.#socket.destroyed && this.#socket.readyState === 'open';
  }

  /** Connects (and keeps reconnecting until stopped); resolves on the first connection. */
  start(): Promise<void> {
    this.#running = true;
    return new Promise((resolve) => {
      this.once('connected', () => resolve());
      this.#connect();
    });
  }

  async stop(): Promise<void> {
    this.#running = false;
    clearTimeout(this.#reconnect);
    clearInterval(this.#heartbeat);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const s = this.#socket;
    this.#socket = undefined;
    if (s && !s.destroyed) await new Promise<void>((resolve) => s.end(() => resolve()));
    s?.destroy();
  }

  /** Drops the TCP connection as a power cut or a cut cable would (no FIN handshake wait). */
  cut(): void {
    this.#socket?.destroy();
  }

  /** Component status (type 2): fire, fault, disabled, supervisory … with the panel's description. */
  component(report: ComponentReport | ComponentReport[]): Promise<SendOutcome> {
    const list = Array.isArray(report) ? report : [report];
    const objects: ComponentStatus[] = list.map((r) => ({
      systemType: r.systemType ?? 1,
      systemAddress: r.systemAddress ?? 1,
      componentType: r.componentType,
      componentAddress: ((r.point & 0xffff) << 16) | (r.loop & 0xffff),
      status: componentStatusWord(r.status),
      description: r.description ?? '',
      time: this.#time(r.at),
    }));
    return this.send({ type: DataType.componentStatus, objects });
  }

  /** Analog values (type 3): `raw` int16 in the analog type's unit (table 6) or a vendor's. */
  analog(
    values: (Omit<AnalogValue, 'time' | 'componentAddress' | 'systemType' | 'systemAddress'> & {
      loop: number;
      point: number;
      systemAddress?: number;
    })[],
  ): Promise<SendOutcome> {
    const objects: AnalogValue[] = values.map((v) => ({
      systemType: 1,
      systemAddress: v.systemAddress ?? 1,
      componentType: v.componentType,
      componentAddress: ((v.point & 0xffff) << 16) | (v.loop & 0xffff),
      analogType: v.analogType,
      raw: v.raw,
      time: this.#time(),
    }));
    return this.send({ type: DataType.analogValue, objects });
  }

  /** The panel's system status (type 1). */
  system(status: Partial<SystemStatusFlags>, systemAddress = 1): Promise<SendOutcome> {
    return this.send({
      type: DataType.systemStatus,
      objects: [{ systemType: 1, systemAddress, status: systemStatusWord(status), time: this.#time() }],
    });
  }

  /** The UITD's own status (type 21): power faults, link faults. */
  uitdStatus(status: Partial<UitdStatusFlags>): Promise<SendOutcome> {
    return this.send({ type: DataType.uitdStatus, objects: [{ status: uitdStatusByte(status), time: this.#time() }] });
  }

  /** The UITD's operations (type 24): the duty-check answer key, manual alarm, reset … */
  operation(flags: Partial<UitdOperationFlags>, operator = 1): Promise<SendOutcome> {
    return this.send({
      type: DataType.uitdOperation,
      objects: [{ operation: uitdOperationByte(flags), operator, time: this.#time() }],
    });
  }

  /** Somebody in the fire control room presses the duty-check answer key. */
  answerDutyCheck(operator = 1): Promise<SendOutcome> {
    this.stats.dutyAnswers++;
    return this.operation({ dutyCheckAnswer: true }, operator);
  }

  /** A data unit in a `send` frame, resent until confirmed (or denied, or out of tries). */
  async send(unit: DataUnit | undefined): Promise<SendOutcome> {
    const serial = this.#nextSerial();
    const data = unit ? encodeDataUnit(unit, this.#dialect) : new Uint8Array(0);
    const bytes = this.frameBytes({ serial, command: Command.send, data });
    return this.#deliver(serial, bytes);
  }

  /** A frame's bytes as this UITD would send them (tests corrupt them and `sendRaw` them). */
  frameBytes(f: { serial: number; command: number; data: Uint8Array }): Buffer {
    return encodeFrame(
      {
        serial: f.serial,
        version: { main: 1, user: this.#dialect.userVersion },
        time: this.#time(),
        source: this.#o.address,
        destination: this.#o.centreAddress ?? 0,
        command: f.command,
        data: f.data,
      },
      this.#dialect,
    );
  }

  /** Writes bytes as they are (garbage, a corrupted frame). */
  sendRaw(bytes: Uint8Array): void {
    this.#socket?.write(bytes);
  }

  /** The next serial this UITD will use. */
  nextSerial(): number {
    return this.#serial;
  }

  #nextSerial(): number {
    const s = this.#serial;
    this.#serial = (this.#serial + 1) & 0xffff;
    return s;
  }

  async #deliver(serial: number, bytes: Buffer): Promise<SendOutcome> {
    const tries = (this.#o.retries ?? 3) + 1;
    const timeoutMs = this.#o.replyTimeoutMs ?? 10_000;
    this.stats.sent++;
    for (let i = 0; i < tries; i++) {
      if (i > 0) this.stats.resends++;
      const answered = new Promise<'confirmed' | 'denied'>((resolve) => this.#pending.set(serial, resolve));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'unanswered'>((resolve) => {
        timer = setTimeout(() => resolve('unanswered'), timeoutMs);
      });
      this.#socket?.write(bytes);
      const outcome = await Promise.race([answered, timeout]);
      clearTimeout(timer);
      this.#pending.delete(serial);
      if (outcome === 'confirmed') {
        this.stats.confirmed++;
        return outcome;
      }
      if (outcome === 'denied') this.stats.denied++;
      if (!this.#running) break;
    }
    this.#log.warn({ serial }, 'frame not confirmed after every try');
    return 'unanswered';
  }

  #time(at?: number): TimeLabel {
    return timeLabelFromEpochMs(at ?? this.#now(), this.#o.utcOffsetMinutes ?? 480);
  }

  #connect(): void {
    if (!this.#running) return;
    const socket = connect({ host: this.#o.host, port: this.#o.port });
    this.#socket = socket;
    this.#decoder = new FrameDecoder({ dialect: this.#dialect });
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.#log.info({ host: this.#o.host, port: this.#o.port }, 'UITD connected to its centre');
      const every = this.#o.heartbeatMs ?? 25_000;
      clearInterval(this.#heartbeat);
      if (every > 0) this.#heartbeat = setInterval(() => void this.send(undefined), every);
      // The first frame tells the centre who we are.
      void this.send(undefined);
      this.emit('connected');
    });
    socket.on('data', (chunk: Buffer) => {
      for (const e of this.#decoder.push(chunk)) {
        if (e.type === 'frame') this.#onFrame(e.frame);
      }
    });
    socket.on('error', (err) => this.#log.debug({ err: err.message }, 'UITD socket error'));
    socket.on('close', () => {
      clearInterval(this.#heartbeat);
      if (this.#socket === socket) this.#socket = undefined;
      this.emit('disconnected');
      const again = this.#o.reconnectMs ?? 1000;
      if (this.#running && again !== false) this.#reconnect = setTimeout(() => this.#connect(), again);
    });
  }

  #onFrame(frame: Frame): void {
    const role = commandRole(frame.command, this.#dialect);
    if (role === 'confirm' || role === 'deny') {
      if (role === 'deny') this.emit('denied', frame.serial);
      this.#pending.get(frame.serial)?.(role === 'confirm' ? 'confirmed' : 'denied');
      return;
    }
    if (role !== 'control' && role !== 'request') return;
    const unit = decodeDataUnit(frame.data, this.#dialect);
    if (!unit.ok) {
      this.#answer(frame.serial, Command.deny, undefined);
      return;
    }
    const u = unit.unit;
    if (role === 'request') {
      // 81: read the UITD's status — answer with type 21.
      const reply: DataUnit | undefined =
        u.type === DataType.readUitdStatus
          ? { type: DataType.uitdStatus, objects: [{ status: uitdStatusByte({}), time: this.#time() }] }
          : undefined;
      this.#answer(frame.serial, reply ? replyCommand(frame.command, this.#dialect) : Command.deny, reply);
      return;
    }
    this.#answer(frame.serial, replyCommand(frame.command, this.#dialect), undefined);
    if ('raw' in u) return;
    if (u.type === DataType.syncClock) this.emit('clock-sync', u.time);
    if (u.type === DataType.dutyCheck) {
      this.stats.dutyChecks++;
      this.emit('duty-check', u.answerMinutes);
      const policy = this.#o.dutyCheck ?? { answer: true, afterMs: 1000 };
      if (policy.answer) {
        const t = setTimeout(() => {
          this.#timers.delete(t);
          void this.answerDutyCheck(policy.operator ?? 1);
        }, policy.afterMs);
        this.#timers.add(t);
      }
    }
  }

  #answer(serial: number, command: number, unit: DataUnit | undefined): void {
    const data = unit ? encodeDataUnit(unit, this.#dialect) : new Uint8Array(0);
    this.#socket?.write(this.frameBytes({ serial, command, data }));
  }
}
