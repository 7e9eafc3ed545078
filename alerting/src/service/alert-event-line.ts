import { LineBuilder } from '@anlian/timeseries';
import type { Alert, AlertTransition } from '../lifecycle/alert.js';

/**
 * One `alert_event` point per transition (ARCHITECTURE.md, Storage): tags county, institution,
 * gateway, device, rule, severity — all bounded; the alert id, statuses, actor and note are
 * fields, never tags. Written to the events retention policy (≥ 1 year).
 *
 * `at` is the point's time, ms: the transition's own unless the caller moved it (see
 * `AlertEventTimes`).
 */
export function alertEventLine(alert: Alert, t: AlertTransition, at = t.at): string {
  const b = new LineBuilder().start('alert_event', at).tag('county', alert.county);
  if (alert.device !== undefined) b.tag('device', alert.device);
  b.tag('gateway', alert.gateway)
    .tag('institution', alert.institution)
    .tag('kind', alert.deviceKind ?? 'gateway')
    .tag('rule', alert.rule)
    .tag('severity', alert.severity)
    .stringField('alertId', alert.id)
    .stringField('to', t.to)
    .stringField('from', t.from ?? '')
    .stringField('actor', t.actor)
    .intField('occurrences', alert.occurrences)
    .booleanField('drill', alert.drill)
    .booleanField('silenced', alert.silenced);
  if (t.verdict !== undefined) b.stringField('verdict', t.verdict);
  if (t.note !== undefined) b.stringField('note', t.note);
  if (alert.value !== undefined && Number.isFinite(alert.value)) b.floatField('value', alert.value);
  return b.line();
}

/**
 * InfluxDB keeps one point per series and timestamp: two transitions of one alert in the same
 * millisecond (acknowledged and verified in one call, a raise closed at once) would overwrite each
 * other, and the record would lose one. Each series' points get strictly increasing times: a
 * transition in an already used millisecond is written 1 ms after the last one (its exact time
 * stays in the store's transition record).
 */
export class AlertEventTimes {
  readonly #last = new Map<string, number>();

  at(alert: Alert, t: AlertTransition): number {
    const series = `${alert.rule}\u0000${alert.gateway}\u0000${alert.device ?? ''}\u0000${alert.severity}`;
    const last = this.#last.get(series);
    const at = last !== undefined && t.at <= last ? last + 1 : t.at;
    // Only the recent past can collide: forget series quiet for a minute once the map grows.
    if (this.#last.size >= 10_000) {
      for (const [key, ts] of this.#last) if (ts < at - 60_000) this.#last.delete(key);
    }
    this.#last.set(series, at);
    return at;
  }
}
