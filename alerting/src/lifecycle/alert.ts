import { DeviceKind } from '@anlian/protocol';
import { z } from 'zod';
import { LocalizedName, ResolvePolicy, Severity } from '../rules/rule-schema.js';

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

/** What changed, for the dashboard's socket.io and anything else listening in-process. */
export interface AlertChange {
  type: 'raised' | 'updated' | 'closed';
  alert: Alert;
  transition?: AlertTransition;
}

/** The actor of transitions the platform makes by itself. */
export const SYSTEM_ACTOR = 'system';
