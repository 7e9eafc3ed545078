import type { CountyConfig, DeviceKind } from '@anlian/protocol';

/** A gateway's status change, as ingest stores it (`gateway`, type `status`). */
export interface HistoryStatusChange {
  at: number;
  institution: string;
  gateway: string;
  state: 'online' | 'offline';
  reason: 'connect' | 'will';
}

/** A device event, as ingest stores it (measurement = kind, type `event`). */
export interface HistoryDeviceEvent {
  at: number;
  institution: string;
  gateway: string;
  device: string;
  kind: DeviceKind;
  event: string;
  /** Set for a drill's alarm (design.md: `drillId` is a field, not a tag). */
  drillId?: string;
}

export type HistoryAlertStatus = 'open' | 'acknowledged' | 'verified' | 'closed';

export interface HistoryTransition {
  seq: number;
  at: number;
  from: HistoryAlertStatus | null;
  to: HistoryAlertStatus;
  actor: string;
  verdict?: string;
}

/** One record of a push, as alerting's delivery log keeps it. */
export interface HistoryDelivery {
  deliveryId: string;
  notificationId: string;
  attempt: number;
  status: 'sent' | 'retrying' | 'failed' | 'gave_up' | 'skipped';
  channelId: string;
  channelType: string;
  contactId?: string;
  at: number;
  latencyMs?: number;
  error?: string;
}

/** An alert with its whole workflow, closed before the history ends. */
export interface HistoryAlert {
  id: string;
  key: string;
  rule: string;
  nameZh: string;
  nameEn: string;
  severity: 'critical' | 'major' | 'minor' | 'info';
  resolve: 'auto' | 'manual';
  institution: string;
  gateway: string;
  device?: string;
  deviceKind?: DeviceKind;
  reason: string;
  openedAt: number;
  clearedAt?: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  verifiedAt?: number;
  verifiedBy?: string;
  verdict?: string;
  closedAt: number;
  closedBy: string;
  escalationLevel: number;
  drillId?: string;
  transitions: HistoryTransition[];
  deliveries: HistoryDelivery[];
}

export interface HistoryDrill {
  id: string;
  name: string;
  institutions: string[];
  startsAt: number;
  endsAt: number;
  author: string;
}

/** A stretch in which a device reported nothing: its last report at `lastReportAt`, the next at `resumeAt`. */
export interface HistoryDeviceOutage {
  institution: string;
  gateway: string;
  device: string;
  kind: DeviceKind;
  intervalMs: number;
  lastReportAt: number;
  resumeAt: number;
}

export interface HistoryGatewayOutage {
  institution: string;
  gateway: string;
  from: number;
  to: number;
}

/**
 * A simulated stretch of a county's history (design.md, Simulated time): what its gateways and
 * devices did and what people did about it, deterministic for the county, seed and period. Every
 * record belongs to the simulation run `runId`: InfluxDB points carry the tag `sim_run`, store
 * records the column `sim_run`.
 */
export interface SimulatedHistory {
  runId: string;
  county: CountyConfig;
  seed: number;
  fromMs: number;
  toMs: number;
  description: string;
  statusChanges: HistoryStatusChange[];
  deviceEvents: HistoryDeviceEvent[];
  alerts: HistoryAlert[];
  drills: HistoryDrill[];
  deviceOutages: HistoryDeviceOutage[];
  gatewayOutages: HistoryGatewayOutage[];
}
