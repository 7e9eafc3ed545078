import type { SourceIssue } from '@anlian/protocol';

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
