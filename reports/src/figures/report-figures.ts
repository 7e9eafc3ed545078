/** Device kinds the reports break figures down by; `gateway` for alerts about a gateway itself. */
export const DEVICE_KINDS = ['fire', 'extinguisher', 'kitchen', 'camera', 'electrical'] as const;
export const ALARM_KINDS = [...DEVICE_KINDS, 'gateway'] as const;
export type AlarmKind = (typeof ALARM_KINDS)[number];

export const VERDICTS = ['real_fire', 'false_alarm', 'test', 'device_fault', 'unverified'] as const;
export type VerdictOrNone = (typeof VERDICTS)[number];

export const SEVERITIES = ['critical', 'major', 'minor', 'info'] as const;

/** Durations in seconds; undefined where nothing was measured. */
export interface DurationStats {
  n: number;
  meanS: number | undefined;
  p90S: number | undefined;
}

export interface OnlineRow {
  devices: number;
  /** Seconds devices were in the registry during the period, summed. */
  registeredS: number;
  onlineS: number;
  /** onlineS / registeredS. */
  rate: number | undefined;
}

export interface SimulationInfo {
  runId: string;
  seed: number;
  /** `history` or `live` (store's sim_runs). */
  runKind: string;
  startsAt: number;
  endsAt: number;
  description: string;
}

/** Hazards (issue 16): found in the period, closed in it, and open / overdue at its end. */
export interface HazardCounts {
  opened: number;
  closed: number;
  overdue: number;
  open: number;
}

export interface ReportFigures {
  county: { id: string; name: string; timezone: string };
  institution?: { id: string; name: string } | undefined;
  period: { fromMs: number; toMs: number; key: string; labelZh: string; labelEn: string };
  /** Live data, or the simulation run it was computed from. */
  source: { kind: 'live' } | ({ kind: 'simulation' } & SimulationInfo);
  generatedAt: number;
  institutions: { id: string; name: string }[];

  online: {
    byKind: (OnlineRow & { kind: string })[];
    total: OnlineRow;
    byInstitution: (OnlineRow & { institution: string })[];
  };
  alarms: {
    /** Non-drill alerts opened in the period, by kind and verdict. */
    byKind: ({ kind: AlarmKind; total: number } & Record<VerdictOrNone, number>)[];
    total: number;
    bySeverity: { severity: string; count: number }[];
    drillAlerts: number;
  };
  falseAlarms: {
    byInstitution: {
      institution: string;
      alarms: number;
      verified: number;
      falseAlarms: number;
      rate: number | undefined;
    }[];
    byDetector: {
      institution: string;
      gateway: string;
      device: string;
      name: string;
      kind: string;
      verified: number;
      falseAlarms: number;
      rate: number | undefined;
    }[];
    /** GB 50440: a detector with more than `limit` fire alarms in one day must be followed up. */
    overDailyLimit: {
      institution: string;
      gateway: string;
      device: string;
      name: string;
      day: string;
      count: number;
    }[];
    dailyLimit: number;
  };
  response: {
    bySeverity: { severity: string; acknowledge: DurationStats; verify: DurationStats; close: DurationStats }[];
    byInstitution: { institution: string; acknowledge: DurationStats; verify: DurationStats; close: DurationStats }[];
  };
  escalations: {
    alerts: number;
    escalated: number;
    /** Alerts whose escalation reached each level (1: deputy, 2: duty officer, … per policy). */
    byLevel: { level: number; count: number }[];
    byInstitution: { institution: string; alerts: number; escalated: number }[];
  };
  pushes: {
    byChannel: {
      channelType: string;
      deliveries: number;
      sent: number;
      failed: number;
      pending: number;
      attempts: number;
      skipped: number;
    }[];
  };
  drills: {
    drills: {
      id: string;
      name: string;
      startsAt: number;
      institutions: number;
      alerts: number;
      acknowledged: number;
      meanToAcknowledgeS: number | undefined;
      silentInstitutions: number;
      score: number;
    }[];
    /** Institutions of the scope that held at least one drill in the period. */
    institutionsWithDrill: number;
  };
  supervision:
    | { available: false }
    | {
        available: true;
        /** Whose hazards: null for live records, else the demo generator's marker (`demo-seed-<seed>`). */
        records: string | null;
        hazards: HazardCounts & {
          /** Of those closed, closed with the work in by the deadline (or with none). */
          closedOnTime: number;
          /** Went past the deadline unsubmitted in the period (first escalation). */
          becameOverdue: number;
          /** Mean days from found to closed, of those closed in the period. */
          meanDaysToClose: number | undefined;
        };
        bySeverity: ({ severity: 'major' | 'general' } & HazardCounts)[];
        /** Every institution of the scope, with its risk grade at the period's end (undefined: never graded). */
        byInstitution: ({ institution: string; grade: string | undefined } & HazardCounts)[];
        /** Institutions per grade at the period's end, red first. */
        grades: { grade: string; institutions: number }[];
      };
  cameras: {
    cameras: number;
    registeredS: number;
    availableS: number;
    rate: number | undefined;
    byInstitution: { institution: string; cameras: number; rate: number | undefined }[];
  };
}
