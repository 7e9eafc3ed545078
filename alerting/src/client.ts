/**
 * `@anlian/alerting/client` — what other services import of alerting: its API (`AlertingApi`),
 * the shapes it returns, its errors, and `AlertingClient` (HTTP to `anlian alerting`). Nothing of
 * the engine, the store or the notifiers comes with it.
 */
export { AlertLifecycleError } from './api/alert-lifecycle-error.js';
export { AcknowledgeBody, AlertListQuery, CloseBody, httpStatusOf, VerifyBody } from './api/alerting-api.js';
export { AlertingClient, type AlertingClientOptions } from './api/alerting-client.js';
export * from './api/alerting-contract.js';
export { DrillRecipients } from './drills/drill.js';
export type { DrillAlertScore } from './drills/drill-report.js';
export { AlertingErrorCode } from './errors.js';
export { EscalationLevel } from './escalation/escalation-policy.js';
