import { z } from 'zod';
import {
  FACTOR_LABELS,
  FactorId,
  Grade,
  type GradingPolicy,
  gradeOfScore,
  maxGrade,
  RATIO_FACTORS,
} from './grading-policy.js';

/** The raw inputs of one institution's grade; `null` where the data is not on this store. */
export interface GradeInputs {
  /** Fire alarms real or not (yet) verified, in the window. */
  fireAlarms: number | null;
  /** All fire alarms and the false ones, in the window. */
  fireAlarmsTotal: number | null;
  falseAlarms: number | null;
  /** Share of device-time offline in the window, 0…1. */
  deviceOfflineShare: number | null;
  /** At the time of grading. */
  openGeneral: number;
  openMajor: number;
  overdueGeneral: number;
  overdueMajor: number;
  /** 1 when no drill in the last year (and registered for a year), else 0. */
  drillMissed: number | null;
  dutyChecksMissed: number | null;
  complaints: number;
  violations: number;
  inspectionFindings: number;
}

export const FactorExplanation = z.object({
  id: FactorId,
  label: z.object({ zh: z.string(), en: z.string() }),
  unit: z.object({ zh: z.string(), en: z.string() }),
  /** The raw value (a ratio 0…1 for rates); null: no data on this store. */
  value: z.number().nullable(),
  /** Points the factor gives at saturation. */
  weight: z.number(),
  saturation: z.number(),
  /** `weight × min(1, value / saturation)`, rounded to 0.01; the score is their sum. */
  contribution: z.number(),
});
export type FactorExplanation = z.infer<typeof FactorExplanation>;

export const FloorRule = z.enum(['overdueMajorHazard', 'openMajorHazard']);

/** Why an institution has its grade: every factor, its weight and share, the thresholds, any floor. */
export const GradeExplanation = z.object({
  institution: z.string(),
  county: z.string(),
  at: z.number(),
  window: z.object({ from: z.number(), to: z.number(), days: z.number() }),
  factors: z.array(FactorExplanation),
  score: z.number(),
  thresholds: z.object({ red: z.number(), orange: z.number(), yellow: z.number() }),
  /** The grade of the score alone. */
  scoreGrade: Grade,
  /** A floor that raised the grade above the score's (an overdue major hazard → red). */
  floor: z.object({ rule: FloorRule, grade: Grade }).nullable(),
  grade: Grade,
  /** Inspections a year the county's policy gives this grade. */
  inspectionsPerYear: z.number(),
  /** Inputs missing on this store (e.g. `alerts`: alerting has not run here). */
  dataGaps: z.array(z.string()),
});
export type GradeExplanation = z.infer<typeof GradeExplanation>;

const round2 = (x: number) => Math.round(x * 100) / 100;

function rawValue(id: FactorId, i: GradeInputs): number | null {
  switch (id) {
    case 'fire_alarms':
      return i.fireAlarms;
    case 'false_alarm_rate':
      if (i.fireAlarmsTotal === null || i.falseAlarms === null) return null;
      return i.fireAlarmsTotal === 0 ? 0 : i.falseAlarms / i.fireAlarmsTotal;
    case 'device_offline':
      return i.deviceOfflineShare;
    case 'open_general_hazards':
      return i.openGeneral;
    case 'open_major_hazards':
      return i.openMajor;
    case 'overdue_general_hazards':
      return i.overdueGeneral;
    case 'overdue_major_hazards':
      return i.overdueMajor;
    case 'drills_missed':
      return i.drillMissed;
    case 'duty_checks_missed':
      return i.dutyChecksMissed;
    case 'complaints':
      return i.complaints;
    case 'violations':
      return i.violations;
    case 'inspection_findings':
      return i.inspectionFindings;
    default: {
      const unknown: never = id;
      throw new Error(`unknown factor ${String(unknown)}`);
    }
  }
}

/**
 * The grade of one institution from its inputs under a policy, with the explanation the screen
 * shows: the factors' contributions add up to the score exactly (each is rounded first), the
 * score's grade comes from the thresholds, and a floor may raise it.
 */
export function explainGrade(
  inputs: GradeInputs,
  policy: GradingPolicy,
  ctx: { institution: string; county: string; at: number; dataGaps?: readonly string[] },
): GradeExplanation {
  const factors = policy.factors.map((f) => {
    const value = rawValue(f.id, inputs);
    const contribution = value === null ? 0 : round2(f.weight * Math.min(1, Math.max(0, value) / f.saturation));
    const l = FACTOR_LABELS[f.id];
    return {
      id: f.id,
      label: { zh: l.zh, en: l.en },
      unit: l.unit,
      value: value === null ? null : RATIO_FACTORS.has(f.id) ? round4(value) : value,
      weight: f.weight,
      saturation: f.saturation,
      contribution,
    };
  });
  const score = round2(factors.reduce((s, f) => s + f.contribution, 0));
  const scoreGrade = gradeOfScore(score, policy.thresholds);
  let grade = scoreGrade;
  let floor: GradeExplanation['floor'] = null;
  const floors: [keyof GradingPolicy['floors'], boolean][] = [
    ['overdueMajorHazard', inputs.overdueMajor > 0],
    ['openMajorHazard', inputs.openMajor > 0],
  ];
  for (const [rule, applies] of floors) {
    const g = policy.floors[rule];
    if (!applies || g === null) continue;
    const raised = maxGrade(grade, g);
    if (raised !== grade) {
      grade = raised;
      floor = { rule, grade: g };
    }
  }
  const windowMs = policy.windowDays * 86_400_000;
  return {
    institution: ctx.institution,
    county: ctx.county,
    at: ctx.at,
    window: { from: ctx.at - windowMs, to: ctx.at, days: policy.windowDays },
    factors,
    score,
    thresholds: policy.thresholds,
    scoreGrade,
    floor,
    grade,
    inspectionsPerYear: policy.inspectionsPerYear[grade],
    dataGaps: [...(ctx.dataGaps ?? [])],
  };
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
