/**
 * The alert model is the county's contract (protocol's `alerts.ts`): alerting owns the lifecycle,
 * dashboards and reports read the same shapes.
 */
export { Alert, AlertStatus, AlertTransition, EscalationState, Verdict } from '@anlian/protocol';

import type { Alert, AlertTransition } from '@anlian/protocol';

/** What changed, for the dashboard's socket.io and anything else listening in-process. */
export interface AlertChange {
  type: 'raised' | 'updated' | 'closed';
  alert: Alert;
  transition?: AlertTransition;
}

/** The actor of transitions the platform makes by itself. */
export const SYSTEM_ACTOR = 'system';
