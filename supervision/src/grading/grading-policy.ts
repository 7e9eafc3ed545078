import { z } from 'zod';

/** Risk grades (风险分级): red / orange / yellow / blue = 重大 / 较大 / 一般 / 低. */
export const Grade = z.enum(['red', 'orange', 'yellow', 'blue']);
export type Grade = z.infer<typeof Grade>;
export const GRADES: readonly Grade[] = Grade.options;

export const GRADE_ZH: Record<Grade, string> = {
  red: '重大风险',
  orange: '较大风险',
  yellow: '一般风险',
  blue: '低风险',
};
export const GRADE_RANK: Record<Grade, number> = { blue: 0, yellow: 1, orange: 2, red: 3 };

/**
 * The inputs a grade is made of (issue 16; seeds 003/004: more complaints, hazards or violations
 * mean more inspections). Each factor's raw value is measured over the window or at the time of
 * grading; the policy says how much of the score it can take.
 */
export const FactorId = z.enum([
  'fire_alarms',
  'false_alarm_rate',
  'device_offline',
  'open_general_hazards',
  'open_major_hazards',
  'overdue_general_hazards',
  'overdue_major_hazards',
  'drills_missed',
  'duty_checks_missed',
  'complaints',
  'violations',
  'inspection_findings',
]);
export type FactorId = z.infer<typeof FactorId>;

export const FACTOR_LABELS: Record<FactorId, { zh: string; en: string; unit: { zh: string; en: string } }> = {
  fire_alarms: { zh: '火警（真实或未核实）', en: 'Fire alarms (real or unverified)', unit: { zh: '起', en: '' } },
  false_alarm_rate: { zh: '火警误报率', en: 'False-alarm rate', unit: { zh: '%', en: '%' } },
  device_offline: { zh: '设备离线率', en: 'Device offline rate', unit: { zh: '%', en: '%' } },
  open_general_hazards: { zh: '未销号一般隐患', en: 'Open general hazards', unit: { zh: '项', en: '' } },
  open_major_hazards: { zh: '未销号重大隐患', en: 'Open major hazards', unit: { zh: '项', en: '' } },
  overdue_general_hazards: { zh: '逾期一般隐患', en: 'Overdue general hazards', unit: { zh: '项', en: '' } },
  overdue_major_hazards: { zh: '逾期重大隐患', en: 'Overdue major hazards', unit: { zh: '项', en: '' } },
  drills_missed: { zh: '未按期开展应急演练', en: 'Yearly drill missed', unit: { zh: '', en: '' } },
  duty_checks_missed: { zh: '查岗未应答', en: 'Duty checks unanswered', unit: { zh: '次', en: '' } },
  complaints: { zh: '投诉举报', en: 'Complaints', unit: { zh: '件', en: '' } },
  violations: { zh: '违法违规记录', en: 'Violations', unit: { zh: '件', en: '' } },
  inspection_findings: { zh: '检查发现问题', en: 'Inspection findings', unit: { zh: '项', en: '' } },
};

/** Ratios: shown as percentages. */
export const RATIO_FACTORS: ReadonlySet<FactorId> = new Set(['false_alarm_rate', 'device_offline']);

/**
 * A factor's share of the score: it gives `weight × min(1, value / saturation)` points, so
 * `weight` is the most it can give and `saturation` the raw value at which it gives all of it.
 */
export const GradingFactor = z.object({
  id: FactorId,
  weight: z.number().min(0).max(100),
  saturation: z.number().positive(),
});
export type GradingFactor = z.infer<typeof GradingFactor>;

const GradeMap = (d: Record<Grade, number>, max: number) =>
  z
    .object({
      red: z.number().min(0).max(max),
      orange: z.number().min(0).max(max),
      yellow: z.number().min(0).max(max),
      blue: z.number().min(0).max(max),
    })
    .default(d);

const DEFAULT_FACTORS: GradingFactor[] = [
  { id: 'fire_alarms', weight: 10, saturation: 2 },
  { id: 'false_alarm_rate', weight: 5, saturation: 0.5 },
  { id: 'device_offline', weight: 10, saturation: 0.2 },
  { id: 'open_general_hazards', weight: 10, saturation: 5 },
  { id: 'open_major_hazards', weight: 15, saturation: 1 },
  { id: 'overdue_general_hazards', weight: 10, saturation: 3 },
  { id: 'overdue_major_hazards', weight: 10, saturation: 1 },
  { id: 'drills_missed', weight: 5, saturation: 1 },
  { id: 'duty_checks_missed', weight: 5, saturation: 3 },
  { id: 'complaints', weight: 10, saturation: 3 },
  { id: 'violations', weight: 5, saturation: 1 },
  { id: 'inspection_findings', weight: 5, saturation: 5 },
];

/**
 * A county's grading policy: factors and weights, the score thresholds of each grade, the
 * floors (an overdue major hazard makes an institution red whatever its score: 重大隐患挂牌督办),
 * the inspections a year each grade gets, and the weights of the random draw (双随机).
 */
export const GradingPolicy = z
  .object({
    /** The window the counted factors are measured over. */
    windowDays: z.number().int().min(1).max(366).default(30),
    factors: z.array(GradingFactor).min(1).default(DEFAULT_FACTORS),
    /** Lowest score of each grade; blue below yellow's. */
    thresholds: z
      .object({ red: z.number().min(0), orange: z.number().min(0), yellow: z.number().min(0) })
      .default({ red: 50, orange: 30, yellow: 15 }),
    /** The least grade an institution gets while it has an overdue / an open major hazard. */
    floors: z
      .object({ overdueMajorHazard: Grade.nullable(), openMajorHazard: Grade.nullable() })
      .default({ overdueMajorHazard: 'red', openMajorHazard: 'orange' }),
    /** County policy: inspections a year per grade (seeds 003/004: higher risk, more checks). */
    inspectionsPerYear: GradeMap({ red: 12, orange: 4, yellow: 2, blue: 1 }, 365),
    /** Relative chance of being drawn in a random inspection (双随机), per grade. */
    drawWeights: GradeMap({ red: 8, orange: 4, yellow: 2, blue: 1 }, 1000),
    /** Every grade is recomputed this often, besides whenever its inputs change. */
    recomputeEveryMinutes: z
      .number()
      .min(1)
      .max(24 * 60)
      .default(60),
  })
  .superRefine((p, ctx) => {
    const t = p.thresholds;
    if (!(t.red > t.orange && t.orange > t.yellow)) {
      ctx.addIssue({ code: 'custom', path: ['thresholds'], message: 'thresholds must fall: red > orange > yellow' });
    }
    const seen = new Set<string>();
    p.factors.forEach((f, i) => {
      if (seen.has(f.id)) ctx.addIssue({ code: 'custom', path: ['factors', i, 'id'], message: `factor ${f.id} twice` });
      seen.add(f.id);
    });
  });
export type GradingPolicy = z.infer<typeof GradingPolicy>;
export type GradingPolicyInput = z.input<typeof GradingPolicy>;

export const DEFAULT_GRADING_POLICY: GradingPolicy = GradingPolicy.parse({});

/** The grade of a score by the thresholds alone. */
export function gradeOfScore(score: number, thresholds: GradingPolicy['thresholds']): Grade {
  if (score >= thresholds.red) return 'red';
  if (score >= thresholds.orange) return 'orange';
  if (score >= thresholds.yellow) return 'yellow';
  return 'blue';
}

export function maxGrade(a: Grade, b: Grade): Grade {
  return GRADE_RANK[a] >= GRADE_RANK[b] ? a : b;
}
