import type { Alert } from '../../../src/alerts/alerts-port';
import type { CountySnapshot, Delta } from '../../../src/live/live-wire';
import { notePushedSnapshot } from './alert-snapshots';

/** Puts an alert delta into a view's list: a closed alert leaves it, a new one goes first. */
export function upsertAlert(alerts: Alert[], alert: Alert): void {
  const i = alerts.findIndex((a) => a.id === alert.id);
  if (alert.status === 'closed') {
    if (i >= 0) alerts.splice(i, 1);
  } else if (i >= 0) alerts.splice(i, 1, alert);
  else alerts.unshift(alert);
}

/** Applies one county-room delta to the snapshot held by a view. */
export function applyCountyDelta(s: CountySnapshot, d: Delta): void {
  switch (d.type) {
    case 'alert': {
      upsertAlert(s.alerts, d.data.alert);
      return;
    }
    case 'institution': {
      const i = s.institutions.findIndex((x) => x.id === d.data.id);
      const prev = s.institutions[i];
      if (prev) s.institutions.splice(i, 1, { ...prev, ...d.data });
      return;
    }
    case 'stats':
      s.stats = d.data.stats;
      s.panels = d.data.panels;
      return;
    case 'ticker':
      s.ticker.unshift(...d.data);
      if (s.ticker.length > 60) s.ticker.length = 60;
      return;
    case 'snapshot':
      // Not part of the room's state: kept beside it for the alarm banner (视频复核).
      notePushedSnapshot(d.data);
      return;
    default:
      return;
  }
}

const isFire = (a: Alert): boolean =>
  a.severity === 'critical' && (a.deviceKind === 'fire' || a.rule.startsWith('fire'));

/** The fire banner flashes for these until someone acknowledges them (same rule as the server). */
export function isUnacknowledgedFire(a: Alert): boolean {
  return a.status === 'open' && isFire(a);
}

/**
 * A fire alarm that still stands: not closed, and not found to be something else (a person's
 * verdict other than a real fire). The wall keeps such an institution in view.
 */
export function isStandingFire(a: Alert): boolean {
  return isFire(a) && a.status !== 'closed' && (a.status !== 'verified' || a.verdict === 'real_fire');
}
