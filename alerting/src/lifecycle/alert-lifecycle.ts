import { AlertingError, AlertingErrorCode } from '../errors.js';
import type { Alert, AlertStatus, AlertTransition, Verdict } from './alert.js';
import { SYSTEM_ACTOR } from './alert.js';

export type AlertAction =
  | { type: 'acknowledge'; actor: string; note?: string | undefined }
  | { type: 'verify'; actor: string; verdict: Verdict; note?: string | undefined }
  | { type: 'close'; actor: string; note?: string | undefined }
  /** The condition cleared on an auto-resolving alert: the platform closes it. */
  | { type: 'resolve'; note?: string | undefined }
  /**
   * A drill alert whose device then alarms for real (issue 13): the platform closes the drill's
   * alert, whatever its status, and a real one opens in its place.
   */
  | { type: 'supersede'; note: string };

/**
 * The one place that knows which transitions are allowed. Returns the changed alert and the
 * transition to record; throws `ANL_ALERT_TRANSITION_INVALID` (HTTP 409) otherwise.
 *
 * - A person may acknowledge an open alert, verify an open or acknowledged one (verifying on the
 *   spot implies having seen it), and close it.
 * - A manual alert (a fire alarm, a kitchen alarm) closes only after it was verified: a
 *   recovering detector never closes a fire alarm, a person does (DOMAIN.md, GB 25201).
 * - `resolve` is the platform closing an auto-resolving alert whose condition cleared.
 * - `supersede` is the platform closing a drill alert because a real alarm took its place.
 */
export function applyAction(
  alert: Alert,
  action: AlertAction,
  at: number,
  seq: number,
): {
  alert: Alert;
  transition: AlertTransition;
} {
  const from = alert.status;
  const fail = (why: string): never => {
    throw new AlertingError(AlertingErrorCode.TRANSITION_INVALID, `alert ${alert.id} is ${from}: ${why}`);
  };
  if (from === 'closed') fail(`it is closed; a new occurrence opens a new alert`);

  const next: Alert = { ...alert, escalation: { ...alert.escalation } };
  let to: AlertStatus;
  let actor: string;
  let verdict: Verdict | undefined;
  switch (action.type) {
    case 'acknowledge':
      if (from !== 'open') fail('only an open alert can be acknowledged');
      to = 'acknowledged';
      actor = action.actor;
      next.acknowledgedAt = at;
      next.acknowledgedBy = actor;
      break;
    case 'verify':
      if (from === 'verified') fail('it was verified already');
      to = 'verified';
      actor = action.actor;
      verdict = action.verdict;
      next.verdict = verdict;
      next.verifiedAt = at;
      next.verifiedBy = actor;
      if (next.acknowledgedAt === undefined) {
        next.acknowledgedAt = at;
        next.acknowledgedBy = actor;
      }
      break;
    case 'close':
      if (alert.resolve === 'manual' && from !== 'verified') {
        fail('verify it first (real fire, false alarm, test or device fault): a person confirms what it was');
      }
      to = 'closed';
      actor = action.actor;
      next.closedAt = at;
      next.closedBy = actor;
      break;
    case 'resolve':
      if (alert.resolve !== 'auto') fail('it closes only by a person');
      to = 'closed';
      actor = SYSTEM_ACTOR;
      next.clearedAt = at;
      next.closedAt = at;
      next.closedBy = actor;
      break;
    case 'supersede':
      if (!alert.drill) fail('only a drill alert is superseded by a real one');
      to = 'closed';
      actor = SYSTEM_ACTOR;
      next.closedAt = at;
      next.closedBy = actor;
      break;
    default: {
      const never: never = action;
      throw new TypeError(`unknown action ${JSON.stringify(never)}`);
    }
  }
  next.status = to;
  // Escalation stops once someone has seen it (acknowledged), and for good once closed.
  if (next.escalation.state === 'active') {
    next.escalation.state = to === 'closed' ? 'done' : 'stopped';
    delete next.escalation.nextAt;
  }
  const transition: AlertTransition = {
    alertId: alert.id,
    seq,
    at,
    from,
    to,
    actor,
    ...(action.note ? { note: action.note } : {}),
    ...(verdict ? { verdict } : {}),
  };
  return { alert: next, transition };
}
