/** The alerting error catalogue; codes are stable and greppable (like fastify's `FST_ERR_…`). */
export const AlertingErrorCode = {
  /** A rule file does not parse, does not match the rule schema, or refers to unknown rules. */
  RULES_INVALID: 'ANL_ALERT_RULES_INVALID',
  /** An override does not apply to its rule (unknown rule, or the merged rule is invalid). */
  OVERRIDE_INVALID: 'ANL_ALERT_OVERRIDE_INVALID',
  /** A state snapshot handed to `RuleEngine.restore` does not match the snapshot schema. */
  SNAPSHOT_INVALID: 'ANL_ALERT_SNAPSHOT_INVALID',
} as const;
export type AlertingErrorCode = (typeof AlertingErrorCode)[keyof typeof AlertingErrorCode];

/** Where a problem is: a dotted path, and a 1-based line and column when it came from text. */
export interface SourceIssue {
  /** Dotted path of the field, e.g. `rules.3.raise`; `(root)` for the document. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export class AlertingError extends Error {
  override readonly name = 'AlertingError';

  constructor(
    readonly code: AlertingErrorCode,
    message: string,
    readonly issues: readonly SourceIssue[] = [],
  ) {
    super(`${code}: ${message}`);
  }
}

/** `rules.yaml: line 12, column 9: rules.2.raise: …` (or without position), one issue a line. */
export function formatIssues(source: string, issues: readonly SourceIssue[]): string {
  return issues
    .map((i) =>
      i.line === undefined
        ? `${source}: ${i.path}: ${i.message}`
        : `${source}: line ${i.line}, column ${i.column ?? 1}: ${i.path}: ${i.message}`,
    )
    .join('\n');
}
