import type { Database, EpochMs } from '@anlian/store';

/**
 * Supervision's tables (migration `2026-12-03-401-supervision`), beside the registry's in the one
 * operational store. Same portable conventions: epoch-ms `bigint`s, JSON documents in `text`.
 */
export interface SupervisionTables {
  hazards: HazardsTable;
  hazard_transitions: HazardTransitionsTable;
  hazard_rectifications: HazardRectificationsTable;
  supervision_photos: SupervisionPhotosTable;
  checklists: ChecklistsTable;
  inspections: InspectionsTable;
  county_inputs: CountyInputsTable;
  institution_grades: InstitutionGradesTable;
  institution_grade_history: InstitutionGradeHistoryTable;
  inspection_draws: InspectionDrawsTable;
  supervision_settings: SupervisionSettingsTable;
  supervision_leases: SupervisionLeasesTable;
}

/** The registry plus supervision's own tables. */
export type SupervisionDatabase = Database & SupervisionTables;

export interface HazardsTable {
  id: string;
  county_id: string;
  institution_id: string;
  /** A checklist category or an automatic source's category (`fire_facilities`, …). */
  category: string;
  /** `general` (一般) | `major` (重大). */
  severity: string;
  /** `auto` | `inspection` | `manual`. */
  source: string;
  /** The automatic source's id, or the checklist's id for an inspection finding. */
  source_rule: string | null;
  /** What the hazard is about; one hazard per cause while it is not closed. */
  cause_key: string | null;
  /** `cause_key` while the hazard is not closed, null once closed: unique, the store's guarantee. */
  open_cause: string | null;
  item_ref: string | null;
  inspection_id: string | null;
  title: string;
  description: string;
  /** JSON: alert ids, values, photo ids, the checklist item's text. */
  evidence_json: string;
  location: string | null;
  status: string;
  owner_contact_id: string | null;
  owner_name: string | null;
  /** The county staff member who follows the hazard up (监管责任人). */
  supervisor: string | null;
  deadline_at: EpochMs | null;
  found_at: EpochMs;
  found_by: string;
  assigned_at: EpochMs | null;
  rectifying_at: EpochMs | null;
  submitted_at: EpochMs | null;
  reviewed_at: EpochMs | null;
  closed_at: EpochMs | null;
  /** An automatic hazard whose cause is gone (the gauge is back in range); null while it lasts. */
  cause_cleared_at: EpochMs | null;
  /** When it first went past its deadline unsubmitted; kept after (the ledger counts overdue ones). */
  overdue_at: EpochMs | null;
  escalation_count: number;
  next_escalation_at: EpochMs | null;
  reminded_at: EpochMs | null;
  /** Set on records generated for the demo county (`demo-seed-1`); null for real ones. */
  generated: string | null;
  seq: number;
  updated_at: EpochMs;
}

export interface HazardTransitionsTable {
  hazard_id: string;
  seq: number;
  at: EpochMs;
  /** `found`, `assigned`, `reassigned`, `rectifying`, `submitted`, `accepted`, `rejected`, `closed`, … */
  event: string;
  from_status: string | null;
  to_status: string;
  actor: string;
  role: string;
  note: string | null;
  detail_json: string | null;
}

export interface HazardRectificationsTable {
  id: string;
  hazard_id: string;
  submitted_at: EpochMs;
  submitted_by: string;
  /** What was done (整改措施). */
  measures: string;
  photos_json: string;
  /** `accepted` | `rejected` | null while waiting for the county. */
  review: string | null;
  reviewed_at: EpochMs | null;
  reviewed_by: string | null;
  review_note: string | null;
}

export interface SupervisionPhotosTable {
  id: string;
  county_id: string;
  institution_id: string;
  content_type: string;
  /** base64: portable between SQLite and PostgreSQL; photos are downsized on the phone first. */
  data_b64: string;
  size: number;
  created_at: EpochMs;
  created_by: string;
}

export interface ChecklistsTable {
  county_id: string;
  id: string;
  /** The whole checklist document (`Checklist`), as the county edited it. */
  checklist_json: string;
  version: number;
  updated_at: EpochMs;
  updated_by: string;
}

export interface InspectionsTable {
  id: string;
  county_id: string;
  institution_id: string;
  checklist_id: string;
  checklist_version: number;
  /** `random` (双随机) | `routine` | `special` | `follow_up`. */
  kind: string;
  draw_id: string | null;
  inspector: string;
  /** `draft` | `submitted`. */
  status: string;
  /** JSON: item id → { result: pass | fail | na, note, photos }. */
  results_json: string;
  findings: number;
  summary: string | null;
  started_at: EpochMs;
  submitted_at: EpochMs | null;
  generated: string | null;
  updated_at: EpochMs;
}

export interface CountyInputsTable {
  id: string;
  county_id: string;
  institution_id: string;
  /** `complaint` (投诉举报) | `violation` (违法违规记录). */
  kind: string;
  at: EpochMs;
  note: string;
  recorded_by: string;
  recorded_at: EpochMs;
  generated: string | null;
}

export interface InstitutionGradesTable {
  institution_id: string;
  county_id: string;
  /** `red` | `orange` | `yellow` | `blue`. */
  grade: string;
  score: number;
  computed_at: EpochMs;
  /** The explanation (`GradeExplanation`) as JSON. */
  explanation_json: string;
  /** Why it was recomputed: `schedule` | `inputs` | `policy` | `request` | `demo`. */
  reason: string;
}

export interface InstitutionGradeHistoryTable {
  institution_id: string;
  at: EpochMs;
  county_id: string;
  grade: string;
  score: number;
  explanation_json: string;
}

export interface InspectionDrawsTable {
  id: string;
  county_id: string;
  at: EpochMs;
  drawn_by: string;
  count: number;
  /** The seed of the draw's random numbers: the draw can be replayed and checked. */
  seed: string;
  /** JSON: grade → weight at the time of the draw. */
  weights_json: string;
  /** JSON: [{ institution, grade, weight, inspectors }]. */
  drawn_json: string;
  /** JSON: the pool of inspectors drawn from. */
  pool_json: string;
  note: string | null;
}

export interface SupervisionSettingsTable {
  county_id: string;
  name: string;
  value_json: string;
  updated_at: EpochMs;
  updated_by: string;
}

export interface SupervisionLeasesTable {
  name: string;
  holder: string;
  expires_at: EpochMs;
  acquired_at: EpochMs;
}
