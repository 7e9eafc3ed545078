import { Alert, AlertStatus, AlertTransition, DeviceKind, Severity, Verdict } from '@anlian/protocol';
import { z } from 'zod';
import { DrillGatewayCommand, DrillRecipients } from '../drills/drill.js';
import type { DrillReport } from '../drills/drill-report.js';
import { EscalationPolicy, type EscalationPolicyInput } from '../escalation/escalation-policy.js';
import { SilenceScope } from '../silences/silence.js';

/**
 * Alerting's API, what other services (the dashboard) use: `AlertingApi` and the zod schemas of
 * what it returns. Two implementations: `alertingApiOf(service)` in the same process (`anlian
 * up`), and `AlertingClient` over HTTP to `anlian alerting` (the production form). The alert
 * model itself is the contract's (protocol); what the API returns is what the dashboard's own
 * clients receive.
 *
 * This module and the client import nothing of the engine, the store or the notifiers: it is what
 * `@anlian/alerting/client` exports.
 */

export type { DrillReport, EscalationPolicyInput };
export { Alert, AlertStatus, AlertTransition, EscalationPolicy, SilenceScope };

/** critical / major / minor / info; the screens show them as levels. */
export const AlertSeverity = Severity;
export type AlertSeverity = Severity;

/** GB 25201: a person confirms an alarm as one of these. */
export const AlertVerdict = Verdict;
export type AlertVerdict = Verdict;

export const AlertDeviceKind = DeviceKind;
export type AlertDeviceKind = DeviceKind;

/**
 * One attempt (or decision not to attempt) of one notification delivery: the notifiers'
 * `DeliveryRecord`, field for field (`src/notify/delivery-log.ts`).
 */
export const AlertDelivery = z.object({
  deliveryId: z.string(),
  notificationId: z.string(),
  alertId: z.string(),
  channelId: z.string(),
  channelType: z.string(),
  contactId: z.string().optional(),
  attempt: z.number().int(),
  status: z.enum(['sent', 'failed', 'retrying', 'gave_up', 'skipped']),
  at: z.number(),
  error: z.string().optional(),
  receipt: z.string().optional(),
  latencyMs: z.number().optional(),
  nextAttemptAt: z.number().optional(),
  drill: z.boolean().optional(),
});
export type AlertDelivery = z.infer<typeof AlertDelivery>;

export const AlertDetail = z.object({
  alert: Alert,
  transitions: z.array(AlertTransition),
  deliveries: z.array(AlertDelivery),
});
export type AlertDetail = z.infer<typeof AlertDetail>;

export interface AlertFilter {
  institution?: string;
  status?: AlertStatus[];
  severity?: AlertSeverity[];
  /** Verified as one of these (GB 25201); alerts nobody verified have no verdict. */
  verdict?: AlertVerdict[];
  /** A device kind, or `gateway` for the gateway's own alerts (offline: the institution is blind). */
  kind?: AlertDeviceKind | 'gateway';
  drill?: boolean;
  /** `openedAt` at or after, epoch ms. */
  from?: number;
  /** `openedAt` before, epoch ms. */
  to?: number;
  limit?: number;
  /** Opaque, from the previous page's `nextCursor`. */
  cursor?: string;
}

export const AlertPage = z.object({ alerts: z.array(Alert), nextCursor: z.string().optional() });
export type AlertPage = z.infer<typeof AlertPage>;

/** A county's alert figures for the wall screen. Drill alerts are left out. */
export const AlertSummary = z.object({
  openByKind: z.record(z.string(), z.number().int()),
  /** Alerts opened since the given time (the start of the county's day). */
  alarmsToday: z.number().int(),
  /** Null while no alert has been acknowledged in the period. */
  meanTimeToAcknowledgeMs: z.number().nullable(),
});
export type AlertSummary = z.infer<typeof AlertSummary>;

export const Silence = z.object({
  id: z.string(),
  scope: SilenceScope,
  startsAt: z.number(),
  endsAt: z.number(),
  reason: z.string(),
  author: z.string(),
  createdAt: z.number(),
  expiredAt: z.number().optional(),
  expiredBy: z.string().optional(),
});
export type Silence = z.infer<typeof Silence>;

export interface NewSilence {
  scope: SilenceScope;
  startsAt: number;
  endsAt: number;
  reason: string;
  author: string;
}

export const Drill = z.object({
  id: z.string(),
  name: z.string(),
  institutions: z.array(z.string()),
  startsAt: z.number(),
  endsAt: z.number(),
  recipients: DrillRecipients,
  author: z.string(),
  createdAt: z.number(),
  endedAt: z.number().optional(),
  endedBy: z.string().optional(),
  /** What each of its gateways answered to `cmd/drill-start` and `cmd/drill-stop` (issue 13). */
  gateways: z.array(DrillGatewayCommand).optional(),
});
export type Drill = z.infer<typeof Drill>;

export interface NewDrill {
  institutions: string[];
  startsAt: number;
  endsAt: number;
  name: string;
  /** Default `marker`: the usual recipients, every push prefixed with [演练]. */
  recipients?: DrillRecipients;
  author: string;
}

/** A drill's scores (alerting's `DrillReport`) and the same as CSV: UTF-8 with a BOM, for Excel. */
export interface DrillReportDocument {
  report: DrillReport;
  csv: string;
}

/**
 * A notice another service asks alerting to push through the county's channels (issue 16: an
 * overdue hazard goes to the county duty officer "through the existing notification channels").
 * Alerting resolves the recipients from the institution's contacts (by role, or by contact id)
 * and dispatches it like an alert notification of kind `kind`, never critical. `id` is the
 * notification id: the same id is delivered once.
 */
export const Notice = z.object({
  id: z.string().min(1).max(200),
  kind: z.enum(['hazard-overdue', 'hazard-due-soon']),
  institution: z.string().min(1).max(64),
  /** What the notice is about, e.g. `hazard:hz_…`; the delivery log's alert id. */
  subject: z.string().min(1).max(200),
  title: z.string().min(1).max(200),
  reason: z.string().max(1000),
  /** The time the notice is about: a hazard's rectification deadline. */
  at: z.number().int(),
  /** 1, 2, … for repeated escalations; 0 for a reminder. */
  round: z.number().int().min(0),
  to: z.object({
    roles: z.array(z.string().min(1).max(32)).max(10).default([]),
    contacts: z.array(z.string().min(1).max(64)).max(20).default([]),
  }),
  link: z.string().max(2000).optional(),
});
export type Notice = z.infer<typeof Notice>;
export type NoticeInput = z.input<typeof Notice>;

export const NoticeReceipt = z.object({ id: z.string(), recipients: z.number().int() });
export type NoticeReceipt = z.infer<typeof NoticeReceipt>;

export interface AlertChange {
  type: 'raised' | 'updated' | 'cleared';
  alert: Alert;
  /** The lifecycle step, when the change is one (raised, acknowledged, verified, closed). */
  transition?: AlertTransition;
}

export interface AlertingApi {
  list(filter: AlertFilter): Promise<AlertPage>;
  /** Every alert that is not closed, drills included: what the live screens start from. */
  openAlerts(): Promise<Alert[]>;
  /** Undefined when there is no such alert. */
  get(id: string): Promise<AlertDetail | undefined>;
  /**
   * Each throws an error with a `code` and a `statusCode`: 404 for an unknown alert, 409 when the
   * transition is not allowed (`isAlertLifecycleError`).
   */
  acknowledge(id: string, actor: string, note?: string): Promise<Alert>;
  verify(id: string, actor: string, verdict: AlertVerdict, note?: string): Promise<Alert>;
  close(id: string, actor: string, note?: string): Promise<Alert>;
  summary(county: string, since: number): Promise<AlertSummary>;
  /** Silences, the ended ones included, newest first. */
  listSilences(): Promise<Silence[]>;
  createSilence(silence: NewSilence): Promise<Silence>;
  expireSilence(id: string, actor: string): Promise<Silence>;
  listDrills(): Promise<Drill[]>;
  createDrill(drill: NewDrill): Promise<Drill>;
  endDrill(id: string, actor: string): Promise<Drill>;
  drillReport(id: string): Promise<DrillReportDocument>;
  getPolicy(institution: string): Promise<EscalationPolicy>;
  setPolicy(institution: string, policy: EscalationPolicyInput, author: string): Promise<EscalationPolicy>;
  /** Pushes a notice (an overdue hazard, a deadline reminder) through the county's channels. */
  sendNotice(notice: NoticeInput): Promise<NoticeReceipt>;
  /** Returns the unsubscribe function. */
  onChange(listener: (change: AlertChange) => void): () => void;
}

/**
 * The error shape the port's lifecycle errors follow: a catalogue code (`ANL_ALERT_…`) and an
 * HTTP status (404 unknown alert, 409 transition not allowed, 400 invalid request). The
 * dashboard answers them as they are.
 */
export interface AlertLifecycleErrorLike {
  code: string;
  message: string;
  statusCode?: number;
  /** Fields of the request refused, dotted paths into the body (`scope.rule`). */
  issues?: readonly { path: string; message: string }[];
}

export function isAlertLifecycleError(err: unknown): err is AlertLifecycleErrorLike {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    typeof (err as { message?: unknown }).message === 'string'
  );
}
