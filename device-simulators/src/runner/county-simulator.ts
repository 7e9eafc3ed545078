import { EventEmitter } from 'node:events';
import {
  CommandPayload,
  type CountyConfig,
  DrillId,
  type GatewayConfig,
  parseTopic,
  SimRunId,
  topics,
} from '@anlian/protocol';
import { connect, type MqttClient } from 'mqtt';
import { type Logger, pino } from 'pino';
import { SimErrorCode, SimulatorError } from '../errors.js';
import { MessageGenerator } from '../generator/message-generator.js';
import { formatTarget } from '../generator/select-targets.js';
import type { FaultFired, ResolvedFault, SimConnect, SimPublish, SimStep } from '../generator/sim-step.js';
import type { LoadedScenario } from '../scenario/load-scenario.js';
import type { ScenarioStart } from '../scenario/scenario-schema.js';
import { TimeZoneClock } from '../time-zone.js';
import { type ProgressOutput, ProgressReporter } from './progress-reporter.js';
import { type EndReason, emptyByType, type SimStats, type SimSummary } from './sim-stats.js';

export interface GatewayCredentials {
  username?: string;
  password?: string;
}

export interface CountySimulatorOptions {
  county: CountyConfig;
  /** `mqtt://127.0.0.1:1883`, `mqtts://…`, `ws://…`. */
  brokerUrl: string;
  seed?: number;
  /** Simulated seconds per real second; 60 = a day in 24 minutes. Default 1. */
  speed?: number;
  /** Simulated start, ms since the epoch. Default: the scenario's `start`, else the real clock at `start()`. */
  startMs?: number;
  scenario?: LoadedScenario;
  /** End after this much simulated time. */
  durationMs?: number;
  /** End when the scenario's last fault has ended plus `settleMs` (default: the scenario's `settle`). */
  untilScenarioEnd?: boolean;
  settleMs?: number;
  /**
   * MQTT credentials per gateway. Default: username = gateway id, password = its demo `secret`
   * (none without one: a broker that allows anonymous clients, e.g. for load tests).
   */
  credentials?: (gateway: GatewayConfig) => GatewayCredentials;
  logger?: Logger;
  /** Progress lines and the final summary; nothing is printed without one. */
  output?: ProgressOutput;
  /** Plain progress lines this often (default 10 s). */
  progressIntervalMs?: number;
  naturalFaults?: boolean;
  validate?: boolean;
  /** The real clock, ms. Default `Date.now`. */
  now?: () => number;
  mqtt?: {
    keepaliveS?: number;
    connectTimeoutMs?: number;
    reconnectPeriodMs?: number;
    /** PEM of the CA that signed the broker's certificate (`mqtts://`), as a gateway's `county.caFile`. */
    ca?: Buffer;
  };
  /** Called as each scenario fault starts and ends (also emitted as `fault`). */
  onFault?: (fault: FaultFired) => void;
  /**
   * The county drill this run plays (issue 13): what the scenario's faults produce — their events
   * and readings — carries it as `drillId`, so the county tags those alerts as the drill's. Also
   * settable once connected (`setDrill`), e.g. after registering the drill with the county.
   */
  drillId?: string;
  /**
   * Awaited once every gateway has connected (or failed once), before the simulated clock starts:
   * the place to register the run's drill with the county, whose `cmd/drill-start` the simulated
   * gateways then answer.
   */
  onConnected?: (sim: CountySimulator) => Promise<void>;
  /**
   * The simulation run's id (protocol `simRun`). A run that is not in real time — a speed other than
   * 1, or a start more than `REAL_TIME_START_TOLERANCE_MS` from now — gets one (`sim-<start>`, or
   * this one) on every message, so that a county keeps it apart from its live history
   * (design.md, Simulated time); a real-time run never carries one.
   */
  simRun?: string;
}

/** How far from now a start may be and the run still be in real time. */
export const REAL_TIME_START_TOLERANCE_MS = 60_000;

/**
 * The run's `simRun`: undefined in real time (speed 1, starting now), else the given id or one
 * made from the real start instant — one value per run, a bounded InfluxDB tag.
 */
export function simRunFor(o: {
  speed: number;
  startMs: number;
  now: number;
  simRun?: string | undefined;
}): string | undefined {
  const realTime = o.speed === 1 && Math.abs(o.startMs - o.now) <= REAL_TIME_START_TOLERANCE_MS;
  if (realTime) return undefined;
  return o.simRun ?? `sim-${Math.trunc(o.now).toString(36)}`;
}

/** A scenario's `start` as an instant: a given instant, or the latest occurrence of a local time. */
export function resolveStartMs(start: ScenarioStart | undefined, now: number, tz: TimeZoneClock): number {
  if (!start) return now;
  return 'instantMs' in start ? start.instantMs : tz.latestAt(now, start.localTime);
}

export interface CountySimulatorEvents {
  fault: [FaultFired];
  /** Each message as it is handed to MQTT (only computed when someone listens). */
  publish: [SimPublish];
  connected: [gateway: string];
  dropped: [gateway: string];
  end: [SimSummary];
}

interface Connection {
  gateway: GatewayConfig;
  client: MqttClient;
  connected: boolean;
  /** Set once the scheduled connect has succeeded or failed once, for `start()`. */
  settled: boolean;
  /** A connection closed (or an attempt failed: a timeout, a refusal) before this one. */
  closedBefore: boolean;
}

/** A drill the county started at one simulated gateway (`cmd/drill-start`), as a real gateway keeps it. */
interface GatewayDrill {
  id: string;
  until?: number;
}

// The scheduler batches everything due within a tick: one timer for the whole county.
const MIN_TICK_MS = 20;
const MAX_TICK_MS = 1000;
const MAX_STEPS_PER_TICK = 5000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const END_TIMEOUT_MS = 5000;
const PENDING_CONNECT_WAIT_MS = 2000;

/**
 * The live runner: drives a `MessageGenerator` on an accelerated clock (simulated time =
 * start + real elapsed × speed) and sends each step over MQTT, one connection per gateway with
 * its own credentials and last will.
 *
 * Lifecycle: the constructor only assigns; `start()` connects and starts the one scheduler timer;
 * `stop()` publishes `offline` (reason `shutdown`) for every gateway, disconnects cleanly and
 * releases every timer and socket. `done` settles when the run ends, by itself (duration,
 * scenario end) or through `stop()`; it never rejects.
 */
export class CountySimulator extends EventEmitter<CountySimulatorEvents> {
  readonly done: Promise<SimSummary>;
  readonly #o: CountySimulatorOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #speed: number;
  readonly #connections = new Map<string, Connection>();
  readonly #gatewayConfigs = new Map<string, GatewayConfig>();
  readonly #faults: FaultFired[] = [];
  /** Distinct error messages (gateway ids kept apart, so 250 gateways with one problem are one line). */
  readonly #errors = new Map<string, { count: number; gateways: Set<string> }>();
  readonly #resolveDone: (s: SimSummary) => void;
  #gen: MessageGenerator | undefined;
  #progress: ProgressReporter | undefined;
  #timer: NodeJS.Timeout | undefined;
  #realStart = 0;
  /** False while the initial connections are being made: the simulated clock waits at the start. */
  #clockRunning = false;
  #endSimMs: number | undefined;
  #endReason: EndReason = 'stopped';
  #finishing: Promise<SimSummary> | undefined;
  #frozenSimNow: number | undefined;
  #stats = {
    sent: 0,
    acked: 0,
    failed: 0,
    duplicates: 0,
    drops: 0,
    connectErrors: 0,
    faultsFired: 0,
    byType: emptyByType(),
  };
  #onSettled: (() => void) | undefined;
  #drillId: string | undefined;
  /** Drill mode per gateway, from the county's `cmd/drill-start` … `cmd/drill-stop`. */
  readonly #gatewayDrills = new Map<string, GatewayDrill>();
  /** Commands answered, by name: what the county asked of the simulated gateways. */
  readonly #commands = new Map<string, number>();

  constructor(opts: CountySimulatorOptions) {
    super();
    this.#o = opts;
    this.#log = (opts.logger ?? pino({ level: 'silent' })).child({ module: 'county-simulator' });
    this.#now = opts.now ?? Date.now;
    this.#speed = opts.speed ?? 1;
    this.#drillId = opts.drillId;
    let resolve: (s: SimSummary) => void = () => {};
    this.done = new Promise<SimSummary>((r) => {
      resolve = r;
    });
    this.#resolveDone = resolve;
  }

  /** The scenario's faults resolved against the county (after `start()`). */
  get faults(): readonly ResolvedFault[] {
    return this.#gen?.faults ?? [];
  }

  /** The generator in use (after `start()`), for its `scenarioEndMs`, `tz` and counts. */
  get generator(): MessageGenerator | undefined {
    return this.#gen;
  }

  /** The simulation run's id on every message (after `start()`), undefined for a real-time run. */
  get simRun(): string | undefined {
    return this.#gen?.simRun;
  }

  /** The drill this run plays, stamped on what the scenario produces (see `drillId`). */
  get drillId(): string | undefined {
    return this.#drillId;
  }

  setDrill(id: string | undefined): void {
    if (id !== undefined && !DrillId.safeParse(id).success) {
      throw new SimulatorError(SimErrorCode.BAD_ARGUMENT, `not a drill id: ${JSON.stringify(id)}`);
    }
    this.#drillId = id;
  }

  /** County commands the simulated gateways answered, by name. */
  commandsAnswered(): Record<string, number> {
    return Object.fromEntries(this.#commands);
  }

  /** The simulated clock now. */
  simNow(): number {
    if (this.#frozenSimNow !== undefined) return this.#frozenSimNow;
    const gen = this.#gen;
    if (!gen) return this.#o.startMs ?? this.#now();
    if (!this.#clockRunning) return gen.startMs;
    return gen.startMs + (this.#now() - this.#realStart) * this.#speed;
  }

  /**
   * Builds the generator, opens every gateway's connection and starts the scheduler. Resolves
   * when each gateway has connected or failed once (or after the connect timeout); connection
   * errors are counted and retried, not thrown. Throws for a scenario that does not fit the county.
   */
  async start(): Promise<void> {
    if (this.#gen) throw new SimulatorError(SimErrorCode.LIFECYCLE, 'CountySimulator.start() called twice');
    if (!(this.#speed > 0))
      throw new SimulatorError(SimErrorCode.BAD_ARGUMENT, `speed must be > 0, not ${this.#speed}`);
    const o = this.#o;
    for (const inst of o.county.institutions) for (const gw of inst.gateways) this.#gatewayConfigs.set(gw.id, gw);
    const startMs =
      o.startMs ?? resolveStartMs(o.scenario?.start, this.#now(), new TimeZoneClock(o.county.county.timezone));
    const simRun = simRunFor({ speed: this.#speed, startMs, now: this.#now(), simRun: o.simRun });
    if (simRun !== undefined && !SimRunId.safeParse(simRun).success) {
      throw new SimulatorError(SimErrorCode.BAD_ARGUMENT, `not a simulation run id: ${JSON.stringify(simRun)}`);
    }
    const gen = new MessageGenerator({
      county: o.county,
      startMs,
      ...(simRun !== undefined ? { simRun } : {}),
      seed: o.seed ?? o.scenario?.seed ?? 1,
      ...(o.scenario ? { scenario: o.scenario } : {}),
      ...(o.naturalFaults === undefined ? {} : { naturalFaults: o.naturalFaults }),
      ...(o.validate === undefined ? {} : { validate: o.validate }),
    });
    this.#gen = gen;
    const ends: number[] = [];
    if (o.durationMs !== undefined) ends.push(gen.startMs + o.durationMs);
    if (o.untilScenarioEnd) ends.push(gen.scenarioEndMs + (o.settleMs ?? o.scenario?.settle ?? 0));
    this.#endSimMs = ends.length > 0 ? Math.min(...ends) : undefined;
    this.#endReason =
      o.durationMs !== undefined && this.#endSimMs === gen.startMs + o.durationMs ? 'duration' : 'scenario-end';
    this.#log.info(
      {
        gateways: gen.gatewayCount,
        devices: gen.deviceCount,
        speed: this.#speed,
        simStart: new Date(gen.startMs).toISOString(),
        simEnd: this.#endSimMs === undefined ? undefined : new Date(this.#endSimMs).toISOString(),
        faults: gen.faults.length,
      },
      'simulation starting',
    );
    if (o.output) {
      this.#progress = new ProgressReporter({
        output: o.output,
        snapshot: () => this.stats(),
        tz: gen.tz,
        now: this.#now,
        ...(o.progressIntervalMs === undefined ? {} : { intervalMs: o.progressIntervalMs }),
      });
    }
    const settled = new Promise<void>((resolve) => {
      this.#onSettled = () => {
        for (const c of this.#connections.values()) if (!c.settled) return;
        resolve();
      };
    });
    // The initial connects (and their `online` statuses) happen at the simulated start; the
    // accelerated clock starts once every gateway has connected or failed once, so that a short
    // or fast run does not race the brokers' CONNACKs.
    for (const step of gen.takeUntil(gen.startMs)) this.#execute(step);
    this.#onSettled?.();
    const timeoutMs = o.mqtt?.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      settled,
      this.done,
      new Promise<void>((resolve) => {
        timeout = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timeout);
    this.#onSettled = undefined;
    if (this.#finishing) return;
    await o.onConnected?.(this);
    if (this.#finishing) return;
    this.#realStart = this.#now();
    this.#clockRunning = true;
    this.#progress?.start();
    this.#tick();
  }

  /** Ends the run: `offline`/`shutdown` for every gateway, clean disconnects, the summary. Idempotent. */
  stop(): Promise<SimSummary> {
    this.#endReason = 'stopped';
    return this.#finish();
  }

  stats(): SimStats {
    const gen = this.#gen;
    let connected = 0;
    for (const c of this.#connections.values()) if (c.connected) connected++;
    return {
      simStartMs: gen?.startMs ?? this.#o.startMs ?? 0,
      simNowMs: Math.round(this.#endSimMs === undefined ? this.simNow() : Math.min(this.simNow(), this.#endSimMs)),
      realElapsedMs: this.#clockRunning ? this.#now() - this.#realStart : 0,
      speed: this.#speed,
      gateways: gen?.gatewayCount ?? 0,
      devices: gen?.deviceCount ?? 0,
      connected,
      sent: this.#stats.sent,
      acked: this.#stats.acked,
      failed: this.#stats.failed,
      byType: { ...this.#stats.byType },
      duplicates: this.#stats.duplicates,
      faultsFired: this.#stats.faultsFired,
      faultsTotal: gen?.faults.length ?? 0,
      drops: this.#stats.drops,
      connectErrors: this.#stats.connectErrors,
      lost: gen?.lostMessages() ?? 0,
    };
  }

  // ------------------------------------------------------------------ scheduler

  #tick(): void {
    this.#timer = undefined;
    const gen = this.#gen;
    if (!gen || this.#finishing) return;
    const simNow = this.simNow();
    const limit = this.#endSimMs === undefined ? simNow : Math.min(simNow, this.#endSimMs);
    const steps = gen.takeUntil(limit, MAX_STEPS_PER_TICK);
    for (const step of steps) this.#execute(step);
    if (steps.length === MAX_STEPS_PER_TICK) {
      // Behind (a slow broker, a huge county): yield to I/O, then catch up.
      this.#timer = setTimeout(() => this.#tick(), 0);
      return;
    }
    if (this.#endSimMs !== undefined && simNow >= this.#endSimMs) {
      void this.#finish();
      return;
    }
    const next = Math.min(gen.peekTime() ?? Number.POSITIVE_INFINITY, this.#endSimMs ?? Number.POSITIVE_INFINITY);
    const delay = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, (next - simNow) / this.#speed));
    this.#timer = setTimeout(() => this.#tick(), delay);
  }

  #execute(step: SimStep): void {
    switch (step.kind) {
      case 'connect':
        this.#connect(step);
        return;
      case 'publish':
        this.#publish(step);
        return;
      case 'drop': {
        const conn = this.#connections.get(step.gateway);
        this.#stats.drops++;
        if (!conn) return;
        this.#connections.delete(step.gateway);
        // end(true) destroys the socket without DISCONNECT: the broker must publish the will
        // [MQTT-3.1.2-8]. Unacknowledged QoS 1 messages die with the connection, as in a real outage.
        conn.client.end(true);
        if (conn.connected) conn.connected = false;
        this.#log.info({ gateway: step.gateway }, 'gateway connection dropped (scenario)');
        this.emit('dropped', step.gateway);
        return;
      }
      case 'fault': {
        const f = step.fault;
        this.#faults.push(f);
        if (f.phase === 'start') this.#stats.faultsFired++;
        this.#log.info(
          { fault: f.id, type: f.type, phase: f.phase, targets: f.targets.map(formatTarget) },
          'scenario fault',
        );
        try {
          this.#o.onFault?.(f);
          this.emit('fault', f);
        } catch (err) {
          // A hook's bug must not stop the simulation.
          this.#error(`fault hook threw: ${(err as Error).message}`, undefined);
        }
        return;
      }
      default: {
        const never: never = step;
        throw new TypeError(`unknown step ${JSON.stringify(never)}`);
      }
    }
  }

  #credentials(gw: GatewayConfig): GatewayCredentials {
    if (this.#o.credentials) return this.#o.credentials(gw);
    return gw.secret === undefined ? { username: gw.id } : { username: gw.id, password: gw.secret };
  }

  #connect(step: SimConnect): void {
    const gw = this.#gatewayConfigs.get(step.gateway);
    if (!gw) return;
    const old = this.#connections.get(step.gateway);
    if (old) old.client.end(true);
    const creds = this.#credentials(gw);
    const m = this.#o.mqtt ?? {};
    const client = connect(this.#o.brokerUrl, {
      clientId: gw.id,
      ...(creds.username === undefined ? {} : { username: creds.username }),
      ...(creds.password === undefined ? {} : { password: creds.password }),
      will: { topic: step.will.topic, payload: Buffer.from(step.will.payload), qos: 1, retain: true },
      keepalive: m.keepaliveS ?? 30,
      reconnectPeriod: m.reconnectPeriodMs ?? 2000,
      // A refused CONNECT (server unavailable, busy, rate-limited) is tried again, as a real
      // gateway tries again: mqtt.js otherwise gives up on the first refusal for good.
      reconnectOnConnackError: true,
      connectTimeout: m.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      ...(m.ca ? { ca: m.ca } : {}),
      // MQTT 3.1.1: what aedes speaks; mosquitto and EMQX accept it too.
      protocolVersion: 4,
      clean: true,
    });
    const conn: Connection = {
      gateway: gw,
      client,
      connected: false,
      settled: false,
      closedBefore: false,
    };
    this.#connections.set(gw.id, conn);
    const settle = () => {
      if (conn.settled) return;
      conn.settled = true;
      this.#onSettled?.();
    };
    client.on('connect', () => {
      conn.connected = true;
      // Like a real gateway, it takes the county's commands (clean session: subscribe each time).
      const address = { county: this.#o.county.county.id, institution: step.institution, gateway: gw.id };
      client.subscribe(topics.commandsOf(address), { qos: 1 }, (err) => {
        if (err) this.#error(`command subscription failed: ${err.message}`, gw.id);
      });
      settle();
      this.emit('connected', gw.id);
      // A reconnect the schedule did not ask for (broker restart, network): the will may have
      // fired, so announce `online` again with the gateway's next seq. The same after a failed
      // first attempt (a CONNACK timeout, a refusal): the `online` published meanwhile may have
      // gone with it, and the county would count the gateway offline while it talks.
      if (conn.closedBefore && this.#connections.get(gw.id) === conn) {
        const status = this.#gen?.statusOnline(gw.id, Math.round(this.simNow()));
        if (status) this.#publish(status);
      }
    });
    client.on('close', () => {
      conn.closedBefore = true;
      conn.connected = false;
    });
    client.on('message', (topic, payload) => this.#onCommand(conn, topic, payload));

    client.on('error', (err) => {
      this.#stats.connectErrors++;
      this.#error(err.message, gw.id);
      settle();
    });
  }

  /**
   * A county command to a simulated gateway: `ping`, `drill-start` (args.drill, optional until)
   * and `drill-stop` are answered as a real gateway answers them; others are refused. The reply
   * carries the gateway's next seq.
   */
  #onCommand(conn: Connection, topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    const gen = this.#gen;
    if (t?.type !== 'command' || !gen || this.#connections.get(t.gateway) !== conn) return;
    let cmd: CommandPayload;
    try {
      cmd = CommandPayload.parse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      this.#error(`bad command on ${t.name}: ${(err as Error).message}`, t.gateway);
      return;
    }
    this.#commands.set(t.name, (this.#commands.get(t.name) ?? 0) + 1);
    let reply: { ok: boolean; detail?: string };
    switch (t.name) {
      case 'ping':
        reply = { ok: true, detail: 'pong' };
        break;
      case 'drill-start': {
        const drill = DrillId.safeParse(cmd.args?.drill);
        if (!drill.success) {
          reply = { ok: false, detail: 'drill-start needs args.drill, a drill id' };
          break;
        }
        const until = typeof cmd.args?.until === 'number' ? cmd.args.until : undefined;
        this.#gatewayDrills.set(t.gateway, { id: drill.data, ...(until !== undefined ? { until } : {}) });
        reply = { ok: true, detail: `drill ${drill.data} started` };
        break;
      }
      case 'drill-stop': {
        const was = this.#gatewayDrills.get(t.gateway);
        this.#gatewayDrills.delete(t.gateway);
        reply = { ok: true, detail: was ? `drill ${was.id} stopped` : 'no drill was running' };
        break;
      }
      default:
        reply = { ok: false, detail: `the simulated gateway does not do ${t.name}` };
    }
    const out = gen.commandReply(t.gateway, t.name, { id: cmd.id, ...reply }, Math.round(this.simNow()));
    if (!out) return;
    conn.client.publish(out.topic, out.payload, { qos: 1 }, (err) => {
      if (err) this.#error(`command reply failed: ${err.message}`, t.gateway);
    });
  }

  /**
   * The drill id for a message the scenario produced: the run's drill, else the drill the county
   * started at its gateway (real-time `until` respected). Natural messages are never a drill's.
   */
  #drillFor(step: SimPublish): string | undefined {
    if (step.fault === undefined || (step.type !== 'event' && step.type !== 'telemetry')) return undefined;
    if (this.#drillId !== undefined) return this.#drillId;
    const d = this.#gatewayDrills.get(step.gateway);
    if (d?.until !== undefined && this.#now() >= d.until) {
      this.#gatewayDrills.delete(step.gateway);
      return undefined;
    }
    return d?.id;
  }

  #publish(step: SimPublish): void {
    const conn = this.#connections.get(step.gateway);
    if (!conn) {
      this.#stats.failed++;
      this.#error(`no connection for ${step.type}`, step.gateway);
      return;
    }
    this.#stats.sent++;
    this.#stats.byType[step.type]++;
    if (step.duplicate) this.#stats.duplicates++;
    const drillId = this.#drillFor(step);
    if (drillId !== undefined) {
      // Stamped as it goes out: the generator's stream stays the same for a seed, drill or not.
      const data = { ...step.data, drillId };
      step = { ...step, data, payload: JSON.stringify(data) } as SimPublish;
    }
    if (this.listenerCount('publish') > 0) this.emit('publish', step);
    conn.client.publish(step.topic, step.payload, { qos: step.qos, retain: step.retain }, (err) => {
      if (err) {
        this.#stats.failed++;
        this.#error(`publish failed: ${err.message}`, step.gateway);
      } else this.#stats.acked++;
    });
  }

  #error(message: string, gateway: string | undefined): void {
    let entry = this.#errors.get(message);
    if (!entry) {
      entry = { count: 0, gateways: new Set() };
      this.#errors.set(message, entry);
      this.#log.warn({ err: message, gateway }, 'simulator error (further occurrences are counted in the summary)');
    }
    entry.count++;
    if (gateway !== undefined) entry.gateways.add(gateway);
  }

  #finish(): Promise<SimSummary> {
    this.#finishing ??= this.#doFinish();
    return this.#finishing;
  }

  async #doFinish(): Promise<SimSummary> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const gen = this.#gen;
    const connectedAtEnd = this.stats().connected;
    if (gen) {
      const at = Math.round(this.#endSimMs === undefined ? this.simNow() : Math.min(this.simNow(), this.#endSimMs));
      this.#frozenSimNow = at;
      for (const step of gen.shutdown(at)) this.#publish(step);
    }
    await Promise.all([...this.#connections.values()].map((c) => this.#end(c)));
    this.#connections.clear();
    const summary: SimSummary = {
      ...this.stats(),
      connected: connectedAtEnd,
      reason: this.#endReason,
      faults: [...this.#faults],
      errors: [...this.#errors.entries()]
        .map(([message, e]) => ({ message, count: e.count, gateways: [...e.gateways].sort() }))
        .sort((a, b) => b.count - a.count)
        .slice(0, 20),
    };
    this.#progress?.stop(summary);
    this.#progress = undefined;
    this.#log.info(
      { sent: summary.sent, acked: summary.acked, faults: summary.faultsFired, reason: summary.reason },
      'simulation ended',
    );
    this.#resolveDone(summary);
    this.emit('end', summary);
    return summary;
  }

  /**
   * A clean DISCONNECT after the last PUBACK [MQTT-3.14.4-3: no will]. A gateway still
   * connecting gets a moment to finish so that its `shutdown` status goes out; forced (and the
   * broker publishes the will) if the broker does not answer in time.
   */
  async #end(c: Connection): Promise<void> {
    const client = c.client;
    if (!client.connected && !client.disconnecting) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, PENDING_CONNECT_WAIT_MS);
        function done() {
          clearTimeout(timer);
          client.off('connect', done);
          resolve();
        }
        client.once('connect', done);
      });
    }
    await new Promise<void>((resolve) => {
      if (!client.connected) {
        client.end(true, {}, () => resolve());
        return;
      }
      const timer = setTimeout(() => {
        this.#error('clean disconnect timed out', c.gateway.id);
        client.end(true, {}, () => resolve());
      }, END_TIMEOUT_MS);
      client.end(false, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
