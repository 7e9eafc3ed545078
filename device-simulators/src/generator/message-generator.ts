import {
  CommandReplyPayload,
  type CountyConfig,
  DEFAULT_REPORT_INTERVAL_S,
  type DeviceConfig,
  type DeviceKind,
  type GatewayAddress,
  type GatewayConfig,
  locationZone,
  TOPIC_SCHEMAS,
  topics,
} from '@anlian/protocol';
import { SimErrorCode, SimulatorError } from '../errors.js';
import { Prng } from '../prng.js';
import type { ScenarioSource } from '../scenario/load-scenario.js';
import type { CameraFaultKind, FaultTarget, FaultTime, Scenario, ScenarioFault } from '../scenario/scenario-schema.js';
import { CameraSignal } from '../signals/camera-signal.js';
import { type AnySignal, createSignal } from '../signals/create-signal.js';
import { ElectricalSignal } from '../signals/electrical-signal.js';
import { FireDetectorSignal } from '../signals/fire-detector-signal.js';
import { KitchenSignal } from '../signals/kitchen-signal.js';
import { LOW_PRESSURE_MPA, PressureSignal } from '../signals/pressure-signal.js';
import { clamp, round, type TelemetryBody } from '../signals/signal-model.js';
import { TimeZoneClock } from '../time-zone.js';
import { selectDevices, selectGateways, type TargetRef, targetsDevices } from './select-targets.js';
import type { FaultFired, ResolvedFault, SimPublish, SimStep, SimTopicType } from './sim-step.js';
import { type QueueEntry, StepQueue } from './step-queue.js';

export interface GeneratorOptions {
  county: CountyConfig;
  /** Simulated start, ms since the epoch. The generator never reads a clock. */
  startMs: number;
  /** Default 1. Same county + seed + scenario + start → the same steps, byte for byte. */
  seed?: number;
  scenario?: Scenario & { source?: ScenarioSource };
  /** Rare natural faults: slow extinguisher leaks, camera stream drop-outs. Default true. */
  naturalFaults?: boolean;
  /** Default 30 s (the contract's heartbeat period). */
  heartbeatIntervalMs?: number;
  /** Messages a gateway queues while its uplink is down; the oldest telemetry goes first. Default 10,000. */
  bufferLimit?: number;
  /** Check every payload against the contract's schema. Default true; load tests may turn it off. */
  validate?: boolean;
  /** Software version in heartbeats. */
  version?: string;
  /**
   * The simulation run's id, put on every message (protocol `simRun`) when the run is not in real
   * time, so that a county keeps its simulated history apart (design.md, Simulated time).
   */
  simRun?: string;
}

/** Something the device or a scenario fault does to a device's telemetry for a while. */
interface Effect {
  fault: number;
  from: number;
  until: number;
  /** Report this often while in force (a sensor reporting on change). */
  intervalMs?: number;
  /** Report nothing while in force. */
  silent?: boolean;
  apply?: (body: TelemetryBody, atMs: number) => TelemetryBody;
}

interface Queued {
  type: 'telemetry' | 'event';
  topic: string;
  device: string;
  body: Record<string, unknown>;
  at: number;
  skewMs: number;
  fault: number | undefined;
}

interface GatewayState {
  cfg: GatewayConfig;
  address: GatewayAddress;
  statusTopic: string;
  heartbeatTopic: string;
  seq: number;
  up: boolean;
  /** Overlapping drops: reconnect only when the last one ends. */
  downCount: number;
  cause: 'uplink' | 'power';
  bootAt: number;
  queue: Queued[];
  dropped: number;
  duplicatesLeft: number;
  skewMs: number;
  adapters: { name: string; ok: boolean }[];
  timing: Prng;
}

interface DeviceState {
  cfg: DeviceConfig;
  gw: GatewayState;
  telemetryTopic: string;
  eventTopic: string;
  signal: AnySignal;
  intervalMs: number;
  zone: string;
  skewMs: number;
  effects: Effect[];
  /** Bumped to re-time the next report; a queued report of an older generation is skipped. */
  generation: number;
  timing: Prng;
}

/**
 * One queue entry. A single class with every field, so that the heap compares objects of one
 * shape (a mix of shapes makes every comparison megamorphic and the generator 3× slower).
 */
class Entry implements QueueEntry {
  constructor(
    readonly type: 'report' | 'heartbeat' | 'action',
    readonly at: number,
    readonly prio: number,
    readonly order: number,
    readonly device: DeviceState | undefined,
    readonly generation: number,
    readonly gw: GatewayState | undefined,
    readonly run: ((at: number) => void) | undefined,
  ) {}
}

const PRIO_ACTION = 0;
const PRIO_REPORT = 1;
const DEFAULT_HEARTBEAT_MS = 30_000;
const DEFAULT_VERSION = 'anlian-sim/0.1.0';
/** The camera event (protocol `CameraEventType`) a scenario's camera fault reports. */
const CAMERA_FAULT_EVENT = {
  frozen: 'frozen',
  black: 'black',
  offline: 'signal_loss',
  dark: 'too_dark',
  bright: 'too_bright',
  blurred: 'blurred',
  occluded: 'occlusion',
} as const satisfies Record<CameraFaultKind, string>;

/**
 * The pure, clock-independent core of the simulator: for a county, a seed, an optional scenario
 * and a simulated start, the ordered sequence of everything the county's gateways do — connect
 * (with their last will), publish, drop — and when scenario faults start and end.
 *
 * One priority queue holds every device's and gateway's next due time; `next()` pops the earliest.
 * Nothing here reads a clock or `Math.random`, so a test can inspect exactly what a scenario
 * produces, and the live runner only has to send each step when its accelerated clock gets there.
 */
export class MessageGenerator {
  readonly startMs: number;
  readonly seed: number;
  readonly tz: TimeZoneClock;
  /** The scenario's faults with times and targets resolved. */
  readonly faults: readonly ResolvedFault[];
  /** When the scenario's last fault has fired and ended (restore, reconnect, cool-down); `startMs` without one. */
  readonly scenarioEndMs: number;
  readonly gatewayCount: number;
  readonly deviceCount: number;

  readonly #county: CountyConfig;
  readonly #queue = new StepQueue<Entry>();
  readonly #out: SimStep[] = [];
  #outHead = 0;
  #order = 0;
  #finished = false;
  readonly #gateways = new Map<string, GatewayState>();
  readonly #devices = new Map<string, DeviceState>();
  readonly #heartbeatMs: number;
  readonly #bufferLimit: number;
  readonly #validate: boolean;
  readonly #version: string;
  /** `{ simRun }` on every envelope, or nothing. */
  readonly #run: { simRun?: string };

  /** The simulation run's id on every message, if the run is not in real time. */
  get simRun(): string | undefined {
    return this.#run.simRun;
  }
  readonly #scenario: (Scenario & { source?: ScenarioSource }) | undefined;

  constructor(opts: GeneratorOptions) {
    this.#county = opts.county;
    this.startMs = Math.round(opts.startMs);
    this.seed = (opts.seed ?? 1) >>> 0;
    this.tz = new TimeZoneClock(opts.county.county.timezone);
    this.#heartbeatMs = opts.heartbeatIntervalMs ?? DEFAULT_HEARTBEAT_MS;
    this.#bufferLimit = opts.bufferLimit ?? 10_000;
    this.#validate = opts.validate ?? true;
    this.#version = opts.version ?? DEFAULT_VERSION;
    this.#run = opts.simRun === undefined ? {} : { simRun: opts.simRun };
    this.#scenario = opts.scenario;
    const naturalFaults = opts.naturalFaults ?? true;

    const countyId = opts.county.county.id;
    for (const inst of opts.county.institutions) {
      for (const cfg of inst.gateways) {
        const address = { county: countyId, institution: inst.id, gateway: cfg.id };
        const gwPath = `${countyId}/${inst.id}/${cfg.id}`;
        const kinds = new Set(cfg.devices.map((d) => d.kind));
        const gw: GatewayState = {
          cfg,
          address,
          statusTopic: topics.status(address),
          heartbeatTopic: topics.heartbeat(address),
          seq: 0,
          up: false,
          downCount: 0,
          cause: 'uplink',
          bootAt: this.startMs,
          queue: [],
          dropped: 0,
          duplicatesLeft: 0,
          skewMs: 0,
          adapters: [
            ...(kinds.has('fire') || kinds.has('extinguisher') || kinds.has('kitchen')
              ? [{ name: 'sensors', ok: true }]
              : []),
            ...(kinds.has('camera') ? [{ name: 'onvif', ok: true }] : []),
          ],
          timing: Prng.for(this.seed, `${gwPath}#timing`),
        };
        this.#gateways.set(cfg.id, gw);
        this.#action(this.startMs, () => this.#connect(gw, this.startMs, false, undefined));
        this.#scheduleHeartbeat(gw, this.startMs + gw.timing.next() * this.#heartbeatMs);

        for (const device of cfg.devices) {
          const path = `${gwPath}/${device.id}`;
          const d: DeviceState = {
            cfg: device,
            gw,
            telemetryTopic: topics.telemetry(address, device.id),
            eventTopic: topics.event(address, device.id),
            signal: createSignal({ device, path, seed: this.seed, tz: this.tz, startMs: this.startMs, naturalFaults }),
            intervalMs: (device.reportIntervalS ?? DEFAULT_REPORT_INTERVAL_S[device.kind]) * 1000,
            zone: locationZone(device.location),
            skewMs: 0,
            effects: [],
            generation: 0,
            timing: Prng.for(this.seed, `${path}#timing`),
          };
          this.#devices.set(`${cfg.id}/${device.id}`, d);
          // Devices booted long ago: each is somewhere in its report cycle when the simulation starts.
          this.#scheduleReport(d, this.startMs + Math.round(d.timing.next() * d.intervalMs));
        }
      }
    }
    this.gatewayCount = this.#gateways.size;
    this.deviceCount = this.#devices.size;

    const resolved: ResolvedFault[] = [];
    opts.scenario?.faults.forEach((fault, index) => {
      resolved.push(this.#scheduleFault(fault, index));
    });
    this.faults = resolved;
    this.scenarioEndMs = resolved.reduce((m, f) => Math.max(m, f.endSimMs ?? f.atSimMs), this.startMs);
  }

  /** Simulated time of the next step, or `undefined` once finished. */
  peekTime(): number | undefined {
    if (this.#outHead < this.#out.length) return this.#out[this.#outHead]?.atSimMs;
    if (this.#finished) return undefined;
    return this.#queue.peek()?.at;
  }

  /** The next step; `undefined` after `shutdown()` or for a county without gateways. */
  next(): SimStep | undefined {
    while (this.#outHead >= this.#out.length) {
      if (this.#finished) return undefined;
      const entry = this.#queue.pop();
      if (!entry) return undefined;
      this.#process(entry);
    }
    return this.#take();
  }

  /** Every step due at or before `simMs`, at most `max` of them (the rest stay for the next call). */
  takeUntil(simMs: number, max = Number.POSITIVE_INFINITY): SimStep[] {
    const steps: SimStep[] = [];
    while (steps.length < max) {
      if (this.#outHead >= this.#out.length) {
        const top = this.#queue.peek();
        if (this.#finished || !top || top.at > simMs) break;
        this.#queue.pop();
        this.#process(top);
        continue;
      }
      const step = this.#out[this.#outHead] as SimStep;
      if (step.atSimMs > simMs) break;
      steps.push(this.#take());
    }
    return steps;
  }

  /**
   * Clean shutdown at `atSimMs`: every connected gateway publishes `offline` with reason
   * `shutdown` (then the runner disconnects cleanly, so no will fires [MQTT-3.1.2-10]).
   * The generator produces nothing after this.
   */
  shutdown(atSimMs: number): SimPublish[] {
    const at = Math.round(atSimMs);
    // Steps not yet taken are never sent: the run ends here.
    this.#out.length = this.#outHead = 0;
    for (const gw of this.#gateways.values()) {
      if (!gw.up) continue;
      this.#send(
        gw,
        'status',
        gw.statusTopic,
        { state: 'offline', reason: 'shutdown' },
        at,
        gw.skewMs,
        undefined,
        undefined,
        true,
      );
      gw.up = false;
    }
    this.#finished = true;
    const steps = this.#out.slice() as SimPublish[];
    this.#out.length = this.#outHead = 0;
    return steps;
  }

  /**
   * The gateway reconnected outside the schedule (a broker restart, a network blip) and its will
   * may have fired: the `online` status to publish now, with its next seq. Not part of the
   * deterministic stream; `undefined` while the schedule has the gateway down.
   */
  statusOnline(gatewayId: string, atSimMs: number): SimPublish | undefined {
    const gw = this.#gateways.get(gatewayId);
    if (!gw?.up || this.#finished) return undefined;
    this.#send(
      gw,
      'status',
      gw.statusTopic,
      { state: 'online', reason: 'connect' },
      Math.round(atSimMs),
      gw.skewMs,
      undefined,
      undefined,
      true,
    );
    return this.#out.pop() as SimPublish;
  }

  /**
   * A gateway's reply to a county command (`…/cmd/{name}/reply`), numbered with its next seq like
   * everything it sends. Not part of the deterministic stream (commands come from outside);
   * `undefined` while the schedule has the gateway down or after shutdown.
   */
  commandReply(
    gatewayId: string,
    name: string,
    reply: { id: string; ok: boolean; detail?: string },
    atSimMs: number,
  ): { topic: string; payload: string } | undefined {
    const gw = this.#gateways.get(gatewayId);
    if (!gw?.up || this.#finished) return undefined;
    const body = { v: 1, ts: Math.round(atSimMs) + gw.skewMs, seq: gw.seq++, ...this.#run, ...reply };
    return {
      topic: topics.commandReply(gw.address, name),
      payload: JSON.stringify(this.#validate ? CommandReplyPayload.parse(body) : body),
    };
  }

  /** Telemetry a gateway could not send during an uplink loss and has since discarded or lost. */
  lostMessages(): number {
    let n = 0;
    for (const gw of this.#gateways.values()) n += gw.dropped;
    return n;
  }

  // ------------------------------------------------------------------ internals

  #take(): SimStep {
    const step = this.#out[this.#outHead++] as SimStep;
    if (this.#outHead > 1024 && this.#outHead * 2 > this.#out.length) {
      this.#out.splice(0, this.#outHead);
      this.#outHead = 0;
    }
    return step;
  }

  #action(at: number, run: (at: number) => void): void {
    this.#queue.push(new Entry('action', Math.round(at), PRIO_ACTION, this.#order++, undefined, 0, undefined, run));
  }

  #scheduleHeartbeat(gw: GatewayState, at: number): void {
    this.#queue.push(new Entry('heartbeat', Math.round(at), PRIO_REPORT, this.#order++, undefined, 0, gw, undefined));
  }

  #scheduleReport(d: DeviceState, at: number): void {
    this.#queue.push(
      new Entry('report', Math.round(at), PRIO_REPORT, this.#order++, d, d.generation, undefined, undefined),
    );
  }

  /** Report `d` at `at` (a fault just changed it) and re-time its cycle from there. */
  #reportAt(d: DeviceState, at: number): void {
    d.generation++;
    this.#scheduleReport(d, at);
  }

  #process(entry: Entry): void {
    switch (entry.type) {
      case 'action':
        entry.run?.(entry.at);
        return;
      case 'heartbeat': {
        const gw = entry.gw as GatewayState;
        if (gw.up) {
          this.#send(
            gw,
            'heartbeat',
            gw.heartbeatTopic,
            {
              uptimeS: Math.round((entry.at - gw.bootAt) / 1000),
              queueDepth: gw.queue.length,
              adapters: gw.adapters,
              version: this.#version,
            },
            entry.at,
            gw.skewMs,
            undefined,
            undefined,
            false,
          );
        }
        this.#scheduleHeartbeat(gw, entry.at + this.#heartbeatMs);
        return;
      }
      case 'report': {
        const d = entry.device as DeviceState;
        if (entry.generation === d.generation) this.#report(d, entry.at);
        return;
      }
      default: {
        const never: never = entry.type;
        throw new TypeError(`unknown queue entry ${String(never)}`);
      }
    }
  }

  #report(d: DeviceState, at: number): void {
    // Always sample, even when silent: the noise stream advances the same with or without faults.
    let body = d.signal.sample(at) as TelemetryBody;
    let silent = false;
    let fault: number | undefined;
    let interval = d.intervalMs;
    if (d.effects.length > 0) {
      d.effects = d.effects.filter((e) => e.until > at);
      for (const e of d.effects) {
        if (e.from > at) continue;
        if (e.silent) silent = true;
        if (e.apply) {
          body = e.apply(body, at);
          fault = e.fault;
        }
        if (e.intervalMs !== undefined) interval = Math.min(interval, e.intervalMs);
      }
    }
    if (!silent) this.#deviceMessage(d, 'telemetry', body as unknown as Record<string, unknown>, at, fault);
    // ±1 % jitter so that thousands of devices never fall into lockstep.
    this.#scheduleReport(d, at + interval * (1 + d.timing.range(-0.01, 0.01)));
  }

  /**
   * A reading that drifts from its expected level at `t0` to `fault.to` over `fault.over` (a gauge
   * losing pressure, a growing leak), the device's own noise kept on top; reported every
   * `fault.reportEvery` while it moves, then at the device's pace. With a `crossing`, the device's
   * event goes out when the drift passes the threshold, and its restore when the fault is repaired
   * (`restoreAt`), if the event went out before.
   */
  #rampReading(
    d: DeviceState,
    index: number,
    fault: { over: number; to: number; reportEvery: number },
    t0: number,
    restoreAt: number | undefined,
    r: {
      expected: (at: number) => number;
      read: (body: TelemetryBody) => number | undefined;
      write: (body: TelemetryBody, level: number) => TelemetryBody;
      crossing?: {
        threshold: number;
        falling: boolean;
        event: Record<string, unknown>;
        restore: Record<string, unknown>;
      };
    },
  ): void {
    const start = r.expected(t0);
    const level = (at: number) =>
      at >= t0 + fault.over ? fault.to : start + ((fault.to - start) * (at - t0)) / fault.over;
    d.effects.push({
      fault: index,
      from: t0,
      until: restoreAt ?? Number.POSITIVE_INFINITY,
      apply: (body, at) => {
        const value = r.read(body);
        return value === undefined ? body : r.write(body, level(at) + value - r.expected(at));
      },
    });
    d.effects.push({ fault: index, from: t0, until: t0 + fault.over + 1, intervalMs: fault.reportEvery });
    this.#action(t0, (at) => this.#reportAt(d, at));
    const c = r.crossing;
    let crossAt: number | undefined;
    if (
      c &&
      (c.falling ? start > c.threshold && fault.to < c.threshold : start < c.threshold && fault.to >= c.threshold)
    ) {
      crossAt = t0 + (fault.over * (c.threshold - start)) / (fault.to - start);
      if (restoreAt !== undefined && crossAt >= restoreAt) crossAt = undefined;
    }
    if (c && crossAt !== undefined) this.#action(crossAt, (at) => this.#deviceMessage(d, 'event', c.event, at, index));
    if (restoreAt !== undefined) {
      const crossed = crossAt !== undefined;
      this.#action(restoreAt, (at) => {
        if (c && crossed) this.#deviceMessage(d, 'event', c.restore, at, index);
        this.#reportAt(d, at);
      });
    }
  }

  #deviceMessage(
    d: DeviceState,
    type: 'telemetry' | 'event',
    body: Record<string, unknown>,
    at: number,
    fault: number | undefined,
  ): void {
    const gw = d.gw;
    const skewMs = gw.skewMs + d.skewMs;
    const topic = type === 'telemetry' ? d.telemetryTopic : d.eventTopic;
    if (!gw.up) {
      if (gw.cause === 'power') {
        gw.dropped++;
        return;
      }
      // Store and forward: what the gateway measured while its uplink was down goes out later.
      gw.queue.push({ type, topic, device: d.cfg.id, body, at, skewMs, fault });
      if (gw.queue.length > this.#bufferLimit) {
        const oldestTelemetry = gw.queue.findIndex((q) => q.type === 'telemetry');
        gw.queue.splice(Math.max(oldestTelemetry, 0), 1);
        gw.dropped++;
      }
      return;
    }
    this.#send(gw, type, topic, body, at, skewMs, d.cfg.id, fault, false);
  }

  #send(
    gw: GatewayState,
    type: SimTopicType,
    topic: string,
    body: Record<string, unknown>,
    at: number,
    skewMs: number,
    device: string | undefined,
    fault: number | undefined,
    retain: boolean,
    /** When it is sent, if later than measured (store-and-forward). */
    sentAt = at,
  ): void {
    const seq = gw.seq++;
    const raw: Record<string, unknown> = { v: 1, ts: at + skewMs, seq, ...this.#run };
    for (const key in body) raw[key] = body[key];
    if (skewMs !== 0 && typeof raw.lastFrameTs === 'number') raw.lastFrameTs += skewMs;
    const data = this.#validate ? TOPIC_SCHEMAS[type].parse(raw) : raw;
    const step = {
      kind: 'publish',
      type,
      atSimMs: sentAt,
      institution: gw.address.institution,
      gateway: gw.cfg.id,
      topic,
      payload: JSON.stringify(data),
      data,
      qos: 1,
      retain,
      seq,
    } as SimPublish;
    if (device !== undefined) step.device = device;
    if (fault !== undefined) step.fault = fault;
    this.#out.push(step);
    if (gw.duplicatesLeft > 0 && type !== 'status') {
      gw.duplicatesLeft--;
      this.#out.push({ ...step, duplicate: true });
    }
  }

  #connect(gw: GatewayState, at: number, reconnect: boolean, fault: number | undefined): void {
    gw.up = true;
    const ts = at + gw.skewMs;
    // The will is fixed at CONNECT [MQTT-3.1.2-9]: it carries the seq of the `online` that follows.
    const will = { v: 1, ts, seq: gw.seq, ...this.#run, state: 'offline', reason: 'will' };
    this.#out.push({
      kind: 'connect',
      atSimMs: at,
      institution: gw.address.institution,
      gateway: gw.cfg.id,
      will: { topic: gw.statusTopic, payload: JSON.stringify(TOPIC_SCHEMAS.status.parse(will)), qos: 1, retain: true },
      reconnect,
      ...(fault === undefined ? {} : { fault }),
    });
    this.#send(
      gw,
      'status',
      gw.statusTopic,
      { state: 'online', reason: 'connect' },
      at,
      gw.skewMs,
      undefined,
      fault,
      true,
    );
    if (gw.queue.length > 0) {
      // Events go ahead of queued telemetry (the contract); each keeps the time it was measured.
      const queued = gw.queue;
      gw.queue = [];
      for (const q of [...queued.filter((x) => x.type === 'event'), ...queued.filter((x) => x.type === 'telemetry')]) {
        // Sent now, measured then: the step is due now, its payload `ts` is the original time.
        this.#send(gw, q.type, q.topic, q.body, q.at, q.skewMs, q.device, q.fault, false, at);
      }
    }
  }

  #mark(
    index: number,
    id: string,
    type: ScenarioFault['type'],
    phase: FaultFired['phase'],
    at: number,
    targets: TargetRef[],
  ): void {
    this.#out.push({ kind: 'fault', atSimMs: at, fault: { index, id, type, phase, atSimMs: at, targets } });
  }

  // ------------------------------------------------------------------ scenario faults

  #faultTime(at: FaultTime): number {
    return 'offsetMs' in at ? this.startMs + at.offsetMs : this.tz.nextAt(this.startMs, at.localTime);
  }

  #fail(index: number, fault: ScenarioFault, what: string): never {
    const src = this.#scenario?.source;
    const where = src ? `${src.file}: line ${src.faultLines[index] ?? 0}: ` : '';
    throw new SimulatorError(
      SimErrorCode.TARGET_NOT_FOUND,
      `${where}faults.${index} (${fault.type}): ${what} (target ${JSON.stringify(fault.target)})`,
    );
  }

  #devicesFor(index: number, fault: ScenarioFault, kind: DeviceKind | undefined): DeviceState[] {
    const refs = selectDevices(this.#county, fault.target, { kind, seed: this.seed, salt: `fault#${index}` });
    if (refs.length === 0)
      this.#fail(index, fault, `matches no ${kind ? `${kind} ` : ''}device in the simulated county`);
    return refs.map((r) => this.#devices.get(`${r.gateway}/${r.device}`) as DeviceState);
  }

  #gatewaysFor(index: number, fault: ScenarioFault, target: FaultTarget): GatewayState[] {
    const refs = selectGateways(this.#county, target, { seed: this.seed, salt: `fault#${index}` });
    if (refs.length === 0) this.#fail(index, fault, 'matches no gateway in the simulated county');
    return refs.map((r) => this.#gateways.get(r.gateway) as GatewayState);
  }

  #scheduleFault(fault: ScenarioFault, index: number): ResolvedFault {
    const t0 = Math.round(this.#faultTime(fault.at));
    const id = fault.id ?? `${fault.type}-${index}`;
    const line = this.#scenario?.source?.faultLines[index];
    const deviceRef = (d: DeviceState): TargetRef => ({
      institution: d.gw.address.institution,
      gateway: d.gw.cfg.id,
      device: d.cfg.id,
    });
    const gatewayRef = (g: GatewayState): TargetRef => ({ institution: g.address.institution, gateway: g.cfg.id });
    const mark = (phase: FaultFired['phase'], at: number, targets: TargetRef[]) =>
      this.#action(at, () => this.#mark(index, id, fault.type, phase, at, targets));
    let endSimMs: number | undefined;
    let targets: TargetRef[];

    switch (fault.type) {
      case 'fire-alarm': {
        const devices = this.#devicesFor(index, fault, 'fire');
        targets = devices.map(deviceRef);
        const restoreAt = fault.restoreAfter === undefined ? undefined : t0 + fault.restoreAfter;
        mark('start', t0, targets);
        for (const d of devices) {
          const sig = d.signal;
          if (!(sig instanceof FireDetectorSignal)) this.#fail(index, fault, `${d.cfg.id} is not a fire detector`);
          const effect: Effect = {
            fault: index,
            from: t0,
            until: restoreAt ?? Number.POSITIVE_INFINITY,
            apply: (body) => (sig.heat ? { ...body, temperature: fault.temperature } : { ...body, smoke: fault.smoke }),
          };
          d.effects.push(effect);
          this.#action(t0, (at) => {
            const detail = sig.heat ? `heat ${fault.temperature} °C` : `smoke ${fault.smoke} dB/m`;
            this.#deviceMessage(d, 'event', { kind: 'fire', event: fault.event, zone: d.zone, detail }, at, index);
            this.#reportAt(d, at);
          });
          if (restoreAt !== undefined) {
            this.#action(restoreAt, (at) => {
              this.#deviceMessage(d, 'event', { kind: 'fire', event: 'restore', zone: d.zone }, at, index);
              this.#reportAt(d, at);
            });
          }
        }
        if (restoreAt !== undefined) {
          mark('end', restoreAt, targets);
          endSimMs = restoreAt;
        }
        break;
      }

      case 'kitchen-overheat': {
        const devices = this.#devicesFor(index, fault, fault.target.kind === undefined ? 'kitchen' : undefined);
        targets = devices.map(deviceRef);
        const rate = fault.ratePerMin / 60_000;
        const cool = fault.coolPerMin / 60_000;
        mark('start', t0, targets);
        let lastEnd = t0;
        for (const d of devices) {
          const sig = d.signal;
          if (!(sig instanceof KitchenSignal) && !(sig instanceof FireDetectorSignal && sig.heat)) {
            this.#fail(index, fault, `${d.cfg.id} measures no temperature`);
          }
          const start = sig.expectedTemperature(t0);
          const peakAt = t0 + Math.max(0, fault.peak - start) / rate;
          const holdEnd = peakAt + fault.hold;
          const ramp = (at: number) =>
            at < peakAt ? start + rate * (at - t0) : at < holdEnd ? fault.peak : fault.peak - cool * (at - holdEnd);
          // Cooled back to a normal kitchen: the natural signal is higher from here on.
          const until = Math.round(holdEnd + Math.max(0, fault.peak - Math.min(start, 25)) / cool);
          lastEnd = Math.max(lastEnd, until);
          d.effects.push({
            fault: index,
            from: t0,
            until,
            intervalMs: fault.reportEvery,
            apply: (body, at) => {
              if (!('temperature' in body) || body.temperature === undefined) return body;
              const noise = body.temperature - sig.expectedTemperature(at);
              return { ...body, temperature: round(Math.max(body.temperature, ramp(at) + noise), 1) } as TelemetryBody;
            },
          });
          this.#action(t0, (at) => this.#reportAt(d, at));
          if (fault.event && d.cfg.kind === 'kitchen' && start < fault.eventAbove && fault.eventAbove <= fault.peak) {
            const up = t0 + (fault.eventAbove - start) / rate;
            const down = holdEnd + (fault.peak - fault.eventAbove) / cool;
            const detail = `temperature above ${fault.eventAbove} °C`;
            this.#action(up, (at) =>
              this.#deviceMessage(d, 'event', { kind: 'kitchen', event: 'overheat', zone: d.zone, detail }, at, index),
            );
            this.#action(down, (at) =>
              this.#deviceMessage(d, 'event', { kind: 'kitchen', event: 'restore', zone: d.zone }, at, index),
            );
          }
        }
        mark('end', lastEnd, targets);
        endSimMs = lastEnd;
        break;
      }

      case 'extinguisher-pressure-drop': {
        const devices = this.#devicesFor(index, fault, 'extinguisher');
        targets = devices.map(deviceRef);
        const restoreAt = fault.restoreAfter === undefined ? undefined : t0 + fault.restoreAfter;
        mark('start', t0, targets);
        for (const d of devices) {
          const sig = d.signal;
          if (!(sig instanceof PressureSignal)) this.#fail(index, fault, `${d.cfg.id} is not a pressure gauge`);
          const below = fault.eventBelow ?? LOW_PRESSURE_MPA[sig.medium];
          this.#rampReading(d, index, fault, t0, restoreAt, {
            expected: (at) => sig.expectedPressure(at),
            read: (body) => (body.kind === 'extinguisher' ? body.pressure : undefined),
            write: (body, level) => ({ ...body, pressure: round(clamp(level, 0, 10), 3) }) as TelemetryBody,
            crossing: fault.event
              ? {
                  threshold: below,
                  falling: true,
                  event: {
                    kind: 'extinguisher',
                    event: 'low_pressure',
                    zone: d.zone,
                    detail: `pressure below ${below} MPa`,
                  },
                  restore: { kind: 'extinguisher', event: 'restore', zone: d.zone, detail: 'recharged' },
                }
              : undefined,
          });
        }
        endSimMs = restoreAt ?? t0 + fault.over;
        if (restoreAt !== undefined) mark('end', restoreAt, targets);
        break;
      }

      case 'electrical-leakage': {
        const devices = this.#devicesFor(index, fault, 'electrical');
        targets = devices.map(deviceRef);
        const restoreAt = fault.restoreAfter === undefined ? undefined : t0 + fault.restoreAfter;
        mark('start', t0, targets);
        for (const d of devices) {
          const sig = d.signal;
          if (!(sig instanceof ElectricalSignal)) this.#fail(index, fault, `${d.cfg.id} is not an electrical circuit`);
          this.#rampReading(d, index, fault, t0, restoreAt, {
            expected: (at) => sig.expectedResidualCurrent(at),
            read: (body) => (body.kind === 'electrical' ? body.residualCurrent : undefined),
            write: (body, level) =>
              ({ ...body, residualCurrent: Math.round(clamp(level, 0, 100_000)) }) as TelemetryBody,
            crossing: fault.event
              ? {
                  threshold: fault.eventAbove,
                  falling: false,
                  event: {
                    kind: 'electrical',
                    event: 'leakage',
                    zone: d.zone,
                    detail: `residual current above ${fault.eventAbove} mA`,
                  },
                  restore: { kind: 'electrical', event: 'restore', zone: d.zone, detail: 'repaired' },
                }
              : undefined,
          });
        }
        endSimMs = restoreAt ?? t0 + fault.over;
        if (restoreAt !== undefined) mark('end', restoreAt, targets);
        break;
      }

      case 'camera': {
        const devices = this.#devicesFor(index, fault, 'camera');
        targets = devices.map(deviceRef);
        const endAt = fault.for === undefined ? undefined : t0 + fault.for;
        const event = CAMERA_FAULT_EVENT[fault.fault];
        mark('start', t0, targets);
        for (const d of devices) {
          if (!(d.signal instanceof CameraSignal)) this.#fail(index, fault, `${d.cfg.id} is not a camera`);
          d.effects.push({
            fault: index,
            from: t0,
            until: endAt ?? Number.POSITIVE_INFINITY,
            apply: (body) => {
              if (body.kind !== 'camera') return body;
              switch (fault.fault) {
                case 'frozen':
                  return { ...body, frozen: true, lastFrameTs: t0 };
                case 'black':
                  return { ...body, black: true };
                case 'offline':
                  return { ...body, online: false, streamOk: false, fps: 0, bitrateKbps: 0, lastFrameTs: t0 };
                case 'dark':
                  return { ...body, dark: true };
                case 'bright':
                  return { ...body, bright: true };
                case 'blurred':
                  return { ...body, blurred: true };
                case 'occluded':
                  return { ...body, occluded: true };
                default: {
                  const never: never = fault.fault;
                  return never;
                }
              }
            },
          });
          this.#action(t0, (at) => {
            this.#deviceMessage(d, 'event', { kind: 'camera', event, zone: d.zone }, at, index);
            this.#reportAt(d, at);
          });
          if (endAt !== undefined) {
            this.#action(endAt, (at) => {
              this.#deviceMessage(d, 'event', { kind: 'camera', event: 'restore', zone: d.zone }, at, index);
              this.#reportAt(d, at);
            });
          }
        }
        if (endAt !== undefined) mark('end', endAt, targets);
        endSimMs = endAt;
        break;
      }

      case 'silent-device': {
        const devices = this.#devicesFor(index, fault, undefined);
        targets = devices.map(deviceRef);
        const endAt = fault.for === undefined ? undefined : t0 + fault.for;
        for (const d of devices) {
          d.effects.push({ fault: index, from: t0, until: endAt ?? Number.POSITIVE_INFINITY, silent: true });
        }
        mark('start', t0, targets);
        if (endAt !== undefined) mark('end', endAt, targets);
        endSimMs = endAt;
        break;
      }

      case 'gateway-drop': {
        const gateways = this.#gatewaysFor(index, fault, fault.target);
        targets = gateways.map(gatewayRef);
        const endAt = t0 + fault.for;
        mark('start', t0, targets);
        for (const gw of gateways) {
          this.#action(t0, (at) => {
            gw.downCount++;
            if (!gw.up) return;
            gw.up = false;
            gw.cause = fault.cause;
            this.#out.push({
              kind: 'drop',
              atSimMs: at,
              institution: gw.address.institution,
              gateway: gw.cfg.id,
              fault: index,
            });
          });
          this.#action(endAt, (at) => {
            gw.downCount = Math.max(0, gw.downCount - 1);
            if (gw.downCount > 0 || gw.up) return;
            // After a power cut the gateway boots again: uptime restarts.
            if (gw.cause === 'power') gw.bootAt = at;
            this.#connect(gw, at, true, index);
          });
        }
        mark('end', endAt, targets);
        endSimMs = endAt;
        break;
      }

      case 'duplicates': {
        const gateways = this.#gatewaysFor(index, fault, fault.target);
        targets = gateways.map(gatewayRef);
        mark('start', t0, targets);
        for (const gw of gateways) {
          this.#action(t0, () => {
            gw.duplicatesLeft += fault.count;
          });
        }
        break;
      }

      case 'clock-skew': {
        const endAt = fault.for === undefined ? undefined : t0 + fault.for;
        const shift = (holder: { skewMs: number }) => {
          this.#action(t0, () => {
            holder.skewMs += fault.offset;
          });
          if (endAt !== undefined) {
            this.#action(endAt, () => {
              holder.skewMs -= fault.offset;
            });
          }
        };
        if (targetsDevices(fault.target)) {
          const devices = this.#devicesFor(index, fault, undefined);
          targets = devices.map(deviceRef);
          devices.forEach(shift);
        } else {
          const gateways = this.#gatewaysFor(index, fault, fault.target);
          targets = gateways.map(gatewayRef);
          gateways.forEach(shift);
        }
        mark('start', t0, targets);
        if (endAt !== undefined) mark('end', endAt, targets);
        endSimMs = endAt;
        break;
      }

      default: {
        const never: never = fault;
        throw new TypeError(`unknown fault ${JSON.stringify(never)}`);
      }
    }
    return {
      index,
      id,
      type: fault.type,
      atSimMs: t0,
      ...(endSimMs === undefined ? {} : { endSimMs: Math.round(endSimMs) }),
      targets,
      ...(line === undefined ? {} : { line }),
    };
  }
}

/**
 * The steps of a county from `startMs` to `untilMs` (inclusive), in order. A convenience over
 * `MessageGenerator` for tests and offline use: the same inputs always give the same steps.
 */
export function* generateMessages(opts: GeneratorOptions & { untilMs: number }): Generator<SimStep, void, undefined> {
  const gen = new MessageGenerator(opts);
  for (;;) {
    const t = gen.peekTime();
    if (t === undefined || t > opts.untilMs) return;
    const step = gen.next();
    if (!step) return;
    yield step;
  }
}
