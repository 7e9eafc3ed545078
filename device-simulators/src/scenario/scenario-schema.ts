import { DeviceKind, PressureMedium, SegmentId } from '@anlian/protocol';
import { z } from 'zod';
import { parseDurationMs, parseSignedDurationMs } from '../duration.js';
import { type LocalTimeOfDay, parseTimeOfDay } from '../time-zone.js';

/**
 * When a fault fires: an offset from the simulated start (`5m`, `300s`, `1h30m`, or a number of
 * seconds) or a local time of day on the simulated clock (`"11:30"`, `"02:00:15"`: the first
 * such time at or after the start, in the county's time zone).
 */
export type FaultTime = { offsetMs: number } | { localTime: LocalTimeOfDay };

const At = z.union([z.string(), z.number()]).transform((v, ctx): FaultTime => {
  if (typeof v === 'string') {
    const t = parseTimeOfDay(v);
    if (t) return { localTime: t };
  }
  const ms = parseDurationMs(v);
  if (ms !== undefined) return { offsetMs: ms };
  ctx.addIssue({
    code: 'custom',
    message: `${JSON.stringify(v)} is neither an offset (90s, 5m, 1h30m) nor a local time of day (11:30)`,
  });
  return z.NEVER;
});

const Duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseDurationMs(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a duration (90s, 5m, 1h30m, 1d)` });
    return z.NEVER;
  }
  return ms;
});

const SignedDuration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const ms = parseSignedDurationMs(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is not a signed duration (+5m, -90s)` });
    return z.NEVER;
  }
  return ms;
});

/**
 * What a fault acts on. Ids select exactly; the other fields filter (`room` is a substring, so
 * `room: 厨房` finds every kitchen). Several matches: `pick: first` (county-file order, the
 * default, stable across seeds), `all`, or `seeded` (one chosen by the run's seed).
 */
export const FaultTarget = z
  .object({
    institution: SegmentId.optional(),
    gateway: SegmentId.optional(),
    device: SegmentId.optional(),
    kind: DeviceKind.optional(),
    medium: PressureMedium.optional(),
    building: z.string().min(1).optional(),
    floor: z.string().min(1).optional(),
    room: z.string().min(1).optional(),
    pick: z.enum(['first', 'all', 'seeded']).default('first'),
  })
  .strict();
export type FaultTarget = z.infer<typeof FaultTarget>;

const common = {
  /** A name for summaries and hooks; defaults to `{type}-{index}`. */
  id: z.string().min(1).max(64).optional(),
  at: At,
  target: FaultTarget,
  note: z.string().max(500).optional(),
};

/** A detector goes into alarm (`fire`), or a simulated fire-alarm test (`test`, GB 50440: twice a month). */
export const FireAlarmFault = z
  .object({
    type: z.literal('fire-alarm'),
    ...common,
    event: z.enum(['fire', 'test']).default('fire'),
    /** Smoke obscuration the detector reports while in alarm, dB/m. */
    smoke: z.number().min(0).max(10).default(0.32),
    /** Heat detectors: the temperature they report while in alarm, °C (GB 4716 A1: static response 54–65 °C). */
    temperature: z.number().min(-40).max(200).default(68),
    /** Send `restore` after this long. The alarm itself stays open until a person closes it. */
    restoreAfter: Duration.optional(),
  })
  .strict();

/**
 * A kitchen heat ramp: rises at `ratePerMin` to `peak`, holds, then cools at `coolPerMin`.
 * The defaults cross both kitchen rules of DOMAIN.md: ≥ 8 °C/min for a minute and 54 °C.
 */
export const KitchenOverheatFault = z
  .object({
    type: z.literal('kitchen-overheat'),
    ...common,
    peak: z.number().min(30).max(400).default(70),
    ratePerMin: z.number().positive().max(200).default(10),
    hold: Duration.default(600_000),
    coolPerMin: z.number().positive().max(200).default(2),
    /** Report interval while the ramp lasts: a sensor reports on change. */
    reportEvery: Duration.default(15_000),
    /** Also send an `overheat` event when the ramp crosses `eventAbove` (and `restore` below it). */
    event: z.boolean().default(false),
    eventAbove: z.number().default(54),
  })
  .strict();

/** A gauge loses pressure linearly to `to` MPa over `over`. */
export const ExtinguisherPressureDropFault = z
  .object({
    type: z.literal('extinguisher-pressure-drop'),
    ...common,
    to: z.number().min(0).max(10).default(0.6),
    over: Duration.default(600_000),
    reportEvery: Duration.default(60_000),
    /** Send `low_pressure` on crossing `eventBelow` (default: the medium's lower limit). */
    event: z.boolean().default(true),
    eventBelow: z.number().min(0).max(10).optional(),
    /** Recharged after this long: back to normal, with `restore`. */
    restoreAfter: Duration.optional(),
  })
  .strict();

/**
 * Video quality faults (视频质量诊断): telemetry flags and the matching event, `restore` after `for`.
 * In device mode (`anlian sim --device-mode --camera-listen …`) the simulated ONVIF cameras show
 * the fault itself, and the real gateway's diagnosis finds it.
 */
export const CameraFaultKind = z.enum(['frozen', 'black', 'offline', 'dark', 'bright', 'blurred', 'occluded']);
export type CameraFaultKind = z.infer<typeof CameraFaultKind>;

export const CameraFault = z
  .object({
    type: z.literal('camera'),
    ...common,
    fault: CameraFaultKind,
    for: Duration.optional(),
  })
  .strict();

/** The device stops reporting (dead battery, radio out of range) for `for`, or for good. */
export const SilentDeviceFault = z
  .object({ type: z.literal('silent-device'), ...common, for: Duration.optional() })
  .strict();

/**
 * The gateway's TCP connection dies without DISCONNECT, so the broker publishes its last will
 * [MQTT-3.1.2-8]; it reconnects after `for`. `uplink`: the gateway keeps running and forwards
 * what it queued, events first; `power`: it is off, nothing is measured, uptime restarts.
 */
export const GatewayDropFault = z
  .object({
    type: z.literal('gateway-drop'),
    ...common,
    for: Duration.default(120_000),
    cause: z.enum(['uplink', 'power']).default('uplink'),
  })
  .strict();

/** The next `count` messages of the gateway are each sent twice with the same `seq` (QoS 1 redelivery). */
export const DuplicatesFault = z
  .object({ type: z.literal('duplicates'), ...common, count: z.number().int().min(1).max(100_000).default(10) })
  .strict();

/**
 * A device's (target names a device) or a gateway's clock is off by `offset`; for `for` or for good.
 */
export const ClockSkewFault = z
  .object({ type: z.literal('clock-skew'), ...common, offset: SignedDuration, for: Duration.optional() })
  .strict();

export const ScenarioFault = z.discriminatedUnion('type', [
  FireAlarmFault,
  KitchenOverheatFault,
  ExtinguisherPressureDropFault,
  CameraFault,
  SilentDeviceFault,
  GatewayDropFault,
  DuplicatesFault,
  ClockSkewFault,
]);
export type ScenarioFault = z.infer<typeof ScenarioFault>;
export type FaultType = ScenarioFault['type'];
export const FAULT_TYPES = ScenarioFault.options.map((o) => o.shape.type.value) as readonly FaultType[];

const Localized = z.object({ zh: z.string().min(1).max(500), en: z.string().min(1).max(2000) }).strict();

/** When the simulated clock starts: an instant (ISO 8601 with offset) or a local time of day. */
export type ScenarioStart = { instantMs: number } | { localTime: LocalTimeOfDay };

/** `11:20` (local time of day) or `2026-11-23T11:20+08:00` (an instant; the zone is required). */
export function parseStart(text: string): ScenarioStart | undefined {
  const t = parseTimeOfDay(text);
  if (t) return { localTime: t };
  // An instant needs its zone: a bare `2026-11-23T11:00` would silently use the host's zone.
  const v = text.trim();
  if (/(?:Z|[+-]\d{2}:?\d{2})$/.test(v) && !Number.isNaN(Date.parse(v))) return { instantMs: Date.parse(v) };
  return undefined;
}

const Start = z.string().transform((v, ctx): ScenarioStart => {
  const start = parseStart(v);
  if (start) return start;
  ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} is neither 11:20 nor 2026-11-23T11:20+08:00` });
  return z.NEVER;
});

/** A drill scenario file: faults scheduled on the simulated clock. */
export const Scenario = z
  .object({
    $schema: z.string().optional(),
    title: Localized,
    description: Localized,
    /** Suggested simulated start; `--start` overrides it. */
    start: Start.optional(),
    /** Suggested speed; `--speed` overrides it. */
    speed: z.number().positive().max(10_000).optional(),
    /** Suggested seed; `--seed` overrides it. */
    seed: z.number().int().min(0).max(0xffff_ffff).optional(),
    /** How long a drill keeps running after the last fault, for alerts and escalations to play out. */
    settle: Duration.default(120_000),
    faults: z.array(ScenarioFault).min(1).max(10_000),
  })
  .strict();
export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;
