import type { EventPayload, GatewayAddress, HeartbeatPayload, StatusPayload, TelemetryPayload } from '@anlian/protocol';

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

/*
 * Line protocol by hand rather than with `Point` from @influxdata/influxdb-client (which
 * ARCHITECTURE.md names for its well-kept escaping): at 10,000 msg/s `Point` — a fields object,
 * `Object.keys().sort().forEach`, an escaper per key and value — cost ~7 % of ingest's CPU
 * (bench:ingest --profile). This writer reproduces `Point`'s output byte for byte, its escaping
 * included (the measurement escapes `,` space \n \r \t; tag keys, tag values and field keys also
 * `=`; string field values `"` and `\`), tags and fields sorted by key, tags with an empty value
 * left out, a field written twice keeping its last value. ingest/test/pipeline/line-protocol.test.ts
 * pins the escaping, including the edge cases.
 */
const MEASUREMENT_SPECIAL = /[, \n\r\t]/;
const MEASUREMENT_SPECIAL_G = /[, \n\r\t]/g;
const TAG_SPECIAL = /[, =\n\r\t]/;
const TAG_SPECIAL_G = /[, =\n\r\t]/g;
const QUOTED_SPECIAL = /["\\]/;
const QUOTED_SPECIAL_G = /["\\]/g;
const REPLACEMENTS: Record<string, string> = {
  ',': '\\,',
  ' ': '\\ ',
  '=': '\\=',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '"': '\\"',
  '\\': '\\\\',
};
const replace = (c: string): string => REPLACEMENTS[c] as string;

function escapeMeasurement(s: string): string {
  return MEASUREMENT_SPECIAL.test(s) ? s.replace(MEASUREMENT_SPECIAL_G, replace) : s;
}
function escapeTag(s: string): string {
  return TAG_SPECIAL.test(s) ? s.replace(TAG_SPECIAL_G, replace) : s;
}
function quote(s: string): string {
  return QUOTED_SPECIAL.test(s) ? `"${s.replace(QUOTED_SPECIAL_G, replace)}"` : `"${s}"`;
}

/**
 * One line being written. Tags are appended in key order by the callers (they are a fixed set);
 * fields are kept sorted by key as they are added, a repeated key replacing the earlier value.
 */
export class LineBuilder {
  #head = '';
  readonly #keys: string[] = [];
  readonly #values: string[] = [];
  #time = 0;

  start(measurement: string, ts: number): this {
    this.#head = escapeMeasurement(measurement);
    this.#keys.length = 0;
    this.#values.length = 0;
    this.#time = ts;
    return this;
  }

  /** Tags must come in key order; an empty value is left out, as `Point` does. */
  tag(key: string, value: string): this {
    if (value) this.#head += `,${escapeTag(key)}=${escapeTag(value)}`;
    return this;
  }

  #field(key: string, value: string): this {
    const keys = this.#keys;
    let i = keys.length;
    while (i > 0 && (keys[i - 1] as string) > key) i--;
    if (i > 0 && keys[i - 1] === key) {
      this.#values[i - 1] = value;
      return this;
    }
    if (i === keys.length) {
      keys.push(key);
      this.#values.push(value);
    } else {
      keys.splice(i, 0, key);
      this.#values.splice(i, 0, value);
    }
    return this;
  }

  intField(key: string, value: number): this {
    if (Number.isNaN(value) || value <= -9223372036854776e3 || value >= 9223372036854776e3) {
      throw new Error(`invalid integer value for field '${key}': '${value}'!`);
    }
    return this.#field(key, `${Math.floor(value)}i`);
  }

  floatField(key: string, value: number): this {
    if (!Number.isFinite(value)) throw new Error(`invalid float value for field '${key}': ${value}`);
    return this.#field(key, String(value));
  }

  booleanField(key: string, value: boolean): this {
    return this.#field(key, value ? 'T' : 'F');
  }

  stringField(key: string, value: string): this {
    return this.#field(key, quote(value));
  }

  timestamp(ts: number): this {
    this.#time = ts;
    return this;
  }

  line(): string {
    const keys = this.#keys;
    const values = this.#values;
    let fields = '';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      if (!key) continue;
      fields += `${fields.length > 0 ? ',' : ''}${escapeTag(key)}=${values[i] as string}`;
    }
    if (fields.length === 0) throw new Error('a point without fields cannot be written');
    return `${this.#head} ${fields} ${this.#time}`;
  }
}

/** One builder for the module: a line is built synchronously, start to finish. */
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
  p.tag('type', 'telemetry');
  if (!ctx.confirmed) p.booleanField('unconfirmed', true);
  addValues(p, t);
  return p.line();
}

export function eventLine(ctx: PointContext, device: string, e: EventPayload): string {
  const p = base(e.kind, ctx, e.ts, e.seq, device).tag('type', 'event').stringField('event', e.event);
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
  const p = base('gateway', ctx, s.ts, s.seq).tag('type', 'status').stringField('state', s.state);
  if (s.reason) p.stringField('reason', s.reason);
  if (s.reason === 'will') p.timestamp(ctx.receivedAt).intField('composedTs', s.ts).intField('lagMs', 0);
  return p.line();
}

export function heartbeatLine(ctx: PointContext, h: HeartbeatPayload): string {
  const p = base('gateway', ctx, h.ts, h.seq)
    .tag('type', 'heartbeat')
    .floatField('uptimeS', h.uptimeS)
    .intField('queueDepth', h.queueDepth)
    .intField('adaptersOk', h.adapters.filter((a) => a.ok).length)
    .intField('adaptersTotal', h.adapters.length);
  if (h.version) p.stringField('version', h.version);
  return p.line();
}
