import { type Kysely, sql } from 'kysely';
import type { AlertingReadModel } from '../read-model/alerting-read-model.js';
import type { DutyCheckReadModel } from '../read-model/duty-check-read-model.js';
import type { SupervisionDatabase } from '../store/supervision-schema.js';
import type { GradeInputs } from './grade-explanation.js';

const YEAR_MS = 365 * 86_400_000;

export interface GradeInputSet {
  /** Per institution of the county (every one, also those with nothing to count). */
  inputs: Map<string, GradeInputs>;
  /** Inputs not on this store. */
  dataGaps: string[];
}

/**
 * Reads every input of every institution of a county in a handful of grouped queries (not one
 * per institution: a 250-institution county is graded in one pass). Hazard counts are as of `at`
 * from the hazards' own times, so a past `at` gives the grade that time would have had.
 */
export async function readGradeInputs(
  deps: { db: Kysely<SupervisionDatabase>; alerts: AlertingReadModel; dutyChecks: DutyCheckReadModel },
  county: string,
  at: number,
  windowDays: number,
  only?: readonly string[],
): Promise<GradeInputSet> {
  const from = at - windowDays * 86_400_000;
  const { db } = deps;
  const restrict = only !== undefined && only.length > 0 ? [...only] : undefined;

  const institutions = await db
    .selectFrom('institutions')
    .select(['id', 'created_at'])
    .where('county_id', '=', county)
    .$if(restrict !== undefined, (q) => q.where('id', 'in', restrict ?? []))
    .execute();

  // Open at `at`: found by then and not closed by then. Overdue: past the deadline with the
  // work owed — not submitted (a rejection clears `submitted_at`) and not reviewed by then.
  const hazards = await db
    .selectFrom('hazards')
    .select((eb) => [
      'institution_id',
      'severity',
      eb.fn.countAll<number>().as('open'),
      eb.fn
        .sum<number>(
          sql`case when deadline_at is not null and deadline_at <= ${at}
                and (submitted_at is null or submitted_at > ${at})
                and (reviewed_at is null or reviewed_at > ${at}) then 1 else 0 end`,
        )
        .as('overdue'),
    ])
    .where('county_id', '=', county)
    .where('found_at', '<=', at)
    .where((eb) => eb.or([eb('closed_at', 'is', null), eb('closed_at', '>', at)]))
    .$if(restrict !== undefined, (q) => q.where('institution_id', 'in', restrict ?? []))
    .groupBy(['institution_id', 'severity'])
    .execute();

  const countyInputs = await db
    .selectFrom('county_inputs')
    .select((eb) => ['institution_id', 'kind', eb.fn.countAll<number>().as('n')])
    .where('county_id', '=', county)
    .where('at', '>=', from)
    .where('at', '<', at)
    .$if(restrict !== undefined, (q) => q.where('institution_id', 'in', restrict ?? []))
    .groupBy(['institution_id', 'kind'])
    .execute();

  const findings = await db
    .selectFrom('inspections')
    .select((eb) => ['institution_id', eb.fn.sum<number>('findings').as('n')])
    .where('county_id', '=', county)
    .where('status', '=', 'submitted')
    .where('submitted_at', '>=', from)
    .where('submitted_at', '<', at)
    .$if(restrict !== undefined, (q) => q.where('institution_id', 'in', restrict ?? []))
    .groupBy('institution_id')
    .execute();

  const one = restrict?.length === 1 ? restrict[0] : undefined;
  const scope = { county, ...(one !== undefined ? { institution: one } : {}) };
  const [fire, offline, drills, duty] = await Promise.all([
    deps.alerts.fireAlarmCounts(from, at, scope),
    deps.alerts.offlineShares(from, at, scope),
    deps.alerts.lastDrills(at),
    deps.dutyChecks.unansweredCounts(from, at, county),
  ]);

  const dataGaps: string[] = [];
  if (fire === undefined) dataGaps.push('alerts');
  if (duty === undefined) dataGaps.push('duty_checks');

  const out = new Map<string, GradeInputs>();
  for (const i of institutions) {
    const f = fire?.get(i.id);
    const lastDrill = drills?.get(i.id);
    out.set(i.id, {
      fireAlarms: fire === undefined ? null : (f?.realOrUnverified ?? 0),
      fireAlarmsTotal: fire === undefined ? null : (f?.total ?? 0),
      falseAlarms: fire === undefined ? null : (f?.falseAlarms ?? 0),
      deviceOfflineShare: offline === undefined ? null : (offline.get(i.id) ?? 0),
      openGeneral: 0,
      openMajor: 0,
      overdueGeneral: 0,
      overdueMajor: 0,
      // Seed 001: a drill a year; an institution registered less than a year ago is not late yet.
      drillMissed: drills === undefined ? null : (lastDrill ?? i.created_at) + YEAR_MS <= at ? 1 : 0,
      dutyChecksMissed: duty === undefined ? null : (duty.get(i.id) ?? 0),
      complaints: 0,
      violations: 0,
      inspectionFindings: 0,
    });
  }
  for (const h of hazards) {
    const x = out.get(h.institution_id);
    if (!x) continue;
    if (h.severity === 'major') {
      x.openMajor += Number(h.open);
      x.overdueMajor += Number(h.overdue ?? 0);
    } else {
      x.openGeneral += Number(h.open);
      x.overdueGeneral += Number(h.overdue ?? 0);
    }
  }
  for (const c of countyInputs) {
    const x = out.get(c.institution_id);
    if (!x) continue;
    if (c.kind === 'complaint') x.complaints += Number(c.n);
    else if (c.kind === 'violation') x.violations += Number(c.n);
  }
  for (const f of findings) {
    const x = out.get(f.institution_id);
    if (x) x.inspectionFindings += Number(f.n ?? 0);
  }
  return { inputs: out, dataGaps };
}
