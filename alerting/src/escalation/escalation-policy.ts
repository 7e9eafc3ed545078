import { ContactRole } from '@anlian/protocol';
import { z } from 'zod';
import { Severity } from '../rules/rule-schema.js';

export const EscalationLevel = z
  .object({
    /** Seconds after the alert opened at which this level is notified, if still unacknowledged. */
    afterS: z.number().int().min(0).max(86_400),
    /** Contact roles of the institution notified at this level (`duty_officer`: the county's). */
    roles: z.array(ContactRole).min(1),
  })
  .strict();
export type EscalationLevel = z.infer<typeof EscalationLevel>;

/**
 * Who hears of an alert, and when, until somebody acknowledges it: per institution, with a
 * county-wide default (`*`).
 */
export const EscalationPolicy = z
  .object({
    levels: z.array(EscalationLevel).min(1).max(10),
    /** After the last level: remind every level's contacts this often until acknowledged; 0 = never. */
    repeatEveryS: z.number().int().min(0).max(86_400).default(300),
    /** Alerts below this severity are shown on the screens but pushed to nobody. */
    notifyMinSeverity: Severity.default('major'),
    /** Alerts below this severity notify the first level only, without escalation or reminders. */
    escalateMinSeverity: Severity.default('critical'),
  })
  .strict()
  .superRefine((p, ctx) => {
    if (p.levels[0]?.afterS !== 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['levels', 0, 'afterS'],
        message: 'the first level is notified at once: afterS must be 0',
      });
    }
    p.levels.forEach((level, i) => {
      const before = p.levels[i - 1];
      if (before && level.afterS <= before.afterS) {
        ctx.addIssue({
          code: 'custom',
          path: ['levels', i, 'afterS'],
          message: `levels escalate in time order: ${level.afterS} s is not after the previous level's ${before.afterS} s`,
        });
      }
    });
    if (p.repeatEveryS > 0 && p.repeatEveryS < 30) {
      ctx.addIssue({ code: 'custom', path: ['repeatEveryS'], message: 'reminders at most every 30 s (or 0 for none)' });
    }
  });
export type EscalationPolicy = z.infer<typeof EscalationPolicy>;
export type EscalationPolicyInput = z.input<typeof EscalationPolicy>;

/**
 * DOMAIN.md: the manager (and the person responsible for fire safety) at once; the deputy when
 * nobody acknowledged within 2 minutes; the county duty officer after 5; then reminders every
 * 5 minutes. GB 25201's "1-3-5" leaves the first minutes to the institution itself.
 */
export const DEFAULT_ESCALATION_POLICY: EscalationPolicy = EscalationPolicy.parse({
  levels: [
    { afterS: 0, roles: ['manager', 'fire_safety'] },
    { afterS: 120, roles: ['deputy'] },
    { afterS: 300, roles: ['duty_officer'] },
  ],
  repeatEveryS: 300,
});

const SEVERITY_RANK: Readonly<Record<Severity, number>> = { info: 0, minor: 1, major: 2, critical: 3 };

export function atLeast(severity: Severity, min: Severity): boolean {
  return SEVERITY_RANK[severity] >= SEVERITY_RANK[min];
}

/** The escalation step an alert is on: level `level`, reminder round `round` (0 before any reminder). */
export interface EscalationStep {
  level: number;
  round: number;
}

/**
 * When the step after `step` is due, as a time from the alert's opening, so a restarted service
 * resumes the same schedule; undefined when nothing follows.
 */
export function nextDueAt(policy: EscalationPolicy, openedAt: number, step: EscalationStep): number | undefined {
  const next = policy.levels[step.level + 1];
  if (next) return openedAt + next.afterS * 1000;
  if (policy.repeatEveryS === 0) return undefined;
  const last = policy.levels[policy.levels.length - 1] as EscalationLevel;
  return openedAt + (last.afterS + (step.round + 1) * policy.repeatEveryS) * 1000;
}

/**
 * The step due at `now` after `step`: normally the next one; after downtime, the latest one
 * already due, so a restarted service notifies once at the right level instead of replaying
 * every missed level.
 */
export function dueStep(policy: EscalationPolicy, openedAt: number, step: EscalationStep, now: number): EscalationStep {
  let current = step;
  for (;;) {
    const due = nextDueAt(policy, openedAt, current);
    if (due === undefined || due > now) return current;
    current = policy.levels[current.level + 1]
      ? { level: current.level + 1, round: 0 }
      : { level: current.level, round: current.round + 1 };
  }
}

/** The roles notified at a step: a level's own; a reminder goes to every level's. */
export function rolesAt(policy: EscalationPolicy, step: EscalationStep): ContactRole[] {
  if (step.round === 0) return [...(policy.levels[step.level]?.roles ?? [])];
  return [...new Set(policy.levels.flatMap((l) => l.roles))];
}
