import { formatIssues, issuesWithPositions, type PositionedDocument, parseWithPositions } from '@anlian/protocol';
import type { z } from 'zod';
import { AlertingError, AlertingErrorCode } from '../errors.js';
import { defaultRules } from './default-rules.js';
import { applyPatch, FIXED_RULE_FIELDS, mergeRuleLists } from './rule-overrides.js';
import { coversFireAlarm, type Rule, RuleFileShape, type RuleOverride, type RuleSet } from './rule-schema.js';

export interface RuleLoadOptions {
  /** Named in every error, e.g. the file path. */
  source: string;
  /** The rules the file extends and overrides; the defaults from DOMAIN.md when left out. */
  base?: readonly Rule[];
}

type Path = (string | number)[];
type AddIssue = (path: Path, message: string) => void;

/** Cross-rule checks: unique ids, inhibition references, and every override merged and re-validated. */
function checkRuleFile(file: z.output<typeof RuleFileShape>, base: readonly Rule[], add: AddIssue): void {
  const fileIndex = new Map<string, number>();
  file.rules.forEach((r, i) => {
    const first = fileIndex.get(r.id);
    if (first !== undefined) add(['rules', i, 'id'], `duplicate rule id "${r.id}" (first at rules.${first})`);
    else fileIndex.set(r.id, i);
  });
  const all = mergeRuleLists(base, file.rules);
  const byId = new Map(all.map((r) => [r.id, r]));
  /** Path of a rule's field in the file, or of the whole rule list when the rule is a default. */
  const at = (id: string, ...rest: Path): Path => {
    const i = fileIndex.get(id);
    return i === undefined ? ['rules'] : ['rules', i, ...rest];
  };

  // GB 26875.1: whatever a file replaces, the fire alarm (fire/fire) the base raised stays raised.
  if (base.some((r) => coversFireAlarm(r)) && !all.some((r) => coversFireAlarm(r))) {
    add(['rules'], 'no rule raises the fire alarm any more: keep a rule of kind event for fire events of fire devices');
  }

  for (const r of all) {
    if (r.kind !== 'inhibition') continue;
    const source = byId.get(r.source);
    if (source?.kind !== 'absence' || source.subject !== 'gateway') {
      add(
        at(r.id, 'source'),
        `inhibition ${r.id}: source "${r.source}" must be an absence rule with subject: gateway` +
          (source ? ` (it is a ${source.kind} rule)` : ' (no such rule)'),
      );
    }
    r.suppress.forEach((id, j) => {
      const target = byId.get(id);
      if (target?.kind !== 'absence' || target.subject !== 'device') {
        // Only offline alerts are explained by an offline gateway; a fire alarm is never suppressed.
        add(
          at(r.id, 'suppress', j),
          `inhibition ${r.id}: "${id}" must be an absence rule with subject: device` +
            (target ? ` (it is a ${target.kind} rule)` : ' (no such rule)'),
        );
      }
    });
  }

  checkOverrides(file.overrides, byId, add);
}

function checkOverrides(overrides: readonly RuleOverride[], byId: ReadonlyMap<string, Rule>, add: AddIssue): void {
  // The rules as each target sees them so far: institution patches, then device patches on top.
  const institutionState = new Map<string, Map<string, Rule>>();
  const institutionIndexes = new Map<string, number[]>();
  overrides.forEach((o, i) => {
    if (o.device !== undefined) return;
    const list = institutionIndexes.get(o.institution) ?? [];
    list.push(i);
    institutionIndexes.set(o.institution, list);
  });
  const deviceState = new Map<string, Map<string, Rule>>();

  const apply = (o: RuleOverride, i: number, state: Map<string, Rule>): void => {
    for (const [ruleId, patch] of Object.entries(o.rules)) {
      const path: Path = ['overrides', i, 'rules', ruleId];
      const rule = state.get(ruleId) ?? byId.get(ruleId);
      if (!rule) {
        add(path, `unknown rule "${ruleId}"; known rules: ${[...byId.keys()].join(', ')}`);
        continue;
      }
      const fixed = Object.keys(patch).filter((k) => FIXED_RULE_FIELDS.includes(k));
      for (const k of fixed) add([...path, k], `${k} identifies the rule and cannot be overridden`);
      if (fixed.length > 0) continue;
      const result = applyPatch(rule, patch);
      if (result.ok) {
        state.set(ruleId, result.rule);
        continue;
      }
      for (const issue of result.issues) {
        const at: Path = issue.path.map((p) => (typeof p === 'number' ? p : String(p)));
        if (issue.code === 'unrecognized_keys') {
          for (const k of issue.keys) add([...path, ...at, k], `unknown field for a ${rule.kind} rule`);
          continue;
        }
        const head = at[0];
        if (typeof head === 'string' && head in patch) add([...path, ...at], issue.message);
        else add(path, `after merging, ${at.join('.') || 'the rule'}: ${issue.message}`);
      }
    }
  };

  overrides.forEach((o, i) => {
    if (o.device === undefined) {
      const state = institutionState.get(o.institution) ?? new Map<string, Rule>();
      institutionState.set(o.institution, state);
      apply(o, i, state);
    }
  });
  overrides.forEach((o, i) => {
    if (o.device === undefined) return;
    const key = `${o.institution}/${o.gateway}/${o.device}`;
    let state = deviceState.get(key);
    if (!state) {
      // Start from every institution patch: the device level applies on top of all of them.
      state = new Map(institutionState.get(o.institution) ?? []);
      deviceState.set(key, state);
    }
    apply(o, i, state);
  });
}

function validate(input: unknown, opts: RuleLoadOptions, src: PositionedDocument | undefined): RuleSet {
  const base = opts.base ?? defaultRules();
  const schema = RuleFileShape.superRefine((file, ctx) => {
    checkRuleFile(file, base, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
  });
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const issues = issuesWithPositions(parsed.error.issues, src);
    throw new AlertingError(
      AlertingErrorCode.RULES_INVALID,
      `invalid rule file ${opts.source}:\n${formatIssues(opts.source, issues)}`,
      issues,
    );
  }
  return { rules: mergeRuleLists(base, parsed.data.rules), overrides: parsed.data.overrides };
}

/**
 * Parses a rule file (YAML or JSON text): its rules replace (same id) or extend `base`, its
 * overrides are checked against the merged rules. Throws `ANL_ALERT_RULES_INVALID` whose
 * `issues` each name the path and the line and column.
 */
export function parseRuleFile(text: string, opts: RuleLoadOptions): RuleSet {
  const doc = parseWithPositions(text);
  if (!doc.ok) {
    throw new AlertingError(
      AlertingErrorCode.RULES_INVALID,
      `rule file ${opts.source} does not parse:\n${formatIssues(opts.source, doc.issues)}`,
      doc.issues,
    );
  }
  return validate(doc.value.doc.toJS(), opts, doc.value);
}

/** As `parseRuleFile`, for an already-parsed object (errors name paths only). */
export function validateRuleFile(input: unknown, opts: RuleLoadOptions): RuleSet {
  return validate(input, opts, undefined);
}
