/**
 * @anlian/supervision — the hazard ledger (隐患台账) and its closed loop, inspections with
 * checklists, risk grading of institutions (风险分级) and the figures reports read.
 *
 * - `buildSupervision(deps)`: everything wired over the operational store; `scheduler.start()`
 *   runs the automatic sources, deadline escalations and regrading once per county (a store lease).
 * - `SUPERVISION_MIGRATIONS` / `migrateSupervision`: its tables, after the registry's.
 * - `SupervisionNotifier`: the port to the notification channels (implemented by the composition).
 * - `SupervisionFigures`: `hazardFigures`, `gradeAt`, `gradesAt` for reports.
 */

export { BUILTIN_CHECKLIST_IDS, builtinChecklists } from './checklists/builtin-checklists.js';
export {
  Checklist,
  ChecklistId,
  type ChecklistInput,
  ChecklistItem,
  type StoredChecklist,
} from './checklists/checklist.js';
export { ChecklistStore } from './checklists/checklist-store.js';
export { chinaDate, chinaDateTime, chinaStartOfDay } from './china-time.js';
export { CountyInput, CountyInputKind, CountyInputs } from './county-inputs/county-inputs.js';
export { type DemoSeedResult, seedSupervisionDemo } from './demo/supervision-demo.js';
export { isSupervisionError, SupervisionError, SupervisionErrorCode } from './errors.js';
export { type HazardFigures, type SeverityFigures, SupervisionFigures } from './figures/supervision-figures.js';
export {
  explainGrade,
  FactorExplanation,
  FloorRule,
  GradeExplanation,
  type GradeInputs,
} from './grading/grade-explanation.js';
export { readGradeInputs } from './grading/grade-inputs.js';
export {
  DEFAULT_GRADING_POLICY,
  FACTOR_LABELS,
  FactorId,
  GRADE_RANK,
  GRADE_ZH,
  GRADES,
  Grade,
  GradingFactor,
  GradingPolicy,
  type GradingPolicyInput,
  gradeOfScore,
} from './grading/grading-policy.js';
export {
  type CurrentGrade,
  type GradeReason,
  type GradeRecord,
  InstitutionGrader,
} from './grading/institution-grader.js';
export {
  type Actor,
  HAZARD_SEVERITY_ZH,
  HAZARD_SOURCE_ZH,
  HAZARD_STATUS_ZH,
  Hazard,
  HazardDetail,
  HazardEvent,
  HazardOwner,
  HazardSeverity,
  HazardSource,
  HazardStatus,
  HazardTransition,
  Rectification,
  RectificationReview,
  SYSTEM_ACTOR,
  WORK_PENDING,
} from './hazards/hazard.js';
export { categoryLabel, HAZARD_CATEGORIES } from './hazards/hazard-category.js';
export {
  type HazardAudit,
  type HazardChangeListener,
  type HazardFilter,
  HazardLedger,
  type HazardPage,
  type NewHazard,
  type RectificationRow,
} from './hazards/hazard-ledger.js';
export { DEFAULT_LEDGER_POLICY, LedgerPolicy, type LedgerPolicyInput } from './hazards/ledger-policy.js';
export { type HazardNotice, NO_NOTIFIER, type SupervisionNotifier } from './hazards/supervision-notifier.js';
export {
  FindingHazard,
  Inspection,
  InspectionKind,
  InspectionStatus,
  ItemResult,
} from './inspections/inspection.js';
export { InspectionDraw, InspectionDraws, replayDraw } from './inspections/inspection-draw.js';
export { InspectionService } from './inspections/inspection-service.js';
export { newId } from './new-id.js';
export {
  DatabasePhotoStore,
  MAX_PHOTO_BYTES,
  type PhotoStore,
  type StoredPhoto,
  sniffImageType,
} from './photos/photo-store.js';
export { AlertingReadModel, type FireAlarmCounts, type OpenAlertRecord } from './read-model/alerting-read-model.js';
export { type DutyCheckReadModel, NO_DUTY_CHECKS, StoreDutyChecks } from './read-model/duty-check-read-model.js';
export { StoreLease } from './scheduler/store-lease.js';
export { SupervisionScheduler, type TickReport } from './scheduler/supervision-scheduler.js';
export { seededRandom, seedOf } from './seeded-random.js';
export { type SettingName, SupervisionSettings } from './settings/supervision-settings.js';
export { AutoHazardReconciler, type ReconcileResult } from './sources/auto-hazard-reconciler.js';
export { type AutomaticSource, type CauseObservation, createSource } from './sources/automatic-source.js';
export {
  AlertMatch,
  DEFAULT_SOURCES,
  SourceConfig,
  SourcesConfig,
  type SourcesConfigInput,
} from './sources/source-config.js';
export { migrateSupervision, SUPERVISION_MIGRATIONS } from './store/supervision-migrations.js';
export type { SupervisionDatabase, SupervisionTables } from './store/supervision-schema.js';
export { buildSupervision, type Supervision, type SupervisionDeps } from './supervision.js';
