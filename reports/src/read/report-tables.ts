import type { Database, EpochMs } from '@anlian/store';

/**
 * The columns of alerting's tables that reports read — a read model of our own over the shared
 * store (alerting/src/store/alerting-schema.ts owns the tables; reports never import alerting).
 */
export interface ReportAlertsTable {
  id: string;
  rule: string;
  severity: string;
  status: string;
  verdict: string | null;
  drill_id: string | null;
  county_id: string;
  institution_id: string;
  gateway_id: string;
  device_id: string | null;
  device_kind: string | null;
  opened_at: EpochMs;
  cleared_at: EpochMs | null;
  acknowledged_at: EpochMs | null;
  verified_at: EpochMs | null;
  closed_at: EpochMs | null;
  escalation_level: number;
  sim_run: string | null;
}

export interface ReportDeliveriesTable {
  delivery_id: string;
  attempt: number;
  status: string;
  alert_id: string;
  channel_type: string;
  at: EpochMs;
}

export interface ReportDrillsTable {
  id: string;
  name: string;
  institutions_json: string;
  starts_at: EpochMs;
  ends_at: EpochMs;
  ended_at: EpochMs | null;
  sim_run: string | null;
}

/** The store as the reports see it: the registry, alerting's tables (read), and their own archive. */
export interface ReportReadDatabase extends Database {
  alerts: ReportAlertsTable;
  alert_deliveries: ReportDeliveriesTable;
  drills: ReportDrillsTable;
}
