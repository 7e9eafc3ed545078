import { InfluxError } from './errors.js';
import { authHeaders, type InfluxTarget, queryUrl } from './influx-target.js';

/** One series of an InfluxQL answer. */
export interface InfluxSeries {
  name: string;
  tags: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** The answer to one statement of a query. */
export interface StatementResult {
  statementId: number;
  series: InfluxSeries[];
  /** Set when this statement failed (1.x answers 200 and reports the error per statement). */
  error?: string;
}

export interface QueryOptions {
  /** Database for unqualified measurements; default the target's. `null` sends none. */
  db?: string | null;
  /** Retention policy for unqualified measurements. */
  rp?: string;
  /** Unit of returned times. Default 'ms', matching what the writer writes. */
  epoch?: 'ns' | 'u' | 'ms' | 's' | 'm' | 'h';
  timeoutMs?: number;
  fetch?: typeof fetch;
}

interface RawResponse {
  results?: {
    statement_id?: number;
    error?: string;
    series?: { name?: string; tags?: Record<string, string>; columns?: string[]; values?: unknown[][] }[];
  }[];
  error?: string;
}

// SELECT and SHOW read; everything else (CREATE, DROP, ALTER, SELECT … INTO) needs POST in 1.x.
const READ_ONLY = /^\s*(select|show)\b/i;
const INTO = /\binto\b/i;

/**
 * Runs InfluxQL through the v1 `/query` API (InfluxDB 1.x, and the compat API of 2.x and 3.x).
 * Throws `ANL_ERR_INFLUX_QUERY` when the request fails; errors of single statements are returned
 * in their {@link StatementResult}.
 */
export async function queryV1(target: InfluxTarget, q: string, opts: QueryOptions = {}): Promise<StatementResult[]> {
  const url = queryUrl(target);
  url.searchParams.set('q', q);
  const db = opts.db === undefined ? target.database : opts.db;
  if (db !== null) url.searchParams.set('db', db);
  if (opts.rp !== undefined) url.searchParams.set('rp', opts.rp);
  url.searchParams.set('epoch', opts.epoch ?? 'ms');
  const method = READ_ONLY.test(q) && !INTO.test(q) ? 'GET' : 'POST';
  let res: Response;
  try {
    res = await (opts.fetch ?? fetch)(url, {
      method,
      headers: { accept: 'application/json', ...authHeaders(target) },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 30_000),
    });
  } catch (err) {
    throw new InfluxError('ANL_ERR_INFLUX_QUERY', `query to ${target.url} failed: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const text = await res.text();
  let body: RawResponse;
  try {
    body = JSON.parse(text) as RawResponse;
  } catch {
    // Not JSON: a proxy's error page or similar; the status and text say more than the parse error.
    throw new InfluxError('ANL_ERR_INFLUX_QUERY', `query answered ${res.status}: ${text.slice(0, 500)}`);
  }
  if (!res.ok || body.error !== undefined) {
    throw new InfluxError('ANL_ERR_INFLUX_QUERY', `query answered ${res.status}: ${body.error ?? text.slice(0, 500)}`);
  }
  return (body.results ?? []).map((r, i) => {
    const result: StatementResult = {
      statementId: r.statement_id ?? i,
      series: (r.series ?? []).map((s) => ({
        name: s.name ?? '',
        tags: s.tags ?? {},
        columns: s.columns ?? [],
        values: s.values ?? [],
      })),
    };
    if (r.error !== undefined) result.error = r.error;
    return result;
  });
}

/** One statement's series; throws `ANL_ERR_INFLUX_QUERY` if the statement failed. */
export async function querySeriesV1(target: InfluxTarget, q: string, opts: QueryOptions = {}): Promise<InfluxSeries[]> {
  const [first] = await queryV1(target, q, opts);
  if (first?.error !== undefined) throw new InfluxError('ANL_ERR_INFLUX_QUERY', `${first.error} (in: ${q})`);
  return first?.series ?? [];
}

/** A series as objects keyed by column, with the series' tags merged in. */
export function seriesRows(series: InfluxSeries): Record<string, unknown>[] {
  return series.values.map((row) => {
    const obj: Record<string, unknown> = { ...series.tags };
    series.columns.forEach((col, i) => {
      obj[col] = row[i];
    });
    return obj;
  });
}
