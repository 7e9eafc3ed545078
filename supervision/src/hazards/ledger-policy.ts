import { z } from 'zod';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/**
 * How the ledger runs its loop, per county: default deadlines, the reminder before a deadline
 * and how often an overdue hazard goes to the county duty officer again. Defaults, not law:
 * each county sets its own (seed 001 asks for deadlines, not for particular ones).
 */
export const LedgerPolicy = z.object({
  /** Default rectification deadline, days after assignment, by severity. */
  deadlineDays: z
    .object({
      general: z.number().min(0.1).max(365).default(15),
      major: z.number().min(0.1).max(365).default(30),
    })
    .default({ general: 15, major: 30 }),
  /** The owner is reminded this long before the deadline. */
  remindBeforeHours: z
    .number()
    .min(0)
    .max(24 * 30)
    .default(24),
  /** An overdue hazard goes to the county duty officer at the deadline and again every … */
  escalateEveryHours: z
    .number()
    .min(0.25)
    .max(24 * 30)
    .default(24),
});
export type LedgerPolicy = z.infer<typeof LedgerPolicy>;
export type LedgerPolicyInput = z.input<typeof LedgerPolicy>;

export const DEFAULT_LEDGER_POLICY: LedgerPolicy = LedgerPolicy.parse({});

export function deadlineMs(policy: LedgerPolicy, severity: 'general' | 'major'): number {
  return policy.deadlineDays[severity] * DAY_MS;
}

export function escalateEveryMs(policy: LedgerPolicy): number {
  return policy.escalateEveryHours * HOUR_MS;
}

export function remindBeforeMs(policy: LedgerPolicy): number {
  return policy.remindBeforeHours * HOUR_MS;
}
