import type { Database, EpochMs } from '@anlian/store';

/**
 * Alerting's tables (migration `2026-11-23-201-alerting`), beside the registry's in the one
 * operational store. Same conventions: epoch-ms `bigint`s, JSON documents in `text`.
 */
export interface AlertingTables {
  alerts: AlertsTable;
  alert_transitions: AlertTransitionsTable;
  alert_deliveries: AlertDeliveriesTable;
  escalation_policies: EscalationPoliciesTable;
  silences: SilencesTable;
  drills: DrillsTable;
  drill_gateways: DrillGatewaysTable;
  alerting_state: AlertingStateTable;
  duty_checks: DutyChecksTable;
}

export interface DutyChecksTable {
  id: string;
  county_id: string;
  institution_id: string;
  gateway_id: string;
  requested_at: EpochMs;
  requested_by: string;
  source: string;
  answer_window_s: number;
  status: string;
  answered_at: EpochMs | null;
  operator: number | null;
  completed_at: EpochMs | null;
  detail: string | null;
}

/** The operational store as alerting sees it: the registry (contacts, devices) and its own tables. */
export type AlertingDatabase = Database & AlertingTables;

export interface AlertsTable {
  id: string;
  key: string;
  /** `key` while not closed, null once closed (unique: one open alert per key). */
  open_key: string | null;
  rule: string;
  name_zh: string;
  name_en: string;
  severity: string;
  resolve: string;
  status: string;
  verdict: string | null;
  drill_id: string | null;
  silence_id: string | null;
  /** 1 when the device was disabled (屏蔽, under maintenance) as it raised the alert. */
  device_disabled: number | null;
  /** The drill running for the institution when this real (not drill) alert was raised. */
  during_drill_id: string | null;
  county_id: string;
  institution_id: string;
  gateway_id: string;
  device_id: string | null;
  device_kind: string | null;
  value: number | null;
  reason: string;
  occurrences: number;
  opened_at: EpochMs;
  last_seen_at: EpochMs;
  cleared_at: EpochMs | null;
  acknowledged_at: EpochMs | null;
  acknowledged_by: string | null;
  verified_at: EpochMs | null;
  verified_by: string | null;
  closed_at: EpochMs | null;
  closed_by: string | null;
  escalation_level: number;
  escalation_round: number;
  escalation_state: string;
  escalation_next_at: EpochMs | null;
  updated_at: EpochMs;
  /** The simulation run a generated record belongs to; null for live alerts (never shown as live). */
  sim_run: string | null;
}

export interface AlertTransitionsTable {
  alert_id: string;
  seq: number;
  at: EpochMs;
  from_status: string | null;
  to_status: string;
  actor: string;
  note: string | null;
  verdict: string | null;
}

export interface AlertDeliveriesTable {
  delivery_id: string;
  attempt: number;
  status: string;
  notification_id: string;
  alert_id: string;
  channel_id: string;
  channel_type: string;
  contact_id: string | null;
  at: EpochMs;
  error: string | null;
  receipt: string | null;
  latency_ms: number | null;
}

export interface EscalationPoliciesTable {
  institution_id: string;
  policy_json: string;
  updated_at: EpochMs;
  updated_by: string;
}

export interface SilencesTable {
  id: string;
  institution_id: string | null;
  gateway_id: string | null;
  device_id: string | null;
  rule: string | null;
  starts_at: EpochMs;
  ends_at: EpochMs;
  reason: string;
  author: string;
  created_at: EpochMs;
  expired_at: EpochMs | null;
  expired_by: string | null;
}

export interface DrillsTable {
  id: string;
  name: string;
  institutions_json: string;
  starts_at: EpochMs;
  ends_at: EpochMs;
  /** `marker`: the usual recipients, with [演练]; `drill-channels`: only channels that take drills. */
  recipients: string;
  author: string;
  created_at: EpochMs;
  ended_at: EpochMs | null;
  ended_by: string | null;
  /** The simulation run a generated drill belongs to; null for live drills. */
  sim_run: string | null;
}

/** What one gateway answered to a drill's start or stop command (migration 203). */
export interface DrillGatewaysTable {
  drill_id: string;
  gateway_id: string;
  institution_id: string;
  command: string;
  state: string;
  detail: string | null;
  at: EpochMs;
}

export interface AlertingStateTable {
  name: string;
  state_json: string;
  updated_at: EpochMs;
}
