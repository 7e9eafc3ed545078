import { z } from 'zod';

/**
 * What the dashboard needs from alerting. The real alert service (`@anlian/alerting`) is made to
 * fit this port; tests and the stand-alone dashboard use `InMemoryAlerts`. The zod schemas are
 * the HTTP and socket.io contract as well, so what the port returns is what clients receive.
 */

export const AlertStatus = z.enum(['open', 'acknowledged', 'verified', 'closed']);
export type AlertStatus = z.infer<typeof AlertStatus>;

export const AlertSeverity = z.enum(['critical', 'warning', 'info']);
export type AlertSeverity = z.infer<typeof AlertSeverity>;

/** GB 25201: a person confirms an alarm as one of these. */
export const AlertVerdict = z.enum(['real_fire', 'false_alarm', 'test', 'device_fault']);
export type AlertVerdict = z.infer<typeof AlertVerdict>;

export const AlertDeviceKind = z.enum(['fire', 'extinguisher', 'kitchen', 'camera']);
export type AlertDeviceKind = z.infer<typeof AlertDeviceKind>;

export const LocalizedText = z.object({ zh: z.string(), en: z.string() });

export const EscalationState = z.object({
  level: z.number().int(),
  nextAt: z.number().optional(),
  state: z.enum(['active', 'stopped', 'done']),
});

export const Alert = z.object({
  id: z.string(),
  key: z.string(),
  rule: z.string(),
  name: LocalizedText,
  severity: AlertSeverity,
  status: AlertStatus,
  verdict: AlertVerdict.optional(),
  drill: z.boolean(),
  drillId: z.string().optional(),
  silenced: z.boolean(),
  county: z.string(),
  institution: z.string(),
  gateway: z.string(),
  device: z.string().optional(),
  deviceKind: AlertDeviceKind.optional(),
  value: z.number().optional(),
  reason: z.string(),
  occurrences: z.number().int(),
  /** Epoch ms, like every time below. */
  openedAt: z.number(),
  lastSeenAt: z.number(),
  acknowledgedAt: z.number().optional(),
  acknowledgedBy: z.string().optional(),
  verifiedAt: z.number().optional(),
  closedAt: z.number().optional(),
  closedBy: z.string().optional(),
  escalation: EscalationState,
});
export type Alert = z.infer<typeof Alert>;

export const AlertTransition = z.object({
  alertId: z.string(),
  at: z.number(),
  from: AlertStatus.nullable(),
  to: AlertStatus,
  actor: z.string(),
  note: z.string().optional(),
  verdict: AlertVerdict.optional(),
});
export type AlertTransition = z.infer<typeof AlertTransition>;

/** One notification attempt; alerting owns its shape beyond these fields, so extra keys pass. */
export const AlertDelivery = z
  .object({
    at: z.number(),
    channel: z.string(),
    recipient: z.string(),
    status: z.string(),
    level: z.number().int().optional(),
    detail: z.string().optional(),
  })
  .loose();
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
  severity?: AlertSeverity;
  kind?: AlertDeviceKind;
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

export const AlertSummary = z.object({
  openByKind: z.record(z.string(), z.number().int()),
  alarmsToday: z.number().int(),
  /** Null while no alert has been acknowledged in the period. */
  meanTimeToAcknowledgeMs: z.number().nullable(),
});
export type AlertSummary = z.infer<typeof AlertSummary>;

export const SilenceScope = z.object({
  institution: z.string().optional(),
  gateway: z.string().optional(),
  device: z.string().optional(),
  rule: z.string().optional(),
});

export const Silence = z.object({
  id: z.string(),
  scope: SilenceScope,
  startsAt: z.number(),
  endsAt: z.number(),
  reason: z.string(),
  author: z.string(),
  createdAt: z.number(),
  expiredAt: z.number().optional(),
});
export type Silence = z.infer<typeof Silence>;

export interface NewSilence {
  scope: z.infer<typeof SilenceScope>;
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
  author: z.string(),
  createdAt: z.number(),
  endedAt: z.number().optional(),
});
export type Drill = z.infer<typeof Drill>;

export interface NewDrill {
  institutions: string[];
  startsAt: number;
  endsAt: number;
  name: string;
  author: string;
}

/** A drill report: the structured figures and the same as CSV for the spreadsheet people. */
export const DrillReport = z.object({ json: z.record(z.string(), z.unknown()), csv: z.string() });
export type DrillReport = z.infer<typeof DrillReport>;

export const EscalationPolicy = z.object({
  levels: z.array(z.object({ afterS: z.number().int().min(0), roles: z.array(z.string().min(1)).min(1) })).min(1),
  repeatEveryS: z.number().int().min(0),
});
export type EscalationPolicy = z.infer<typeof EscalationPolicy>;

export interface AlertChange {
  type: 'raised' | 'updated' | 'cleared';
  alert: Alert;
}

export interface AlertsPort {
  list(filter: AlertFilter): Promise<AlertPage>;
  /** Undefined when there is no such alert. */
  get(id: string): Promise<AlertDetail | undefined>;
  /** Each throws an error with a `code` and `statusCode` 409 when the transition is not allowed. */
  acknowledge(id: string, actor: string, note?: string): Promise<Alert>;
  verify(id: string, actor: string, verdict: AlertVerdict, note?: string): Promise<Alert>;
  close(id: string, actor: string, note?: string): Promise<Alert>;
  summary(county: string, since: number): Promise<AlertSummary>;
  listSilences(): Promise<Silence[]>;
  createSilence(silence: NewSilence): Promise<Silence>;
  expireSilence(id: string, actor: string): Promise<Silence>;
  listDrills(): Promise<Drill[]>;
  createDrill(drill: NewDrill): Promise<Drill>;
  endDrill(id: string, actor: string): Promise<Drill>;
  drillReport(id: string): Promise<DrillReport>;
  getPolicy(institution: string): Promise<EscalationPolicy>;
  setPolicy(institution: string, policy: EscalationPolicy): Promise<EscalationPolicy>;
  /** Returns the unsubscribe function. */
  onChange(listener: (change: AlertChange) => void): () => void;
}

/**
 * The error shape the port's lifecycle errors follow: a catalogue code and an HTTP status
 * (404 unknown alert, 409 transition not allowed). The dashboard maps them to responses as is.
 */
export interface AlertLifecycleErrorLike {
  code: string;
  message: string;
  statusCode?: number;
}

export function isAlertLifecycleError(err: unknown): err is AlertLifecycleErrorLike {
  return (
    typeof err === 'object' &&
    err !== null &&
    typeof (err as { code?: unknown }).code === 'string' &&
    typeof (err as { message?: unknown }).message === 'string'
  );
}
