import type { DeviceKind, EventPayload, PressureMedium, TelemetryPayload } from '@anlian/protocol';
import type { AlertInput } from '../src/engine/alert-input.js';
import type { AlertSignal } from '../src/engine/alert-signal.js';
import { type DeviceInfo, RuleEngine } from '../src/engine/rule-engine.js';
import { defaultRuleSet } from '../src/rules/default-rules.js';
import type { RuleSet } from '../src/rules/rule-schema.js';

/** A fixed county time: 2026-01-05 08:00:00 UTC. Tests pass every time explicitly. */
export const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
export const S = 1000;

export const GW = { county: 'youyang', institution: 'yy-a', gateway: 'gw-1' } as const;

let seq = 0;

interface Where {
  gateway?: string;
  institution?: string;
  /** Device time; defaults to `at` (no clock skew). */
  ts?: number;
  confirmed?: boolean;
  /** The event's zone (a place on a fire panel, free text). */
  zone?: string;
  /** What the device said about the event (free text). */
  detail?: string;
  /** The drill the message says it belongs to (protocol `drillId`). */
  drillId?: string;
}

function from(device: string, at: number, w: Where) {
  return {
    county: GW.county,
    institution: w.institution ?? GW.institution,
    gateway: w.gateway ?? GW.gateway,
    device,
    receivedAt: at,
    confirmed: w.confirmed ?? true,
  };
}

export function telemetry(device: string, payload: Record<string, unknown>, at: number, w: Where = {}): AlertInput {
  const p = {
    v: 1,
    ts: w.ts ?? at,
    seq: seq++,
    ...payload,
    ...(w.drillId ? { drillId: w.drillId } : {}),
  } as TelemetryPayload;
  return { type: 'telemetry', payload: p, ...from(device, at, w) };
}

export const kitchen = (device: string, temperature: number, at: number, w: Where & { gasLel?: number } = {}) =>
  telemetry(device, { kind: 'kitchen', temperature, ...(w.gasLel === undefined ? {} : { gasLel: w.gasLel }) }, at, w);

export const gauge = (
  device: string,
  pressure: number,
  at: number,
  medium: PressureMedium = 'dry_powder',
  w: Where = {},
) => telemetry(device, { kind: 'extinguisher', medium, pressure }, at, w);

export function deviceEvent(device: string, kind: DeviceKind, event: string, at: number, w: Where = {}): AlertInput {
  const p = {
    v: 1,
    ts: w.ts ?? at,
    seq: seq++,
    kind,
    event,
    ...(w.zone ? { zone: w.zone } : {}),
    ...(w.detail ? { detail: w.detail } : {}),
    ...(w.drillId ? { drillId: w.drillId } : {}),
  } as EventPayload;
  return { type: 'event', payload: p, ...from(device, at, w) };
}

export function heartbeat(at: number, gateway: string = GW.gateway): AlertInput {
  return {
    type: 'heartbeat',
    county: GW.county,
    institution: GW.institution,
    gateway,
    receivedAt: at,
    payload: { v: 1, ts: at, seq: seq++, uptimeS: 100, queueDepth: 0, adapters: [] },
  };
}

export function status(
  state: 'online' | 'offline',
  at: number,
  reason?: 'connect' | 'shutdown' | 'will' | 'uplink-lost',
): AlertInput {
  return {
    type: 'status',
    ...GW,
    receivedAt: at,
    payload: { v: 1, ts: at, seq: seq++, state, ...(reason ? { reason } : {}) },
  };
}

export function makeEngine(opts: { rules?: RuleSet; devices?: DeviceInfo[]; now?: number } = {}) {
  const directory = new Map((opts.devices ?? []).map((d) => [`${d.gateway}/${d.device}`, d]));
  const clock = { now: opts.now ?? T0 };
  const seen: AlertSignal[] = [];
  const engine = new RuleEngine({
    rules: opts.rules ?? defaultRuleSet(),
    devices: (gateway, device) => directory.get(`${gateway}/${device}`),
    clock: () => clock.now,
    onSignal: (s) => seen.push(s),
  });
  return { engine, clock, seen };
}

/** `type rule` of each signal, compact for assertions. */
export const brief = (signals: readonly AlertSignal[]) => signals.map((s) => `${s.type} ${s.rule}`);

export function device(id: string, kind: DeviceKind, extra: Partial<DeviceInfo> = {}): DeviceInfo {
  return { ...GW, device: id, kind, ...extra };
}
