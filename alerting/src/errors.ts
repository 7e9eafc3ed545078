import type { SourceIssue } from '@anlian/protocol';

/** The alerting error catalogue; codes are stable and greppable (like fastify's `FST_ERR_…`). */
export const AlertingErrorCode = {
  /** A rule file does not parse, does not match the rule schema, or refers to unknown rules. */
  RULES_INVALID: 'ANL_ALERT_RULES_INVALID',
  /** An override does not apply to its rule (unknown rule, or the merged rule is invalid). */
  OVERRIDE_INVALID: 'ANL_ALERT_OVERRIDE_INVALID',
  /** A state snapshot handed to `RuleEngine.restore` does not match the snapshot schema. */
  SNAPSHOT_INVALID: 'ANL_ALERT_SNAPSHOT_INVALID',
  /** The alert does not allow that action in its current status (HTTP 409). */
  TRANSITION_INVALID: 'ANL_ALERT_TRANSITION_INVALID',
  /** No alert, silence, drill or policy with that id (HTTP 404). */
  NOT_FOUND: 'ANL_ALERT_NOT_FOUND',
  /** A request to the alerting API does not match its schema (HTTP 400). */
  REQUEST_INVALID: 'ANL_ALERT_REQUEST_INVALID',
  /** An escalation policy or channel file is invalid. */
  CONFIG_INVALID: 'ANL_ALERT_CONFIG_INVALID',
  /** The notification dispatcher was started twice, or used after `stop()`. */
  DISPATCHER_STATE: 'ANL_ALERT_DISPATCHER_STATE',
  /** The delivery log did not take a record; the send itself went ahead (logged, counted). */
  DELIVERY_LOG_FAILED: 'ANL_ALERT_DELIVERY_LOG_FAILED',
  /** A notification channel threw instead of returning a failed `SendResult` (a bug in the channel). */
  CHANNEL_THREW: 'ANL_ALERT_CHANNEL_THREW',
  /** The channel directory threw while looking up an institution's channels. */
  CHANNEL_LOOKUP_FAILED: 'ANL_ALERT_CHANNEL_LOOKUP_FAILED',
  /** No alerting node answered the API (HTTP 503). */
  UNAVAILABLE: 'ANL_ALERT_UNAVAILABLE',
  /** Another alerting node acts for the alert's institution (HTTP 503: ask the next node). */
  NOT_OWNER: 'ANL_ALERT_NOT_OWNER',
  /** A service called the alerting API without the county's service token (HTTP 401). */
  UNAUTHORIZED: 'ANL_ALERT_UNAUTHORIZED',
  /** A gateway did not answer a county command (`…/cmd/{name}/reply`) in time. */
  COMMAND_TIMEOUT: 'ANL_ALERT_COMMAND_TIMEOUT',
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
