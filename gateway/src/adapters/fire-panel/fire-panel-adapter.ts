import { createServer, type Server, type Socket } from 'node:net';
import {
  Command,
  commandRole,
  DataType,
  type Dialect,
  decodeDataUnit,
  dialectOf,
  type Frame,
  timeLabelFromEpochMs,
} from '@anlian/gb26875';
import type { Logger } from 'pino';
import { every } from '../../clock.js';
import type { Gb26875AdapterConfig, UitdEntry } from '../../config/fire-panel-config.js';
import type { AdapterDeps, DeviceAdapter } from '../device-adapter.js';
import type { DeviceReading } from '../device-reading.js';
import type { DutyCheckCapable, DutyCheckRequest, DutyCheckResult } from '../duty-check.js';
import { PanelReadings } from './panel-readings.js';
import { type SessionHandler, UitdSession } from './uitd-session.js';

/** Serials remembered per UITD to recognise a resend (§6.5: same serial) — and for how long. */
const RECENT_SERIALS = 512;
const SERIAL_MEMORY_MS = 10 * 60_000;

interface DutyCheckWaiter {
  resolve: (answer: { operator: number; at: number }) => void;
}

/** One configured UITD: its connection (if any), its panel's state, its link events. */
interface UitdLink {
  entry: UitdEntry;
  panel: PanelReadings;
  session: UitdSession | undefined;
  /** serial → when it was taken and the verdict it got (a resend gets the same). */
  recent: Map<number, { at: number; verdict: Promise<'confirm' | 'deny' | 'none'> }>;
  /** `offline` sent and no `restore` since. */
  offline: boolean;
  offlineTimer: (() => void) | undefined;
  dutyWaiters: Set<DutyCheckWaiter>;
  connects: number;
}

/**
 * The GB/T 26875.3-2011 fire-panel adapter: a TCP server that the institution's user information
 * transmission device (UITD, 用户信息传输装置) connects to as to its monitoring centre. Only the
 * listed UITD addresses are served. Their component, system and UITD status, operations and
 * analog values become the contract's events and telemetry (panel-readings.ts); each frame is
 * confirmed once what it carried is in the gateway's queue (events fsync'd), so a frame the
 * gateway could not keep is resent by the UITD; a resend (same serial) is confirmed again, not
 * queued twice. A lost link is an `offline` event of the UITD's device, its return a `restore`.
 * The county's duty check (查岗) goes out as type 91.
 */
export class FirePanelAdapter implements DeviceAdapter, DutyCheckCapable {
  readonly name: string;
  readonly #c: Gb26875AdapterConfig;
  readonly #d: AdapterDeps;
  readonly #log: Logger;
  readonly #dialect: Dialect;
  readonly #links = new Map<number, UitdLink>();
  readonly #sessions = new Set<UitdSession>();
  #server: Server | undefined;
  #stopLiveness: (() => void) | undefined;
  #running = false;
  #lastError: string | undefined;
  readonly #counts = { frames: 0, readings: 0, refused: 0, ignored: 0, resends: 0, denied: 0 };

  constructor(config: Gb26875AdapterConfig, deps: AdapterDeps) {
    this.name = config.name;
    this.#c = config;
    this.#d = deps;
    this.#log = deps.logger.child({ module: 'fire-panel', adapter: config.name });
    this.#dialect = dialectOf(config.dialect);
    for (const entry of config.uitds) {
      this.#links.set(entry.address, {
        entry,
        panel: new PanelReadings({
          uitd: entry,
          devices: deps.devices,
          utcOffsetMinutes: config.utcOffsetMinutes,
          analog: config.analog,
        }),
        session: undefined,
        recent: new Map(),
        offline: false,
        offlineTimer: undefined,
        dutyWaiters: new Set(),
        connects: 0,
      });
    }
  }

  /** The port the server listens on (useful with port 0). */
  get port(): number | undefined {
    const a = this.#server?.address();
    return a && typeof a === 'object' ? a.port : undefined;
  }

  async start(): Promise<void> {
    this.#running = true;
    const server = createServer((socket) => this.#accept(socket));
    server.maxConnections = this.#c.maxConnections;
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#c.port, this.#c.host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      this.#lastError = `listen ${this.#c.host}:${this.#c.port}: ${err.message}`;
      throw err;
    });
    server.on('error', (err) => {
      this.#lastError = err.message;
      this.#log.error({ err }, 'fire-panel server error');
    });
    // A UITD that does not come back after the gateway starts is as lost as one whose link dropped.
    for (const link of this.#links.values()) this.#armOffline(link, this.#c.linkTimeoutS * 1000);
    if (this.#c.livenessEveryS > 0) {
      this.#stopLiveness = every(this.#d.clock, this.#c.livenessEveryS * 1000, () => this.#liveness());
    }
    this.#log.info(
      { host: this.#c.host, port: this.port, uitds: [...this.#links.keys()] },
      'fire-panel (GB/T 26875.3) server listening',
    );
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#stopLiveness?.();
    this.#stopLiveness = undefined;
    for (const link of this.#links.values()) {
      link.offlineTimer?.();
      link.offlineTimer = undefined;
    }
    for (const s of [...this.#sessions]) s.close('the gateway adapter stops');
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  health(): { name: string; ok: boolean; detail?: string } {
    const down = [...this.#links.values()].filter((l) => !l.session).map((l) => l.entry.device);
    const ok = this.#server?.listening === true && down.length === 0;
    const c = this.#counts;
    const figures = `${c.frames} frames, ${c.readings} readings, ${c.denied} denied, ${c.resends} resends`;
    const detail = ok
      ? `${this.#links.size} UITD connected on :${this.port}; ${figures}`
      : `${this.#lastError ? `${this.#lastError}; ` : ''}${down.length ? `not connected: ${down.join(', ')}; ` : ''}${figures}`;
    return { name: this.name, ok, detail: detail.slice(0, 500) };
  }

  /** Puts a duty check (查岗, type 91) to each UITD and waits for somebody to answer it. */
  async dutyCheck(request: DutyCheckRequest): Promise<DutyCheckResult[]> {
    const links = [...this.#links.values()].filter((l) => !request.device || l.entry.device === request.device);
    return Promise.all(links.map((l) => this.#dutyCheck(l, request.answerWindowMs)));
  }

  async #dutyCheck(link: UitdLink, windowMs: number): Promise<DutyCheckResult> {
    const clock = this.#d.clock;
    const askedAt = clock.now();
    const device = link.entry.device;
    const session = link.session;
    if (!session) return { device, delivered: false, answered: false, askedAt, detail: '用户信息传输装置未连接' };
    let cancel: () => void = () => {};
    const waiter: DutyCheckWaiter = { resolve: () => {} };
    const answered = new Promise<{ operator: number; at: number } | undefined>((resolve) => {
      waiter.resolve = resolve;
      cancel = clock.setTimeout(() => resolve(undefined), windowMs);
    });
    link.dutyWaiters.add(waiter);
    try {
      // §8.3.2.16: one object, the answer window in minutes (the UITD keeps its prompt that long).
      const minutes = Math.min(255, Math.max(1, Math.ceil(windowMs / 60_000)));
      try {
        await session.request(Command.control, { type: DataType.dutyCheck, answerMinutes: minutes });
      } catch (err) {
        return {
          device,
          delivered: false,
          answered: false,
          askedAt,
          detail: `查岗指令未送达：${(err as Error).message}`,
        };
      }
      this.#log.info({ device, windowMs }, 'duty check (查岗) sent to the UITD');
      const answer = await answered;
      if (!answer) {
        this.#log.warn({ device, windowMs }, 'duty check not answered');
        return {
          device,
          delivered: true,
          answered: false,
          askedAt,
          detail: `${Math.round(windowMs / 1000)} 秒内无人应答`,
        };
      }
      this.#log.info({ device, operator: answer.operator }, 'duty check answered');
      return {
        device,
        delivered: true,
        answered: true,
        askedAt,
        answeredAt: answer.at,
        operator: answer.operator,
        detail: `已应答（操作员 ${answer.operator}）`,
      };
    } finally {
      cancel();
      link.dutyWaiters.delete(waiter);
    }
  }

  #accept(socket: Socket): void {
    if (!this.#running) {
      socket.destroy();
      return;
    }
    const session: UitdSession = new UitdSession({
      socket,
      dialect: this.#dialect,
      centreAddress: this.#c.centreAddress,
      utcOffsetMinutes: this.#c.utcOffsetMinutes,
      linkTimeoutMs: this.#c.linkTimeoutS * 1000,
      replyTimeoutMs: this.#c.replyTimeoutMs,
      retries: this.#c.retries,
      clock: this.#d.clock,
      logger: this.#log,
      handler: this.#handler,
    });
    this.#sessions.add(session);
    this.#log.info({ remote: session.remote }, 'UITD connection accepted');
    session.start();
  }

  readonly #handler: SessionHandler = {
    admit: (session, address) => {
      const link = this.#links.get(address);
      if (!link) {
        this.#counts.refused++;
        this.#log.warn({ remote: session.remote, address }, 'UITD not on the list refused');
        return false;
      }
      const previous = link.session;
      link.session = session;
      link.connects++;
      link.panel.clear();
      // A half-open old connection (a UITD that rebooted): the new one is the UITD now.
      if (previous && previous !== session) previous.close('replaced by a new connection from the same UITD');
      link.offlineTimer?.();
      link.offlineTimer = undefined;
      this.#log.info({ remote: session.remote, address, device: link.entry.device }, 'UITD link up');
      if (link.offline) {
        link.offline = false;
        this.#submitAside({
          device: link.entry.device,
          message: 'event',
          fields: { event: 'restore', zone: '用户信息传输装置', detail: '用户信息传输装置链路恢复' },
        });
      }
      if (this.#c.syncClock) {
        const time = timeLabelFromEpochMs(this.#d.clock.now(), this.#c.utcOffsetMinutes);
        void session
          .request(Command.control, { type: DataType.syncClock, time })
          .catch((err: unknown) => this.#log.warn({ address, err: (err as Error).message }, 'UITD clock sync failed'));
      }
      return true;
    },
    received: (session, frame) => this.#received(session, frame),
    denied: () => {
      this.#counts.denied++;
    },
    closed: (session, reason) => {
      this.#sessions.delete(session);
      const link = session.address === undefined ? undefined : this.#links.get(session.address);
      if (!link || link.session !== session) return;
      link.session = undefined;
      this.#log.warn({ device: link.entry.device, reason }, 'UITD link down');
      if (this.#running) this.#armOffline(link, this.#c.offlineGraceS * 1000, reason);
    },
  };

  #armOffline(link: UitdLink, afterMs: number, reason = `未在 ${this.#c.linkTimeoutS} 秒内连接`): void {
    link.offlineTimer?.();
    link.offlineTimer = this.#d.clock.setTimeout(() => {
      link.offlineTimer = undefined;
      if (link.session || link.offline || !this.#running) return;
      link.offline = true;
      this.#submitAside({
        device: link.entry.device,
        message: 'event',
        fields: {
          event: 'offline',
          zone: '用户信息传输装置',
          detail: `用户信息传输装置链路中断：${reason}`.slice(0, 500),
        },
      });
    }, afterMs);
  }

  async #received(session: UitdSession, frame: Frame): Promise<'confirm' | 'deny' | 'none'> {
    this.#counts.frames++;
    const link = this.#links.get(session.address ?? -1);
    if (!link) return 'deny';
    const answer = commandRole(frame.command, this.#dialect) !== 'send';
    // §6.5: a frame the UITD did not see confirmed comes again with the same serial.
    const now = this.#d.clock.now();
    const seen = answer ? undefined : link.recent.get(frame.serial);
    if (seen && now - seen.at < SERIAL_MEMORY_MS) {
      this.#counts.resends++;
      this.#log.info({ device: link.entry.device, serial: frame.serial }, 'UITD resend recognised; confirmed again');
      return seen.verdict;
    }
    const verdict = this.#take(link, frame, now);
    if (!answer) {
      link.recent.set(frame.serial, { at: now, verdict });
      if (link.recent.size > RECENT_SERIALS) {
        const oldest = link.recent.keys().next().value;
        if (oldest !== undefined) link.recent.delete(oldest);
      }
      // A denied frame is not remembered as taken: its resend is handled afresh.
      void verdict.then((v) => {
        if (v === 'deny') link.recent.delete(frame.serial);
      });
    }
    const v = await verdict;
    return answer ? 'none' : v;
  }

  async #take(link: UitdLink, frame: Frame, now: number): Promise<'confirm' | 'deny'> {
    // An empty send is the UITD's heartbeat (链路检测): confirm it.
    if (frame.data.length === 0) return 'confirm';
    const decoded = decodeDataUnit(frame.data, this.#dialect);
    if (!decoded.ok) {
      this.#log.warn(
        { device: link.entry.device, serial: frame.serial, reason: decoded.reason },
        'UITD data unit refused',
      );
      return 'deny';
    }
    const outcome = link.panel.readings(decoded.unit, now);
    this.#counts.ignored += outcome.ignored;
    for (const a of outcome.dutyAnswers) for (const w of link.dutyWaiters) w.resolve(a);
    const durable: Promise<void>[] = [];
    for (const r of outcome.readings) {
      const d = this.#submit(r);
      if (d === 'queue_error') return 'deny';
      if (d) durable.push(d);
    }
    try {
      await Promise.all(durable);
    } catch (err) {
      this.#log.error({ err, device: link.entry.device }, 'UITD readings not made durable; denied for a resend');
      return 'deny';
    }
    return 'confirm';
  }

  /** Hands a reading to the gateway: its durability promise, undefined when refused, or a queue failure. */
  #submit(r: DeviceReading): Promise<void> | undefined | 'queue_error' {
    const outcome = this.#d.sink.submit(r);
    if (!outcome.ok) {
      // The panel did nothing wrong by the protocol: the frame is confirmed, the refusal logged.
      this.#log.warn(
        { device: r.device, reason: outcome.reason, detail: outcome.detail },
        'fire-panel reading refused',
      );
      return outcome.reason === 'queue_error' ? 'queue_error' : undefined;
    }
    this.#counts.readings++;
    if (r.message === 'event') this.#log.info({ device: r.device, ...r.fields }, 'fire-panel event');
    return outcome.durable;
  }

  /** A reading nobody waits for (link events, liveness): a failure to keep it is logged. */
  #submitAside(r: DeviceReading): void {
    const d = this.#submit(r);
    if (d instanceof Promise) {
      d.catch((err: unknown) => this.#log.error({ err, device: r.device }, 'fire-panel reading not made durable'));
    }
  }

  /** Keeps the UITD device (and listed devices whose telemetry needs no value) reporting while the link is up. */
  #liveness(): void {
    for (const link of this.#links.values()) {
      if (!link.session) continue;
      for (const device of [link.entry.device, ...link.panel.componentDevices()]) {
        const kind = this.#d.devices.get(device)?.kind;
        if (kind === 'fire' || kind === 'electrical') this.#submitAside({ device, message: 'telemetry', fields: {} });
      }
    }
  }
}
