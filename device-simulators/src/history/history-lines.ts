import type { TelemetryPayload } from '@anlian/protocol';
import { LineBuilder } from '@anlian/timeseries';
import type { HistoryAlert, SimulatedHistory } from './history-model.js';
import type { HistoryReading } from './history-telemetry.js';

/** InfluxDB line protocol with the retention policy it belongs to (deploy/influxdb/README.md). */
export interface PolicyLine {
  rp: 'events' | 'raw';
  line: string;
}

// As ingest stores them (ingest/src/pipeline/line-protocol.ts), plus the `sim_run` tag
// (design.md, Simulated time). Tags in key order: county, device, gateway, institution,
// medium, sim_run, type.
const INTEGER_FIELDS = new Set(['width', 'height', 'lastFrameTs', 'queueDepth']);
const ENVELOPE_KEYS = new Set(['v', 'ts', 'seq', 'kind', 'medium', 'event']);

export function telemetryLine(h: Pick<SimulatedHistory, 'runId' | 'county'>, r: HistoryReading): string {
  const d = r.data;
  const b = new LineBuilder()
    .start(d.kind, d.ts)
    .tag('county', h.county.county.id)
    .tag('device', r.device)
    .tag('gateway', r.gateway)
    .tag('institution', r.institution);
  if (d.kind === 'extinguisher') b.tag('medium', d.medium);
  b.tag('sim_run', h.runId).tag('type', 'telemetry').intField('seq', d.seq);
  for (const key in d) {
    if (ENVELOPE_KEYS.has(key)) continue;
    const value = (d as Record<string, unknown>)[key];
    if (typeof value === 'number') {
      if (INTEGER_FIELDS.has(key)) b.intField(key, Math.round(value));
      else b.floatField(key, value);
    } else if (typeof value === 'boolean') b.booleanField(key, value);
    else if (typeof value === 'string') b.stringField(key, value);
  }
  return b.line();
}

/** The history's status changes, device events and alert events (the `events` policy). */
export function* historyEventLines(h: SimulatedHistory): Generator<PolicyLine> {
  const county = h.county.county.id;
  const seq = new Map<string, number>();
  const next = (gw: string) => {
    const n = (seq.get(gw) ?? 0) + 1;
    seq.set(gw, n);
    return n;
  };
  for (const s of h.statusChanges) {
    const b = new LineBuilder()
      .start('gateway', s.at)
      .tag('county', county)
      .tag('gateway', s.gateway)
      .tag('institution', s.institution)
      .tag('sim_run', h.runId)
      .tag('type', 'status')
      .intField('seq', next(s.gateway))
      .intField('lagMs', 0)
      .stringField('state', s.state)
      .stringField('reason', s.reason);
    yield { rp: 'events', line: b.line() };
  }
  for (const e of h.deviceEvents) {
    const b = new LineBuilder()
      .start(e.kind, e.at)
      .tag('county', county)
      .tag('device', e.device)
      .tag('gateway', e.gateway)
      .tag('institution', e.institution)
      .tag('sim_run', h.runId)
      .tag('type', 'event')
      .intField('seq', next(e.gateway))
      .intField('lagMs', 0)
      .stringField('event', e.event);
    if (e.drillId !== undefined) b.stringField('drillId', e.drillId);
    yield { rp: 'events', line: b.line() };
  }
  const used = new Map<string, number>();
  for (const a of h.alerts) for (const line of alertEventLines(h, a, used)) yield { rp: 'events', line };
}

/**
 * One `alert_event` point per transition, as alerting writes them (alerting/src/service/
 * alert-event-line.ts); a transition in a millisecond its series already used moves 1 ms later.
 */
function alertEventLines(h: SimulatedHistory, a: HistoryAlert, used: Map<string, number>): string[] {
  return a.transitions.map((t) => {
    const series = `${a.rule}\u0000${a.gateway}\u0000${a.device ?? ''}\u0000${a.severity}`;
    const prev = used.get(series);
    const at = prev !== undefined && t.at <= prev ? prev + 1 : t.at;
    used.set(series, at);
    const b = new LineBuilder().start('alert_event', at).tag('county', h.county.county.id);
    if (a.device !== undefined) b.tag('device', a.device);
    b.tag('gateway', a.gateway)
      .tag('institution', a.institution)
      .tag('kind', a.deviceKind ?? 'gateway')
      .tag('rule', a.rule)
      .tag('severity', a.severity)
      .tag('sim_run', h.runId)
      .stringField('alertId', a.id)
      .stringField('to', t.to)
      .stringField('from', t.from ?? '')
      .stringField('actor', t.actor)
      .intField('occurrences', 1)
      .booleanField('drill', a.drillId !== undefined)
      .booleanField('silenced', false);
    if (t.verdict !== undefined) b.stringField('verdict', t.verdict);
    return b.line();
  });
}

export type { TelemetryPayload };
