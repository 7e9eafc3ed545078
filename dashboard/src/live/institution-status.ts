import type { GatewayStateEntry } from '@anlian/bus';
import { alertLevel } from '../alerts/alert-level.js';
import type { Alert } from '../alerts/alerts-port.js';

/** What the wall screen colours an institution by, worst first. */
export type InstitutionStatus = 'alarm' | 'warning' | 'offline' | 'normal';

/** 风险分级 (seeds 003, 004): red / orange / yellow / blue — 重大 / 较大 / 一般 / 低. */
export type RiskLevel = 'red' | 'orange' | 'yellow' | 'blue';

export interface InstitutionLive {
  id: string;
  status: InstitutionStatus;
  /** An alarm nobody has acknowledged yet: the map pulses. */
  pulse: boolean;
  openAlerts: number;
  gatewaysOnline: number;
  gatewaysTotal: number;
  risk: RiskLevel;
}

/** An alarm-level (critical) alert that still stands: open, acknowledged, or verified as a real fire. */
export function isAlarm(a: Alert): boolean {
  if (alertLevel(a.severity) !== 'alarm' || a.status === 'closed') return false;
  return a.status !== 'verified' || a.verdict === 'real_fire';
}

/** An alert the fire banner flashes for until someone acknowledges it. */
export function isUnacknowledgedFire(a: Alert): boolean {
  return a.status === 'open' && a.severity === 'critical' && (a.deviceKind === 'fire' || a.rule.startsWith('fire'));
}

/**
 * Status of one institution: an alarm beats a warning beats offline. Offline means none of its
 * gateways is online (a gateway never heard from counts as offline); some offline is a warning.
 */
export function institutionLive(
  id: string,
  gatewayIds: readonly string[],
  gatewayState: (id: string) => GatewayStateEntry | undefined,
  openAlerts: readonly Alert[],
): InstitutionLive {
  let alarm = false;
  let pulse = false;
  let warning = false;
  for (const a of openAlerts) {
    if (a.status === 'closed') continue;
    if (isAlarm(a)) {
      alarm = true;
      if (a.status === 'open') pulse = true;
    } else if (alertLevel(a.severity) !== 'info') warning = true;
  }
  let online = 0;
  for (const g of gatewayIds) if (gatewayState(g)?.state === 'online') online++;
  const total = gatewayIds.length;
  let status: InstitutionStatus = 'normal';
  if (alarm) status = 'alarm';
  else if (warning || (online > 0 && online < total)) status = 'warning';
  else if (total > 0 && online === 0) status = 'offline';
  const risk: RiskLevel = alarm ? 'red' : warning ? 'orange' : status === 'offline' ? 'yellow' : 'blue';
  return {
    id,
    status,
    pulse,
    openAlerts: openAlerts.filter((a) => a.status !== 'closed').length,
    gatewaysOnline: online,
    gatewaysTotal: total,
    risk,
  };
}
