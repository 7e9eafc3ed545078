import { z } from 'zod';

/**
 * A hazard (隐患) and its closed loop (seed 000: 台账销号; seeds 001 and 004: 隐患、整改、责任
 * "三个清单"): found → assigned → rectifying → submitted → reviewed → closed. A review that sends
 * the work back returns the hazard to `rectifying` with the reason.
 */
export const HazardStatus = z.enum(['found', 'assigned', 'rectifying', 'submitted', 'reviewed', 'closed']);
export type HazardStatus = z.infer<typeof HazardStatus>;

/** 一般隐患 / 重大隐患 (the Ministry of Civil Affairs' 2023 standard defines the major ones). */
export const HazardSeverity = z.enum(['general', 'major']);
export type HazardSeverity = z.infer<typeof HazardSeverity>;

/** Found by the platform (an automatic source), on an inspection, or entered by county staff. */
export const HazardSource = z.enum(['auto', 'inspection', 'manual']);
export type HazardSource = z.infer<typeof HazardSource>;

/** Statuses in which the institution owes work: past the deadline in one of these, a hazard is overdue. */
export const WORK_PENDING: readonly HazardStatus[] = ['found', 'assigned', 'rectifying'];

/** What is written to the transition log and the audit log, one per step. */
export const HazardEvent = z.enum([
  'found',
  'assigned',
  'reassigned',
  'rectifying',
  'submitted',
  'accepted',
  'rejected',
  'closed',
  'withdrawn',
  'cause_cleared',
  'cause_returned',
  'escalated',
  'reminded',
]);
export type HazardEvent = z.infer<typeof HazardEvent>;

export const HazardOwner = z.object({ contactId: z.string(), name: z.string() });
export type HazardOwner = z.infer<typeof HazardOwner>;

export const Hazard = z.object({
  id: z.string(),
  county: z.string(),
  institution: z.string(),
  category: z.string(),
  severity: HazardSeverity,
  source: HazardSource,
  /** The automatic source's id (`extinguisher-pressure`, …) or the checklist's id. */
  sourceRule: z.string().nullable(),
  causeKey: z.string().nullable(),
  itemRef: z.string().nullable(),
  inspectionId: z.string().nullable(),
  title: z.string(),
  description: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  location: z.string().nullable(),
  status: HazardStatus,
  owner: HazardOwner.nullable(),
  supervisor: z.string().nullable(),
  deadlineAt: z.number().nullable(),
  foundAt: z.number(),
  foundBy: z.string(),
  assignedAt: z.number().nullable(),
  rectifyingAt: z.number().nullable(),
  submittedAt: z.number().nullable(),
  reviewedAt: z.number().nullable(),
  closedAt: z.number().nullable(),
  causeClearedAt: z.number().nullable(),
  /** Past its deadline with the work still owed (computed when read). */
  overdue: z.boolean(),
  overdueAt: z.number().nullable(),
  escalationCount: z.number(),
  nextEscalationAt: z.number().nullable(),
  remindedAt: z.number().nullable(),
  /** `demo-seed-N` for generated demo records. */
  generated: z.string().nullable(),
  updatedAt: z.number(),
});
export type Hazard = z.infer<typeof Hazard>;

export const HazardTransition = z.object({
  seq: z.number(),
  at: z.number(),
  event: HazardEvent,
  from: HazardStatus.nullable(),
  to: HazardStatus,
  actor: z.string(),
  role: z.string(),
  note: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});
export type HazardTransition = z.infer<typeof HazardTransition>;

export const RectificationReview = z.enum(['accepted', 'rejected']);

/** One submission of rectification work (整改措施) and the county's review of it (复查). */
export const Rectification = z.object({
  id: z.string(),
  hazardId: z.string(),
  submittedAt: z.number(),
  submittedBy: z.string(),
  measures: z.string(),
  photos: z.array(z.string()),
  review: RectificationReview.nullable(),
  reviewedAt: z.number().nullable(),
  reviewedBy: z.string().nullable(),
  reviewNote: z.string().nullable(),
});
export type Rectification = z.infer<typeof Rectification>;

export const HazardDetail = z.object({
  hazard: Hazard,
  transitions: z.array(HazardTransition),
  rectifications: z.array(Rectification),
});
export type HazardDetail = z.infer<typeof HazardDetail>;

/** Who acts: a signed-in person (`name`, dashboard role) or `system` (the scheduler). */
export interface Actor {
  name: string;
  role: string;
  /** Where the request came from, for the audit log. */
  ip?: string;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ name: 'system', role: 'system' });

export const HAZARD_SEVERITY_ZH: Record<HazardSeverity, string> = { general: '一般隐患', major: '重大隐患' };
export const HAZARD_STATUS_ZH: Record<HazardStatus, string> = {
  found: '已发现',
  assigned: '已交办',
  rectifying: '整改中',
  submitted: '待复查',
  reviewed: '复查通过',
  closed: '已销号',
};
export const HAZARD_SOURCE_ZH: Record<HazardSource, string> = {
  auto: '平台自动发现',
  inspection: '检查发现',
  manual: '县级录入',
};
