import type { queryV1 } from '@anlian/timeseries';
import { z } from 'zod';

export const HistoryMeasure = z.enum(['kitchen', 'extinguisher', 'camera']);
export type HistoryMeasure = z.infer<typeof HistoryMeasure>;
export const HistoryRange = z.enum(['24h', '7d']);
export type HistoryRange = z.infer<typeof HistoryRange>;

/** Measurement and field each chart draws; camera health as the frame rate (0 when the stream is down). */
const FIELD: Record<HistoryMeasure, string> = { kitchen: 'temperature', extinguisher: 'pressure', camera: 'fps' };
/** Bucket widths: ~144 points over 24 h, ~168 over 7 d — enough for a chart, little to send. */
const INTERVAL_S: Record<HistoryRange, number> = { '24h': 600, '7d': 3600 };

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * InfluxQL for one institution's history (InfluxQL works on InfluxDB 1.x, and through the v1 API
 * on 2.x and 3.x; Flux does not exist on 3.x). Ids are checked against the protocol's id rule
 * before they go into the string literal, so they cannot break out of it.
 *
 * Live data only: `"sim_run" = ''` matches the series without a `sim_run` tag, so a simulation
 * run's points (and points dated ahead of the county clock) never join the chart (design.md,
 * Simulated time). `fill(null)`: a bucket without data is a null point, and the chart breaks its
 * line there instead of drawing across an outage.
 */
export function historyQuery(opts: {
  institution: string;
  measure: HistoryMeasure;
  range: HistoryRange;
  device?: string | undefined;
}): {
  influxql: string;
  field: string;
  intervalS: number;
} {
  for (const id of [opts.institution, opts.device]) {
    if (id !== undefined && !SAFE_ID.test(id)) throw new Error(`unsafe id in a history query: ${id}`);
  }
  const field = FIELD[opts.measure];
  const intervalS = INTERVAL_S[opts.range];
  const device = opts.device ? ` AND "device" = '${opts.device}'` : '';
  const influxql =
    `SELECT mean("${field}") AS "v" FROM "${opts.measure}" ` +
    `WHERE "institution" = '${opts.institution}'${device} AND "type" = 'telemetry' AND "sim_run" = '' ` +
    `AND time > now() - ${opts.range} GROUP BY time(${intervalS}s), "device" fill(null)`;
  return { influxql, field, intervalS };
}

/** `[[epoch ms, value], …]` per device from the query's first statement. */
export function parseHistory(
  results: Awaited<ReturnType<typeof queryV1>>,
): { device: string; points: [number, number | null][] }[] {
  const first = results[0];
  if (first?.error !== undefined) throw new Error(first.error);
  return (first?.series ?? []).map((s) => ({
    device: s.tags.device ?? '',
    points: s.values.map(
      (row) => [Number(row[0]), typeof row[1] === 'number' ? row[1] : null] as [number, number | null],
    ),
  }));
}
