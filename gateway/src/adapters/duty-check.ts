import type { DeviceAdapter } from './device-adapter.js';

/** A duty check (查岗, GB/T 26875.3 type 91) as the county asks it. */
export interface DutyCheckRequest {
  /** How long the fire control room has to press the answer key. */
  answerWindowMs: number;
  /** Only the UITD reporting as this device; every UITD of the adapter otherwise. */
  device?: string;
}

/** What became of one UITD's check. */
export interface DutyCheckResult {
  /** The UITD's device id. */
  device: string;
  /** The UITD confirmed the check (its prompt sounds): false when it is not connected or never confirmed. */
  delivered: boolean;
  /** Somebody pressed the answer key (查岗应答, UITD operation bit 5) within the window. */
  answered: boolean;
  /** When the check was sent and, if answered, when (device time; the gateway's clock without one). */
  askedAt: number;
  answeredAt?: number;
  /** The operator number the UITD reported with the answer. */
  operator?: number;
  detail: string;
}

/** An adapter that can put a duty check to a fire control room: the GB/T 26875.3 fire-panel adapter. */
export interface DutyCheckCapable {
  dutyCheck(request: DutyCheckRequest): Promise<DutyCheckResult[]>;
}

export function canDutyCheck(a: DeviceAdapter): a is DeviceAdapter & DutyCheckCapable {
  return typeof (a as Partial<DutyCheckCapable>).dutyCheck === 'function';
}
