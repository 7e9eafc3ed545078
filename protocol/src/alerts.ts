import { z } from 'zod';
import { DeviceKind } from './ids.js';

/**
 * The alert model as it travels between county services (alerting → dashboards, on the
 * county-internal topics and alerting's HTTP API). Alerting owns the lifecycle; everyone else
 * reads these shapes, so they live in the contract.
 */

export const Severity = z.enum(['critical', 'major', 'minor', 'info']);
export type Severity = z.infer<typeof Severity>;

/**
 * `auto`: the alert clears when its condition clears. `manual`: only a person closes it — a
 * recovering detector never closes a fire alarm by itself (DOMAIN.md, GB 25201).
 */
export const ResolvePolicy = z.enum(['auto', 'manual']);
export type ResolvePolicy = z.infer<typeof ResolvePolicy>;

export const LocalizedName = z
  .object({
    zh: z.string().min(1).max(128),
    en: z.string().min(1).max(128),
  })
  .strict();
export type LocalizedName = z.infer<typeof LocalizedName>;

/**
 * open → acknowledged → verified → closed. Verification records what it was (GB 25201: confirm
 * by the fastest means; if false, record the cause).
 */
export const AlertStatus = z.enum(['open', 'acknowledged', 'verified', 'closed']);
export type AlertStatus = z.infer<typeof AlertStatus>;

export const Verdict = z.enum(['real_fire', 'false_alarm', 'test', 'device_fault']);
export type Verdict = z.infer<typeof Verdict>;

/** `active`: the next level is due at `nextAt`; `stopped`: acknowledged; `done`: nothing to escalate. */
export const EscalationState = z.enum(['active', 'stopped', 'done']);
export type EscalationState = z.infer<typeof EscalationState>;

export const Alert = z.object({
  id: z.string(),
  key: z.string(),
  rule: z.string(),
  name: LocalizedName,
  severity: Severity,
  resolve: ResolvePolicy,
  status: AlertStatus,
  verdict: Verdict.optional(),
  drill: z.boolean(),
  drillId: z.string().optional(),
  silenced: z.boolean(),
  silenceId: z.string().optional(),
  /** The device had reported `disabled` (屏蔽, maintenance) when it raised this: pushed all the same. */
  deviceDisabled: z.boolean().optional(),
  /**
   * A real alert (not a drill) raised while this drill ran for the institution: its push says
   * plainly that it is not the drill (非演练).
   */
  duringDrillId: z.string().optional(),
  county: z.string(),
  institution: z.string(),
  gateway: z.string(),
  device: z.string().optional(),
  deviceKind: DeviceKind.optional(),
  value: z.number().optional(),
  reason: z.string(),
  occurrences: z.number().int(),
  openedAt: z.number(),
  lastSeenAt: z.number(),
  /** When the condition cleared; a manual alert (fire) stays open after it. */
  clearedAt: z.number().optional(),
  acknowledgedAt: z.number().optional(),
  acknowledgedBy: z.string().optional(),
  verifiedAt: z.number().optional(),
  verifiedBy: z.string().optional(),
  closedAt: z.number().optional(),
  closedBy: z.string().optional(),
  escalation: z.object({
    level: z.number().int(),
    round: z.number().int(),
    state: EscalationState,
    nextAt: z.number().optional(),
  }),
});
export type Alert = z.infer<typeof Alert>;

export const AlertTransition = z.object({
  alertId: z.string(),
  seq: z.number().int(),
  at: z.number(),
  /** Null for the alert's opening. */
  from: AlertStatus.nullable(),
  to: AlertStatus,
  /** `system` for the engine, else the person (user name) or `drill:<id>`. */
  actor: z.string(),
  note: z.string().optional(),
  verdict: Verdict.optional(),
});
export type AlertTransition = z.infer<typeof AlertTransition>;

export const AlertChangeType = z.enum(['raised', 'updated', 'closed']);
export type AlertChangeType = z.infer<typeof AlertChangeType>;

/**
 * `anlian-county/v1/{county}/alert/{institution}` (QoS 1): one change of one alert, published by
 * the alerting node that owns the alert's institution. `node` names that node; `at` is when it
 * made the change. Consumers keep the change with the highest `alert.lastSeenAt`/transition seq
 * per alert id (a failover may repeat a change; never an older one after a newer one from the
 * same node).
 */
export const AlertChangeMessage = z
  .object({
    v: z.literal(1),
    type: AlertChangeType,
    node: z.string().min(1).max(128),
    at: z.number(),
    alert: Alert,
    transition: AlertTransition.optional(),
  })
  .strict();
export type AlertChangeMessage = z.infer<typeof AlertChangeMessage>;

/**
 * `anlian-county/v1/{county}/alerting/config` (QoS 1): silences, drills or escalation policies
 * changed in the store; every alerting node reloads them at once instead of at its next poll.
 */
export const AlertingConfigChanged = z
  .object({
    v: z.literal(1),
    what: z.enum(['silences', 'drills', 'policies']),
    node: z.string().min(1).max(128),
    at: z.number(),
  })
  .strict();
export type AlertingConfigChanged = z.infer<typeof AlertingConfigChanged>;
