import type { Selectable } from 'kysely';
import type { HazardRectificationsTable, HazardsTable, HazardTransitionsTable } from '../store/supervision-schema.js';
import {
  type Hazard,
  HazardEvent,
  HazardSeverity,
  HazardSource,
  HazardStatus,
  type HazardTransition,
  type Rectification,
  RectificationReview,
  WORK_PENDING,
} from './hazard.js';

export type HazardRow = Selectable<HazardsTable>;

function parseObject(text: string | null): Record<string, unknown> | null {
  if (text === null || text === '') return null;
  const v = JSON.parse(text) as unknown;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** Past its deadline with the work still owed, at `now`. */
export function isOverdue(row: Pick<HazardRow, 'deadline_at' | 'status'>, now: number): boolean {
  return row.deadline_at !== null && row.deadline_at <= now && WORK_PENDING.includes(HazardStatus.parse(row.status));
}

export function hazardFromRow(r: HazardRow, now: number): Hazard {
  return {
    id: r.id,
    county: r.county_id,
    institution: r.institution_id,
    category: r.category,
    severity: HazardSeverity.parse(r.severity),
    source: HazardSource.parse(r.source),
    sourceRule: r.source_rule,
    causeKey: r.cause_key,
    itemRef: r.item_ref,
    inspectionId: r.inspection_id,
    title: r.title,
    description: r.description,
    evidence: parseObject(r.evidence_json) ?? {},
    location: r.location,
    status: HazardStatus.parse(r.status),
    owner:
      r.owner_contact_id !== null ? { contactId: r.owner_contact_id, name: r.owner_name ?? r.owner_contact_id } : null,
    supervisor: r.supervisor,
    deadlineAt: r.deadline_at,
    foundAt: r.found_at,
    foundBy: r.found_by,
    assignedAt: r.assigned_at,
    rectifyingAt: r.rectifying_at,
    submittedAt: r.submitted_at,
    reviewedAt: r.reviewed_at,
    closedAt: r.closed_at,
    causeClearedAt: r.cause_cleared_at,
    overdue: isOverdue(r, now),
    overdueAt: r.overdue_at,
    escalationCount: r.escalation_count,
    nextEscalationAt: r.next_escalation_at,
    remindedAt: r.reminded_at,
    generated: r.generated,
    updatedAt: r.updated_at,
  };
}

export function transitionFromRow(r: Selectable<HazardTransitionsTable>): HazardTransition {
  return {
    seq: r.seq,
    at: r.at,
    event: HazardEvent.parse(r.event),
    from: r.from_status === null ? null : HazardStatus.parse(r.from_status),
    to: HazardStatus.parse(r.to_status),
    actor: r.actor,
    role: r.role,
    note: r.note,
    detail: parseObject(r.detail_json),
  };
}

export function rectificationFromRow(r: Selectable<HazardRectificationsTable>): Rectification {
  return {
    id: r.id,
    hazardId: r.hazard_id,
    submittedAt: r.submitted_at,
    submittedBy: r.submitted_by,
    measures: r.measures,
    photos: (JSON.parse(r.photos_json) as unknown[]).filter((p): p is string => typeof p === 'string'),
    review: r.review === null ? null : RectificationReview.parse(r.review),
    reviewedAt: r.reviewed_at,
    reviewedBy: r.reviewed_by,
    reviewNote: r.review_note,
  };
}
