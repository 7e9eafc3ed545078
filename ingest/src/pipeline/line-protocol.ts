import type { EventPayload, GatewayAddress, HeartbeatPayload, StatusPayload, TelemetryPayload } from '@anlian/protocol';
import { LineBuilder } from '@anlian/timeseries';

/**
 * Measurement and tag design (ARCHITECTURE.md, Storage): one measurement per device kind plus
 * `gateway`; tags are county, institution, gateway, device and `type` (telemetry | event), plus
 * `medium` on pressure gauges, and `sim_run` on points kept apart from live data (a simulation
 * run's id, or `clock-ahead`; one value per run) — all bounded. Live queries keep
 * `WHERE "sim_run" = ''` (design.md, Simulated time). Sequence numbers, lags, free text and a
 * drill's id (`drillId`) are fields, never tags. Timestamps are the device's, in milliseconds.
 *
 * Numeric payload values are always written as floats, except the few that are integers by
 * nature: InfluxDB fixes a field's type per shard, and one float/int mix-up would make every
 * later write of that series fail.
 */
const INTEGER_FIELDS = new Set(['width', 'height', 'lastFrameTs', 'queueDepth']);
const ENVELOPE_KEYS = new Set(['v', 'ts', 'seq', 'simRun', 'kind', 'medium', 'event']);

export interface PointContext extends GatewayAddress {
  /** When the county received the message, ms since epoch. */
  receivedAt: number;
  /** False for a device that is not (yet) in the registry. */
  confirmed: boolean;
  /** Kept apart from live data: the simulation run's id, or `clock-ahead` (the `sim_run` tag). */
  simRun?: string | undefined;
}

const lb = new LineBuilder();

/**
 * Measurement, then county, [device], gateway, institution — the callers add the later tags in order.
 *
 * `lagMs` (county receive time − device time) is stored with events, status and heartbeats, where
 * it dates an alarm's arrival for the record. Telemetry goes without: one field more on every
 * reading cost InfluxDB 1.6 ~20 % more CPU per point (85 against 67 µs, writing 10,000 points/s of
 * these shapes), and its lag is in `anlian_ingest_receive_lag_seconds` instead.
 */
function base(
  measurement: string,
  ctx: PointContext,
  ts: number,
  seq: number,
  device?: string,
  withLag = true,
): LineBuilder {
  lb.start(measurement, ts).tag('county', ctx.county);
  if (device !== undefined) lb.tag('device', device);
  lb.tag('gateway', ctx.gateway).tag('institution', ctx.institution).intField('seq', seq);
  return withLag ? lb.intField('lagMs', Math.round(ctx.receivedAt - ts)) : lb;
}

function addValues(p: LineBuilder, payload: object): void {
  for (const key in payload) {
    if (ENVELOPE_KEYS.has(key)) continue;
    const value = (payload as Record<string, unknown>)[key];
    if (typeof value === 'number') {
      if (INTEGER_FIELDS.has(key)) p.intField(key, Math.round(value));
      else p.floatField(key, value);
    } else if (typeof value === 'boolean') p.booleanField(key, value);
    else if (typeof value === 'string') p.stringField(key, value);
  }
}

export function telemetryLine(ctx: PointContext, device: string, t: TelemetryPayload): string {
  const p = base(t.kind, ctx, t.ts, t.seq, device, false);
  if (t.kind === 'extinguisher') p.tag('medium', t.medium);
  p.tag('sim_run', ctx.simRun ?? '').tag('type', 'telemetry');
  if (!ctx.confirmed) p.booleanField('unconfirmed', true);
  addValues(p, t);
  return p.line();
}

export function eventLine(ctx: PointContext, device: string, e: EventPayload): string {
  const p = base(e.kind, ctx, e.ts, e.seq, device)
    .tag('sim_run', ctx.simRun ?? '')
    .tag('type', 'event')
    .stringField('event', e.event);
  if (!ctx.confirmed) p.booleanField('unconfirmed', true);
  addValues(p, e);
  return p.line();
}

/**
 * A last will is composed at CONNECT, so its `ts` is the connect time — the same as the `online`
 * status sent then, which it would overwrite in InfluxDB (same series, same time). It happens
 * when the broker publishes it, so it is stored at the county's receive time, with the time it
 * carries kept as `composedTs`.
 */
export function statusTime(ctx: PointContext, s: StatusPayload): number {
  return s.reason === 'will' ? ctx.receivedAt : s.ts;
}

export function statusLine(ctx: PointContext, s: StatusPayload): string {
  const p = base('gateway', ctx, s.ts, s.seq)
    .tag('sim_run', ctx.simRun ?? '')
    .tag('type', 'status')
    .stringField('state', s.state);
  if (s.reason) p.stringField('reason', s.reason);
  if (s.reason === 'will') p.timestamp(ctx.receivedAt).intField('composedTs', s.ts).intField('lagMs', 0);
  return p.line();
}

export function heartbeatLine(ctx: PointContext, h: HeartbeatPayload): string {
  const p = base('gateway', ctx, h.ts, h.seq)
    .tag('sim_run', ctx.simRun ?? '')
    .tag('type', 'heartbeat')
    .floatField('uptimeS', h.uptimeS)
    .intField('queueDepth', h.queueDepth)
    .intField('adaptersOk', h.adapters.filter((a) => a.ok).length)
    .intField('adaptersTotal', h.adapters.length);
  if (h.version) p.stringField('version', h.version);
  return p.line();
}
