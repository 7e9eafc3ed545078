import type { DeviceKind } from '@anlian/protocol';
import type { LocalizedName, ResolvePolicy, Severity } from '../rules/rule-schema.js';

export interface DeviceSubject {
  type: 'device';
  county: string;
  institution: string;
  gateway: string;
  device: string;
  kind: DeviceKind;
}

export interface GatewaySubject {
  type: 'gateway';
  county: string;
  institution: string;
  gateway: string;
}

/** What an alert is about: one device, or one gateway (and so the institution behind it). */
export type AlertSubject = DeviceSubject | GatewaySubject;

/**
 * What the engine tells the store: `raise` opens an alert, `repeat` is one more occurrence on the
 * open alert with the same key, `clear` closes it because its condition cleared (only for rules
 * with `resolve: auto`; a person closes the others).
 */
export interface AlertSignal {
  type: 'raise' | 'repeat' | 'clear';
  /** One open alert per key: `rule:gateway/device` or `rule:gateway`. */
  key: string;
  /** The rule id. */
  rule: string;
  name: LocalizedName;
  severity: Severity;
  /** `auto`: the alert closes when its condition clears; `manual`: a person closes it. */
  resolve: ResolvePolicy;
  /** A fire alarm (`isFireRule`): no silence covers it. */
  fireRule: boolean;
  subject: AlertSubject;
  /**
   * The device had reported `disabled` (屏蔽, under maintenance) and not `restore` since: its fire
   * alarm is still raised and pushed, marked as such.
   */
  deviceDisabled?: true;
  /**
   * The `drillId` of the message that raised it (protocol: a drill produced it). The service tags
   * the alert as a drill only when this names a drill running for the institution (issue 13).
   */
  drillId?: string;
  /** The measured value behind the signal (°C, MPa, % LEL, °C/min, seconds of silence). */
  value?: number;
  /** County time, ms since epoch: the message's `receivedAt`, or the `now` of a tick. */
  at: number;
  /** For people: what was seen, e.g. `temperature 55 >= 54`. */
  reason: string;
}

/**
 * The key of the one open alert per (rule, subject). Gateway ids are globally unique and device
 * ids unique per gateway (protocol `CountyConfig`); ids cannot contain `:` or `/`, so keys are unambiguous.
 */
export function alertKey(rule: string, subject: AlertSubject): string {
  return subject.type === 'device' ? `${rule}:${subject.gateway}/${subject.device}` : `${rule}:${subject.gateway}`;
}
