import { DeviceKind } from '@anlian/protocol';
import { z } from 'zod';
import { Severity } from '../rules/rule-schema.js';

/**
 * The engine's state as plain JSON: what the alert store persists so that a restart neither
 * forgets an open alert nor re-raises one, and time-based rules continue where they were.
 * All times are county ms since epoch, except the device times noted.
 */

const Id = z.string().min(1).max(128);
const Time = z.number();

export const DeviceSubjectState = z
  .object({
    type: z.literal('device'),
    county: Id,
    institution: Id,
    gateway: Id,
    device: Id,
    kind: DeviceKind,
  })
  .strict();

export const GatewaySubjectState = z
  .object({ type: z.literal('gateway'), county: Id, institution: Id, gateway: Id })
  .strict();

export const SubjectState = z.discriminatedUnion('type', [DeviceSubjectState, GatewaySubjectState]);

/** One alert the engine believes open (until it clears it, or the store reports it closed). */
export const OpenAlertState = z
  .object({
    key: z.string().min(1),
    rule: Id,
    severity: Severity,
    subject: SubjectState,
    raisedAt: Time,
    lastAt: Time,
    /** The raise plus every repeat. */
    occurrences: z.number().int().min(1),
  })
  .strict();
export type OpenAlertState = z.infer<typeof OpenAlertState>;

/**
 * The latch of one stateful rule for one subject: threshold hysteresis, a pending duration,
 * a rate-of-rise window, an absence already raised. Separate from the open alert, so a
 * manual alert closed by a person is not raised again until its condition clears and returns.
 */
export const ConditionState = z
  .object({
    key: z.string().min(1),
    rule: Id,
    subject: SubjectState,
    active: z.boolean(),
    /** Duration rules: device time of the first sample of the pending condition. */
    since: Time.optional(),
    /** Duration rules: county time that sample arrived (for ticks without new samples). */
    sinceAt: Time.optional(),
    /** Last value seen for the condition. */
    value: z.number().optional(),
    /** Rate-of-rise rules: [device time, value] samples of the window and one anchor before it. */
    samples: z
      .array(z.tuple([z.number(), z.number()]))
      .max(10_000)
      .optional(),
  })
  .strict();
export type ConditionState = z.infer<typeof ConditionState>;

export const DeviceSeenState = z
  .object({
    county: Id,
    institution: Id,
    gateway: Id,
    device: Id,
    kind: DeviceKind,
    /** County time of the last report of any kind: the absence rules' clock. */
    lastSeen: Time,
    /** Device time of the newest telemetry: older samples (store-and-forward replays) do not drive conditions. */
    lastTs: Time.optional(),
    /** Watched for absence: registered devices only. */
    watched: z.boolean(),
    /** Its last state event was `disabled` (屏蔽, under maintenance), not `restore`d since. */
    disabled: z.boolean().optional(),
  })
  .strict();
export type DeviceSeenState = z.infer<typeof DeviceSeenState>;

export const GatewaySeenState = z
  .object({
    county: Id,
    institution: Id,
    gateway: Id,
    /** County time of the last message of any kind through this gateway. */
    lastSeen: Time,
    /** Declared offline (last will or missed heartbeats) and not heard from since. */
    down: z.boolean(),
  })
  .strict();
export type GatewaySeenState = z.infer<typeof GatewaySeenState>;

export const ENGINE_SNAPSHOT_VERSION = 1 as const;

export const EngineSnapshot = z
  .object({
    version: z.literal(ENGINE_SNAPSHOT_VERSION),
    /** County time the snapshot was taken; `restore` does not count the downtime after it as silence. */
    takenAt: Time,
    alerts: z.array(OpenAlertState),
    conditions: z.array(ConditionState),
    devices: z.array(DeviceSeenState),
    gateways: z.array(GatewaySeenState),
  })
  .strict();
export type EngineSnapshot = z.infer<typeof EngineSnapshot>;
