import type { DeviceKind } from '@anlian/protocol';
import type { LocalizedName, Severity } from '../rules/rule-schema.js';

/** One person an escalation level notifies, with the addresses each channel may use. */
export interface Recipient {
  contactId: string;
  name: string;
  /** `manager` | `deputy` | `duty_officer` | …; shown in messages (负责人, 副负责人, 县值班员). */
  role: string;
  /** Mainland mobile number: SMS, and @-mentions in WeCom and DingTalk group bots. */
  phone?: string;
  wecomUserId?: string;
  dingtalkUserId?: string;
  /** Feishu `open_id` / `user_id` for an `<at>` in a group bot message. */
  feishuUserId?: string;
}

/**
 * Alert kinds, and the two of the hazard ledger (@anlian/supervision), which reaches people
 * through the same channels: a hazard past its rectification deadline (to the county duty
 * officer) and a deadline drawing near (to the hazard's owner).
 */
export type NotificationKind =
  | 'raised'
  | 'escalated'
  | 'reminder'
  | 'resolved'
  | 'closed'
  | 'hazard-overdue'
  | 'hazard-due-soon';

/** A hazard's notice rather than an alert's. */
export function isHazardNotice(n: { kind: NotificationKind }): boolean {
  return n.kind === 'hazard-overdue' || n.kind === 'hazard-due-soon';
}

/**
 * What the escalation scheduler asks to be pushed: one alert, one escalation level, its
 * recipients. Built by the alerting service; trusted here (it never crosses a process edge).
 */
export interface AlertNotification {
  /** Stable per (alert, level, round), e.g. `${alertId}/L1R0`: the base of every idempotency key. */
  notificationId: string;
  alertId: string;
  kind: NotificationKind;
  severity: Severity;
  /** Rule id, e.g. `fire-alarm`. */
  rule: string;
  title: LocalizedName;
  /** What was seen, in words for people, e.g. `火警：主楼 3F 301室`. */
  reason: string;
  /** Drill alerts are pushed with a [演练] marker, or only to channels that take drills. */
  drill: boolean;
  /**
   * A drill whose recipients are the drill channels (`recipients: drill-channels`): only
   * channels with `drill: only` take it, so real recipients are not woken by an exercise.
   */
  drillChannelsOnly?: boolean;
  /** The device had reported `disabled` (屏蔽, under maintenance): the alarm is pushed all the same, marked. */
  deviceDisabled?: true;
  /**
   * A real alarm (not a drill) while a drill runs for the institution: the push says plainly that
   * it is not the drill (非演练：真实火警), never [演练].
   */
  realDuringDrill?: true;
  county: string;
  institution: { id: string; name: string };
  location?: { building: string; floor: string; room: string };
  device?: { id: string; kind: DeviceKind; name?: string };
  gateway: string;
  /** ms since epoch: when the alert was raised; for a hazard notice, its rectification deadline. */
  at: number;
  /** Escalation level, 0 = first. */
  level: number;
  recipients: Recipient[];
  /** Occurrences on the open alert so far (repeats). */
  occurrences?: number;
  /** Where to acknowledge: the manager view of this alert. */
  link?: string;
}
