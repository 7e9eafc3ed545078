import type { Database } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ChecklistStore } from './checklists/checklist-store.js';
import { CountyInputs } from './county-inputs/county-inputs.js';
import { SupervisionFigures } from './figures/supervision-figures.js';
import { InstitutionGrader } from './grading/institution-grader.js';
import { type HazardAudit, HazardLedger } from './hazards/hazard-ledger.js';
import { NO_NOTIFIER, type SupervisionNotifier } from './hazards/supervision-notifier.js';
import { InspectionDraws } from './inspections/inspection-draw.js';
import { InspectionService } from './inspections/inspection-service.js';
import { DatabasePhotoStore, type PhotoStore } from './photos/photo-store.js';
import { AlertingReadModel } from './read-model/alerting-read-model.js';
import { type DutyCheckReadModel, StoreDutyChecks } from './read-model/duty-check-read-model.js';
import { SupervisionScheduler } from './scheduler/supervision-scheduler.js';
import { SupervisionSettings } from './settings/supervision-settings.js';
import { AutoHazardReconciler } from './sources/auto-hazard-reconciler.js';
import type { SupervisionDatabase } from './store/supervision-schema.js';

export interface SupervisionDeps {
  /** The operational store, migrated with `SUPERVISION_MIGRATIONS` (after the registry's). */
  db: Kysely<Database>;
  logger: Logger;
  clock?: () => number;
  metrics?: Registry;
  /** Every hazard transition goes here (the dashboard's audit log). */
  audit?: HazardAudit;
  /** Overdue escalations and deadline reminders (alerting's dispatcher, in the composition). */
  notifier?: SupervisionNotifier;
  /** Default: photos in the operational store. */
  photos?: PhotoStore;
  /** Default: alerting's `duty_checks` on this store (the fire-panel work's duty checks, 查岗). */
  dutyChecks?: DutyCheckReadModel;
  scheduler?: { tickMs?: number; holder?: string; leaseTtlMs?: number };
}

/** Supervision, wired and not started: only `scheduler.start()` starts anything (timers). */
export interface Supervision {
  readonly ledger: HazardLedger;
  readonly settings: SupervisionSettings;
  readonly checklists: ChecklistStore;
  readonly inspections: InspectionService;
  readonly countyInputs: CountyInputs;
  readonly draws: InspectionDraws;
  readonly grader: InstitutionGrader;
  /** The read API for reports: `hazardFigures`, `gradeAt`, `gradesAt`, `gradeHistory`. */
  readonly figures: SupervisionFigures;
  readonly photos: PhotoStore;
  readonly reconciler: AutoHazardReconciler;
  /** Runs once per county across nodes (a store lease): start it in each process that should take part. */
  readonly scheduler: SupervisionScheduler;
  /** An input of these institutions' grades changed here: regrade them soon. */
  inputsChanged(institutions: readonly string[]): void;
}

/** Wires supervision over the operational store (CONVENTIONS.md §2: builds, does not start). */
export function buildSupervision(deps: SupervisionDeps): Supervision {
  const db = deps.db as unknown as Kysely<SupervisionDatabase>;
  const clock = deps.clock ?? Date.now;
  const logger = deps.logger.child({ svc: 'supervision' });
  const settings = new SupervisionSettings(db, clock);
  const alerts = AlertingReadModel.over(db, logger);
  const dutyChecks = deps.dutyChecks ?? StoreDutyChecks.over(db, logger);
  const ledger = new HazardLedger({ db, logger, clock, ...(deps.audit ? { audit: deps.audit } : {}) });
  const checklists = new ChecklistStore(db, clock);
  const grader = new InstitutionGrader({ db, alerts, dutyChecks, settings, logger, clock });
  const reconciler = new AutoHazardReconciler(ledger, settings, { db, alerts, dutyChecks }, logger);
  const scheduler = new SupervisionScheduler({
    db,
    ledger,
    reconciler,
    grader,
    settings,
    alerts,
    notifier: deps.notifier ?? NO_NOTIFIER,
    logger,
    clock,
    ...(deps.metrics ? { metrics: deps.metrics } : {}),
    ...deps.scheduler,
  });
  ledger.onChange((h) => scheduler.nudge([h.institution]));
  return {
    ledger,
    settings,
    checklists,
    inspections: new InspectionService({ db, ledger, checklists, settings, logger, clock }),
    countyInputs: new CountyInputs(db, clock),
    draws: new InspectionDraws(db, grader, settings, clock),
    grader,
    figures: new SupervisionFigures(db, grader),
    photos: deps.photos ?? new DatabasePhotoStore(db, clock),
    reconciler,
    scheduler,
    inputsChanged: (institutions) => scheduler.nudge(institutions),
  };
}
