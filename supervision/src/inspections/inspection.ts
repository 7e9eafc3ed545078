import { z } from 'zod';
import { HazardSeverity } from '../hazards/hazard.js';

/** 双随机抽查 (random), the county's routine visit, a special check, a follow-up of earlier findings. */
export const InspectionKind = z.enum(['random', 'routine', 'special', 'follow_up']);
export type InspectionKind = z.infer<typeof InspectionKind>;

export const InspectionStatus = z.enum(['draft', 'submitted']);

export const ItemResult = z.object({
  result: z.enum(['pass', 'fail', 'na']),
  note: z.string().trim().max(1000).default(''),
  /** Photo ids (`PhotoStore`). */
  photos: z.array(z.string().max(128)).max(10).default([]),
});
export type ItemResult = z.infer<typeof ItemResult>;

export const Inspection = z.object({
  id: z.string(),
  county: z.string(),
  institution: z.string(),
  checklistId: z.string(),
  checklistVersion: z.number(),
  kind: InspectionKind,
  drawId: z.string().nullable(),
  inspector: z.string(),
  status: InspectionStatus,
  /** Item id → result; items left out were not checked. */
  results: z.record(z.string(), ItemResult),
  /** Failed items. */
  findings: z.number(),
  summary: z.string().nullable(),
  startedAt: z.number(),
  submittedAt: z.number().nullable(),
  generated: z.string().nullable(),
});
export type Inspection = z.infer<typeof Inspection>;

/** How a failed item becomes a hazard; the defaults come from the item and the ledger policy. */
export const FindingHazard = z.object({
  itemId: z.string(),
  severity: HazardSeverity.optional(),
  description: z.string().trim().min(1).max(2000).optional(),
  location: z.string().trim().max(200).optional(),
  ownerContactId: z.string().optional(),
  deadlineAt: z.number().int().optional(),
});
export type FindingHazard = z.infer<typeof FindingHazard>;
