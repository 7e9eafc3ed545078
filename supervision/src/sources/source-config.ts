import { z } from 'zod';
import { HazardSeverity } from '../hazards/hazard.js';

const Localized = z.object({ zh: z.string().min(1).max(100), en: z.string().max(100).default('') });

/** What every automatic source shares: how its hazards are filed and who owns them. */
const SourceCommon = {
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  enabled: z.boolean().default(true),
  title: Localized,
  category: z.string().min(1).max(64),
  severity: HazardSeverity.default('general'),
  /** Rectification deadline after the hazard is opened. */
  deadlineDays: z.number().min(0.1).max(365),
  /** The contact role that owns the hazard; the institution's manager when it has none. */
  ownerRole: z.string().min(1).max(32).default('manager'),
};

/** One alert rule, optionally only for one device kind (`device-fault` on cameras). */
export const AlertMatch = z.object({
  rule: z.string().min(1).max(64),
  deviceKind: z.string().min(1).max(32).optional(),
});
export type AlertMatch = z.infer<typeof AlertMatch>;

/**
 * A condition alerting holds open for too long: the alert of one of `match` open (not cleared,
 * not a drill) for more than `minOpenHours`. One hazard per alert key (rule and device).
 */
export const AlertOpenSource = z.object({
  ...SourceCommon,
  kind: z.literal('alert-open'),
  match: z.array(AlertMatch).min(1),
  minOpenHours: z
    .number()
    .min(0)
    .max(24 * 365)
    .default(24),
});
export type AlertOpenSource = z.infer<typeof AlertOpenSource>;

/** GB 50440's follow-up rule: more than `maxPerWindow` false fire alarms at one institution in `windowHours`. */
export const FalseAlarmSource = z.object({
  ...SourceCommon,
  kind: z.literal('false-alarms'),
  rules: z.array(z.string().min(1)).min(1).default(['fire-alarm']),
  maxPerWindow: z.number().int().min(0).default(5),
  windowHours: z
    .number()
    .min(1)
    .max(24 * 31)
    .default(24),
});
export type FalseAlarmSource = z.infer<typeof FalseAlarmSource>;

/** Seed 001: at least one drill a year. An institution registered less than `withinDays` ago has until then. */
export const DrillMissedSource = z.object({
  ...SourceCommon,
  kind: z.literal('drill-missed'),
  withinDays: z.number().min(1).max(3650).default(365),
});
export type DrillMissedSource = z.infer<typeof DrillMissedSource>;

/**
 * Unanswered duty checks (查岗, GB 26875.3 type 91; GB 25506: the control room is staffed around
 * the clock): more than `maxUnanswered` in `windowHours`. Reads alerting's duty-check records
 * through `DutyCheckReadModel` (skipped, never cleared, on a store without them).
 */
export const DutyCheckSource = z.object({
  ...SourceCommon,
  kind: z.literal('duty-check-missed'),
  maxUnanswered: z.number().int().min(0).default(0),
  windowHours: z
    .number()
    .min(1)
    .max(24 * 31)
    .default(24),
});
export type DutyCheckSource = z.infer<typeof DutyCheckSource>;

export const SourceConfig = z.discriminatedUnion('kind', [
  AlertOpenSource,
  FalseAlarmSource,
  DrillMissedSource,
  DutyCheckSource,
]);
export type SourceConfig = z.infer<typeof SourceConfig>;
export type SourceConfigInput = z.input<typeof SourceConfig>;

export const SourcesConfig = z.object({
  /** How often the sources are scanned. */
  scanEveryMinutes: z
    .number()
    .min(0.5)
    .max(24 * 60)
    .default(5),
  sources: z.array(SourceConfig).superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((s, i) => {
      if (seen.has(s.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `source ${s.id} twice` });
      seen.add(s.id);
    });
  }),
});
export type SourcesConfig = z.infer<typeof SourcesConfig>;
export type SourcesConfigInput = z.input<typeof SourcesConfig>;

/**
 * The default sources (issue 16), each open for more than 24 h unless said otherwise. Rule ids
 * are alerting's default rules (alerting/src/rules/default-rules.ts).
 */
export const DEFAULT_SOURCES_INPUT: SourcesConfigInput = {
  scanEveryMinutes: 5,
  sources: [
    {
      id: 'extinguisher-pressure',
      kind: 'alert-open',
      title: {
        zh: '灭火器/消火栓压力异常超过24小时',
        en: 'Extinguisher or hydrant pressure out of range for over 24 h',
      },
      category: 'fire_facilities',
      deadlineDays: 3,
      ownerRole: 'fire_safety',
      // GB 50444 (extinguishers), GB 50974 (sprinkler and hydrant pressures).
      match: [
        { rule: 'extinguisher-empty' },
        { rule: 'extinguisher-under-pressure' },
        { rule: 'extinguisher-over-pressure' },
        { rule: 'extinguisher-low-pressure-event' },
        { rule: 'sprinkler-low-pressure' },
        { rule: 'hydrant-static-low-pressure' },
      ],
    },
    {
      id: 'camera-down',
      kind: 'alert-open',
      title: { zh: '摄像机离线或故障超过24小时', en: 'Camera offline or faulty for over 24 h' },
      category: 'video',
      deadlineDays: 3,
      // Seed 001: video in entrances, reception, the duty room, corridors and dining halls.
      match: [
        { rule: 'camera-offline' },
        { rule: 'camera-signal-loss' },
        { rule: 'camera-picture-fault' },
        { rule: 'device-fault', deviceKind: 'camera' },
      ],
    },
    {
      id: 'detector-fault',
      kind: 'alert-open',
      title: { zh: '火灾探测器故障或被屏蔽超过24小时', en: 'Fire detector faulty or disabled for over 24 h' },
      category: 'fire_facilities',
      deadlineDays: 3,
      ownerRole: 'fire_safety',
      // GB 26875.3 component status: fault (b2), disabled 屏蔽 (b3) — the room is unprotected.
      match: [{ rule: 'device-fault', deviceKind: 'fire' }, { rule: 'fire-detector-disabled' }],
    },
    {
      id: 'gateway-offline',
      kind: 'alert-open',
      title: { zh: '监测网关离线超过24小时', en: 'Monitoring gateway offline for over 24 h' },
      category: 'monitoring',
      deadlineDays: 2,
      // Nothing from the institution reaches the county, fire alarms included.
      match: [{ rule: 'gateway-offline' }],
    },
    {
      id: 'false-alarms',
      kind: 'false-alarms',
      title: { zh: '一日内火灾误报超过5次', en: 'More than 5 false fire alarms in a day' },
      category: 'fire_facilities',
      deadlineDays: 7,
      ownerRole: 'fire_safety',
      // GB 50440: a site with more than 5 false alarms a day must be followed up (secondary).
      maxPerWindow: 5,
      windowHours: 24,
    },
    {
      id: 'drill-missed',
      kind: 'drill-missed',
      title: { zh: '一年内未开展应急演练', en: 'No emergency drill within a year' },
      category: 'emergency',
      deadlineDays: 30,
      withinDays: 365,
    },
    {
      id: 'duty-check-missed',
      kind: 'duty-check-missed',
      // Alerting's duty checks (issue 15): any check unanswered in 24 h (GB 25506: staffed around the clock).
      title: { zh: '消防控制室查岗未应答', en: 'Fire control room did not answer a duty check' },
      category: 'daily_management',
      deadlineDays: 3,
      ownerRole: 'fire_safety',
    },
  ],
};

export const DEFAULT_SOURCES: SourcesConfig = SourcesConfig.parse(DEFAULT_SOURCES_INPUT);
