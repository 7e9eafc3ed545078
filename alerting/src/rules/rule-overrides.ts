import type { z } from 'zod';
import { AlertingError, AlertingErrorCode } from '../errors.js';
import { coversFireAlarm, Rule, type RuleOverride, type RulePatch, type RuleSet } from './rule-schema.js';

/** Who a rule applies to: an institution, and optionally one device behind one of its gateways. */
export interface OverrideTarget {
  institution: string;
  gateway?: string;
  device?: string;
}

/** Fields an override may not change: they identify the rule. */
export const FIXED_RULE_FIELDS: readonly string[] = ['id', 'kind'];

/** `rules` with the same id replaced by `extra`'s, new ones appended (order kept). */
export function mergeRuleLists(base: readonly Rule[], extra: readonly Rule[]): Rule[] {
  const byId = new Map(extra.map((r) => [r.id, r]));
  const out = base.map((r) => byId.get(r.id) ?? r);
  const known = new Set(base.map((r) => r.id));
  for (const r of extra) if (!known.has(r.id)) out.push(r);
  return out;
}

/** Applies one patch (shallow: a nested object such as `name` or `scope` is replaced whole) and validates. */
export function applyPatch(
  rule: Rule,
  patch: RulePatch,
): { ok: true; rule: Rule } | { ok: false; issues: readonly z.core.$ZodIssue[] } {
  const merged: Record<string, unknown> = { ...rule, ...patch, id: rule.id, kind: rule.kind };
  const parsed = Rule.safeParse(merged);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues };
  // GB 26875.1: an institution or device never stops raising the fire alarm (and so never makes
  // it silenceable) by narrowing the rule's scope or events.
  if (coversFireAlarm(rule) && !coversFireAlarm(parsed.data)) {
    const path = 'events' in patch ? ['events'] : ['scope'];
    return {
      ok: false,
      issues: [
        {
          code: 'custom',
          path,
          message: 'the fire alarm rule must keep covering fire events of fire devices',
          input: patch,
        },
      ],
    };
  }
  return { ok: true, rule: parsed.data };
}

/** Whether an override entry is about `target`: institution-wide, or this very device. */
export function overrideLevel(o: RuleOverride, target: OverrideTarget): 'institution' | 'device' | undefined {
  if (o.institution !== target.institution) return undefined;
  if (o.device === undefined) return 'institution';
  return o.gateway === target.gateway && o.device === target.device ? 'device' : undefined;
}

/**
 * The rules in force for `target`, precedence device > institution > default: institution
 * patches apply first, then the device's, each level in file order. Throws
 * `ANL_ALERT_OVERRIDE_INVALID` if a merged rule is invalid (the loader rejects such files first).
 */
export function effectiveRules(set: RuleSet, target: OverrideTarget): Rule[] {
  const institution: RuleOverride[] = [];
  const device: RuleOverride[] = [];
  for (const o of set.overrides) {
    const level = overrideLevel(o, target);
    if (level === 'institution') institution.push(o);
    else if (level === 'device') device.push(o);
  }
  if (institution.length === 0 && device.length === 0) return [...set.rules];
  const ordered = [...institution, ...device];
  return set.rules.map((rule) => {
    let current = rule;
    for (const o of ordered) {
      const patch = o.rules[rule.id];
      if (patch === undefined) continue;
      const result = applyPatch(current, patch);
      if (!result.ok) {
        const where = o.device === undefined ? o.institution : `${o.institution}/${o.gateway}/${o.device}`;
        throw new AlertingError(
          AlertingErrorCode.OVERRIDE_INVALID,
          `override of rule ${rule.id} for ${where} is invalid`,
          result.issues.map((i) => ({ path: [rule.id, ...i.path.map(String)].join('.'), message: i.message })),
        );
      }
      current = result.rule;
    }
    return current;
  });
}
