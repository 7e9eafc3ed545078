import type { EventPayload, GatewayAddress, HeartbeatPayload, StatusPayload, TelemetryPayload } from '@anlian/protocol';
import { Point } from '@influxdata/influxdb-client';

/**
 * Measurement and tag design (ARCHITECTURE.md, Storage): one measurement per device kind plus
 * `gateway`; tags are county, institution, gateway, device and `type` (telemetry | event), plus
 * `medium` on pressure gauges — all bounded. Sequence numbers, lags and free text are fields,
 * never tags. Timestamps are the device's, in milliseconds.
 *
 * Numeric payload values are always written as floats, except the few that are integers by
 * nature: InfluxDB fixes a field's type per shard, and one float/int mix-up would make every
 * later write of that series fail.
 */
const INTEGER_FIELDS = new Set(['width', 'height', 'lastFrameTs', 'queueDepth']);
const ENVELOPE_KEYS = new Set(['v', 'ts', 'seq', 'kind', 'medium', 'event']);

export interface PointContext extends GatewayAddress {
  /** When the county received the message, ms since epoch. */
  receivedAt: number;
  /** False for a device that is not (yet) in the registry. */
  confirmed: boolean;
}

const MS = { convertTime: (t: string | number | Date | undefined) => (t === undefined ? undefined : String(t)) };

function base(measurement: string, ctx: PointContext, ts: number, seq: number): Point {
  return new Point(measurement)
    .tag('county', ctx.county)
    .tag('institution', ctx.institution)
    .tag('gateway', ctx.gateway)
    .intField('seq', seq)
    .intField('lagMs', Math.round(ctx.receivedAt - ts))
    .timestamp(ts);
}

function addValues(p: Point, payload: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(payload)) {
    if (ENVELOPE_KEYS.has(key) || value === undefined) continue;
    if (typeof value === 'number') {
      if (INTEGER_FIELDS.has(key)) p.intField(key, Math.round(value));
      else p.floatField(key, value);
    } else if (typeof value === 'boolean') p.booleanField(key, value);
    else if (typeof value === 'string') p.stringField(key, value);
  }
}

function line(p: Point): string {
  const l = p.toLineProtocol(MS);
  if (l === undefined) throw new Error('a point without fields cannot be written');
  return l;
}

export function telemetryLine(ctx: PointContext, device: string, t: TelemetryPayload): string {
  const p = base(t.kind, ctx, t.ts, t.seq).tag('device', device).tag('type', 'telemetry');
  if (t.kind === 'extinguisher') p.tag('medium', t.medium);
  if (!ctx.confirmed) p.booleanField('unconfirmed', true);
  addValues(p, t);
  return line(p);
}

export function eventLine(ctx: PointContext, device: string, e: EventPayload): string {
  const p = base(e.kind, ctx, e.ts, e.seq).tag('device', device).tag('type', 'event').stringField('event', e.event);
  if (!ctx.confirmed) p.booleanField('unconfirmed', true);
  addValues(p, e);
  return line(p);
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
  const p = base('gateway', ctx, s.ts, s.seq).tag('type', 'status').stringField('state', s.state);
  if (s.reason) p.stringField('reason', s.reason);
  if (s.reason === 'will') p.timestamp(ctx.receivedAt).intField('composedTs', s.ts).intField('lagMs', 0);
  return line(p);
}

export function heartbeatLine(ctx: PointContext, h: HeartbeatPayload): string {
  const p = base('gateway', ctx, h.ts, h.seq)
    .tag('type', 'heartbeat')
    .floatField('uptimeS', h.uptimeS)
    .intField('queueDepth', h.queueDepth)
    .intField('adaptersOk', h.adapters.filter((a) => a.ok).length)
    .intField('adaptersTotal', h.adapters.length);
  if (h.version) p.stringField('version', h.version);
  return line(p);
}
