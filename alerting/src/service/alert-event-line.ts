import { LineBuilder } from '@anlian/ingest';
import type { Alert, AlertTransition } from '../lifecycle/alert.js';

/**
 * One `alert_event` point per transition (ARCHITECTURE.md, Storage): tags county, institution,
 * gateway, device, rule, severity — all bounded; the alert id, statuses, actor and note are
 * fields, never tags. Written to the events retention policy (≥ 1 year).
 */
export function alertEventLine(alert: Alert, t: AlertTransition): string {
  const b = new LineBuilder().start('alert_event', t.at).tag('county', alert.county);
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
