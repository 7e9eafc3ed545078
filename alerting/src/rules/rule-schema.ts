import {
  CameraEventType,
  DEVICE_KINDS,
  DeviceKind,
  ElectricalEventType,
  ExtinguisherEventType,
  FireEventType,
  KitchenEventType,
  LocalizedName,
  PressureMedium,
  ResolvePolicy,
  SegmentId,
  Severity,
} from '@anlian/protocol';
import { z } from 'zod';

/**
 * Alert rules are data, not code: every rule is one of the kinds below, validated here, so a
 * county can change thresholds per institution and per device without a release (issue 4).
 */

// Severity, resolve policy and localized names are the alert model's (protocol).
export { LocalizedName, ResolvePolicy, Severity };

/** Rule ids share the topic-segment alphabet, so `rule:gateway/device` alert keys stay unambiguous. */
export const RuleId = SegmentId;

/** Event types each device kind can send (protocol `…/event` payloads). */
export const EVENT_TYPES_BY_KIND: Readonly<Record<DeviceKind, readonly string[]>> = {
  fire: FireEventType.options,
  extinguisher: ExtinguisherEventType.options,
  kitchen: KitchenEventType.options,
  camera: CameraEventType.options,
  electrical: ElectricalEventType.options,
};
const ALL_EVENT_TYPES = [...new Set(Object.values(EVENT_TYPES_BY_KIND).flat())] as [string, ...string[]];
export const RuleEventType = z.enum(ALL_EVENT_TYPES);

/** Numeric telemetry fields a threshold, duration or rate-of-rise rule can watch. */
export const NumericField = z.enum([
  'temperature',
  'pressure',
  'gasLel',
  'smoke',
  'battery',
  'signal',
  'fps',
  'bitrateKbps',
  'residualCurrent',
  'cableTemperature',
]);
export type NumericField = z.infer<typeof NumericField>;

/** Which numeric fields each kind's telemetry carries (checked against the protocol schemas in tests). */
export const NUMERIC_FIELDS_BY_KIND: Readonly<Record<DeviceKind, readonly NumericField[]>> = {
  fire: ['temperature', 'smoke', 'battery', 'signal'],
  extinguisher: ['pressure', 'temperature', 'battery', 'signal'],
  kitchen: ['temperature', 'gasLel', 'battery', 'signal'],
  camera: ['fps', 'bitrateKbps'],
  electrical: ['residualCurrent', 'cableTemperature', 'battery', 'signal'],
};

export const RuleScope = z
  .object({
    kinds: z.array(DeviceKind).min(1).max(DEVICE_KINDS.length),
    /** Only for `extinguisher` gauges: what the gauge is on (dry powder, sprinkler, hydrant). */
    medium: PressureMedium.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (new Set(s.kinds).size !== s.kinds.length) {
      ctx.addIssue({ code: 'custom', message: 'kinds are listed more than once', path: ['kinds'] });
    }
    if (s.medium !== undefined && !(s.kinds.length === 1 && s.kinds[0] === 'extinguisher')) {
      ctx.addIssue({
        code: 'custom',
        message: 'medium is only for pressure gauges: set kinds to [extinguisher]',
        path: ['medium'],
      });
    }
  });
export type RuleScope = z.infer<typeof RuleScope>;

const ALL_KINDS_SCOPE: RuleScope = { kinds: [...DEVICE_KINDS] };

const ruleBase = {
  id: RuleId,
  name: LocalizedName,
  description: z.string().max(500).optional(),
  severity: Severity,
  /** Device kinds (and gauge medium) the rule applies to; all kinds when left out. */
  scope: RuleScope.default(ALL_KINDS_SCOPE),
  resolve: ResolvePolicy,
  enabled: z.boolean().default(true),
};

type Ctx = z.core.$RefinementCtx;

function checkEventsForKinds(
  kinds: readonly DeviceKind[],
  events: readonly string[],
  field: 'events' | 'clearOn',
  ctx: Ctx,
): void {
  events.forEach((event, i) => {
    const missing = kinds.filter((k) => !EVENT_TYPES_BY_KIND[k].includes(event));
    if (missing.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: [field, i],
        message: `"${event}" is not an event of ${missing.join(', ')} devices (${missing
          .map((k) => `${k}: ${EVENT_TYPES_BY_KIND[k].join(', ')}`)
          .join('; ')})`,
      });
    }
  });
}

/** True when the rule matches the GB 26875.1 fire alarm: a `fire` event from a `fire` device. */
export function coversFireAlarm(rule: { kind: string; scope?: RuleScope; events?: readonly string[] }): boolean {
  return (
    rule.kind === 'event' && (rule.scope?.kinds.includes('fire') ?? false) && (rule.events?.includes('fire') ?? false)
  );
}

/**
 * Whether a rule raises fire alarms, which no silence ever covers (issue 13): the GB 26875.1 fire
 * alarm itself (`coversFireAlarm`: whatever a rule file says, its schema keeps it critical, manual
 * and enabled), and every other rule that is critical and closed only by a person — a kitchen heat,
 * rate-of-rise, gas or detector alarm that somebody must go and verify (DOMAIN.md, GB 25201).
 * Derived from what the rule does, never a field of its own, so no rule file can switch it off for
 * the fire alarm. Maintenance is what a device's `disabled` (屏蔽) event is for, not a silence.
 */
export function isFireRule(rule: {
  kind: string;
  severity?: Severity;
  resolve?: ResolvePolicy;
  scope?: RuleScope;
  events?: readonly string[];
}): boolean {
  return coversFireAlarm(rule) || (rule.severity === 'critical' && rule.resolve === 'manual');
}

/**
 * A discrete device event raises an alert: `fire`/`fire` is the critical fire alarm. With
 * `resolve: auto`, the events in `clearOn` (usually `restore`) clear it.
 */
export const EventRule = z
  .object({
    ...ruleBase,
    kind: z.literal('event'),
    events: z.array(RuleEventType).min(1).max(16),
    clearOn: z.array(RuleEventType).max(16).default([]),
  })
  .strict()
  .superRefine((r, ctx) => {
    checkEventsForKinds(r.scope.kinds, r.events, 'events', ctx);
    checkEventsForKinds(r.scope.kinds, r.clearOn, 'clearOn', ctx);
    const both = r.clearOn.filter((e) => r.events.includes(e));
    if (both.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['clearOn'], message: `${both.join(', ')} both raises and clears` });
    }
    if (r.resolve === 'manual' && r.clearOn.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['clearOn'],
        message: 'a manual rule is closed by a person, never by a device event: remove clearOn or set resolve: auto',
      });
    }
    // DOMAIN.md: a recovering detector never closes a fire alarm; GB 26875.1: it must always arrive.
    if (coversFireAlarm(r)) {
      if (r.resolve !== 'manual') {
        ctx.addIssue({ code: 'custom', path: ['resolve'], message: 'a fire alarm rule must be resolve: manual' });
      }
      if (r.severity !== 'critical') {
        ctx.addIssue({ code: 'custom', path: ['severity'], message: 'a fire alarm rule must be critical' });
      }
      if (!r.enabled) {
        ctx.addIssue({ code: 'custom', path: ['enabled'], message: 'a fire alarm rule cannot be disabled' });
      }
    }
  });
export type EventRule = z.infer<typeof EventRule>;

/** `>`/`>=` watch an upper limit, `<`/`<=` a lower one. */
export const Comparison = z.enum(['>', '>=', '<', '<=']);
export type Comparison = z.infer<typeof Comparison>;

export function isUpperLimit(op: Comparison): boolean {
  return op === '>' || op === '>=';
}

const conditionFields = {
  field: NumericField,
  op: Comparison,
  /** The condition is entered when `value op raise`. */
  raise: z.number(),
  /**
   * Hysteresis: the condition is left only when the value is strictly past `clear` (below it for
   * an upper limit, above it for a lower one). Defaults to `raise`. Values between the two keep
   * the current state, so a reading hovering at the limit does not flap.
   */
  clear: z.number().optional(),
};

function checkCondition(
  r: { scope: RuleScope; field: NumericField; op: Comparison; raise: number; clear?: number | undefined },
  ctx: Ctx,
): void {
  const missing = r.scope.kinds.filter((k) => !NUMERIC_FIELDS_BY_KIND[k].includes(r.field));
  if (missing.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['field'],
      message: `${missing.join(', ')} telemetry has no numeric "${r.field}" (${missing
        .map((k) => `${k}: ${NUMERIC_FIELDS_BY_KIND[k].join(', ')}`)
        .join('; ')})`,
    });
  }
  if (r.clear === undefined) return;
  if (isUpperLimit(r.op) && r.clear > r.raise) {
    ctx.addIssue({ code: 'custom', path: ['clear'], message: `for op ${r.op}, clear must be ≤ raise (${r.raise})` });
  }
  if (!isUpperLimit(r.op) && r.clear < r.raise) {
    ctx.addIssue({ code: 'custom', path: ['clear'], message: `for op ${r.op}, clear must be ≥ raise (${r.raise})` });
  }
}

/** A telemetry value past a limit raises at once; it clears past `clear` (hysteresis). */
export const ThresholdRule = z
  .object({ ...ruleBase, kind: z.literal('threshold'), ...conditionFields })
  .strict()
  .superRefine(checkCondition);
export type ThresholdRule = z.infer<typeof ThresholdRule>;

/** Like `threshold`, but the raise condition must hold for `forS` seconds first. */
export const DurationRule = z
  .object({
    ...ruleBase,
    kind: z.literal('duration'),
    ...conditionFields,
    forS: z.number().int().min(1).max(86_400),
  })
  .strict()
  .superRefine(checkCondition);
export type DurationRule = z.infer<typeof DurationRule>;

/**
 * A field rising at ≥ `risePerMin` per minute, sustained across `windowS` seconds (EN 54-5 / GB 4716
 * class R: a fast rise alarms before the static threshold). "Sustained" means every one of the
 * `segments` equal parts of the window rises at that rate and holds at least one sample, so a
 * single spike or one jump between two sparse reports does not raise.
 */
export const RateOfRiseRule = z
  .object({
    ...ruleBase,
    kind: z.literal('rate-of-rise'),
    field: NumericField,
    risePerMin: z.number().positive(),
    windowS: z.number().int().min(10).max(3600).default(60),
    segments: z.number().int().min(2).max(12).default(3),
    /** An `auto` alert clears when the rise over the whole window falls below this; default risePerMin / 2. */
    clearPerMin: z.number().optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const missing = r.scope.kinds.filter((k) => !NUMERIC_FIELDS_BY_KIND[k].includes(r.field));
    if (missing.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['field'], message: `${missing.join(', ')} telemetry has no "${r.field}"` });
    }
    if (r.clearPerMin !== undefined && r.clearPerMin >= r.risePerMin) {
      ctx.addIssue({ code: 'custom', path: ['clearPerMin'], message: 'clearPerMin must be below risePerMin' });
    }
  });
export type RateOfRiseRule = z.infer<typeof RateOfRiseRule>;

/** The contract's heartbeat period (protocol `HeartbeatPayload`: every 30 s). */
export const DEFAULT_HEARTBEAT_INTERVAL_S = 30;

/**
 * Silence raises: `subject: device` after `missed` × the device's expected report interval (the
 * rule's `intervalS` if set, else the device's configured interval, else the protocol default
 * per kind); `subject: gateway` after `missed` heartbeats (`intervalS`, default 30 s), or at once
 * on the gateway's `status offline` (its last will) when `onWill` (default true). Any report clears.
 */
export const AbsenceRule = z
  .object({
    ...ruleBase,
    kind: z.literal('absence'),
    subject: z.enum(['device', 'gateway']),
    missed: z.number().int().min(1).max(100).default(3),
    intervalS: z.number().int().min(1).max(86_400).optional(),
    onWill: z.boolean().optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.subject === 'device' && r.onWill !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['onWill'], message: 'onWill is only for subject: gateway' });
    }
    if (r.subject === 'gateway' && r.scope.medium !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['scope', 'medium'], message: 'a gateway rule has no gauge medium' });
    }
  });
export type AbsenceRule = z.infer<typeof AbsenceRule>;

/**
 * While a gateway is offline by the `source` rule (an absence rule with subject gateway), the
 * device rules in `suppress` (absence rules with subject device) do not raise for the devices
 * behind that gateway: one "institution blind" alert instead of one per device. It raises
 * nothing itself, so it carries no severity or resolve policy.
 */
export const InhibitionRule = z
  .object({
    id: RuleId,
    name: LocalizedName,
    description: z.string().max(500).optional(),
    kind: z.literal('inhibition'),
    enabled: z.boolean().default(true),
    source: RuleId,
    suppress: z.array(RuleId).min(1).max(32),
  })
  .strict();
export type InhibitionRule = z.infer<typeof InhibitionRule>;

export const Rule = z.discriminatedUnion('kind', [
  EventRule,
  ThresholdRule,
  DurationRule,
  RateOfRiseRule,
  AbsenceRule,
  InhibitionRule,
]);
export type Rule = z.infer<typeof Rule>;
export type RuleInput = z.input<typeof Rule>;
export type RuleKind = Rule['kind'];
/** Rules that raise alerts themselves (all but inhibition). */
export type AlertingRule = Exclude<Rule, InhibitionRule>;

/**
 * Changes to rules for one institution, or one device (`gateway` + `device`; device ids are
 * unique per gateway). `rules` maps a rule id to the fields to change, e.g. `{ raise: 55 }`;
 * the merged rule is validated as a whole. Precedence: device > institution > default.
 */
export const RuleOverride = z
  .object({
    institution: SegmentId,
    gateway: SegmentId.optional(),
    device: SegmentId.optional(),
    note: z.string().max(500).optional(),
    rules: z.record(RuleId, z.record(z.string(), z.unknown())),
  })
  .strict()
  .superRefine((o, ctx) => {
    if ((o.gateway === undefined) !== (o.device === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [o.gateway === undefined ? 'gateway' : 'device'],
        message: 'a device override names both gateway and device (device ids are unique per gateway)',
      });
    }
  });
export type RuleOverride = z.infer<typeof RuleOverride>;
export type RulePatch = RuleOverride['rules'][string];

/** A rule file: rules that replace (same id) or extend the defaults, and overrides. */
export const RuleFileShape = z
  .object({
    $schema: z.string().optional(),
    $comment: z.string().optional(),
    rules: z.array(Rule).max(1000).default([]),
    overrides: z.array(RuleOverride).max(100_000).default([]),
  })
  .strict();
export type RuleFile = z.infer<typeof RuleFileShape>;

/** The complete, validated rules an engine runs: every rule plus every override. */
export interface RuleSet {
  readonly rules: readonly Rule[];
  readonly overrides: readonly RuleOverride[];
}
