import { InfluxError } from './errors.js';

/**
 * Where points go. One line-protocol writer serves every InfluxDB generation; only the write
 * endpoint and the auth header differ.
 *
 * - `1`: the v1 API `/write` + `/query` — InfluxDB 1.x, and the v1 compatibility API of 2.x and 3.x.
 * - `2`: `/api/v2/write` (InfluxDB 2.x, Cloud).
 * - `3`: `/api/v3/write_lp` (InfluxDB 3 Core / Enterprise).
 */
export interface InfluxTarget {
  /** Base URL, e.g. `http://127.0.0.1:8086`; a path prefix behind a proxy is kept. */
  url: string;
  generation: 1 | 2 | 3;
  /** v1: database; v2: bucket; v3: database. */
  database: string;
  /** v2 only: organization name. */
  org?: string;
  /** API token: `Authorization: Token …` (v1 compat, v2) or `Bearer …` (v3). */
  token?: string;
  /** v1 user (sent as HTTP Basic, which 1.x and the 2.x compat API accept). */
  username?: string;
  password?: string;
  /**
   * Retention policy used when a write names none. For v1 it is sent as `rp`; without it the
   * database's DEFAULT policy applies. For v2/v3 see {@link storageName}.
   */
  retentionPolicy?: string;
}

/**
 * The v2 bucket / v3 database that stands for `database` + retention policy `rp`. InfluxDB 2.x
 * maps a bucket named `db/rp` to that DBRP pair ("virtual DBRP mapping"), so the same naming keeps
 * the v1 compat API, InfluxQL queries and v2 writes pointing at one place. Operators create one
 * bucket (or v3 database) per retention: `anlian/raw_90d`, `anlian/events_1y`, `anlian/hourly_3y`.
 */
export function storageName(target: InfluxTarget, rp?: string): string {
  const policy = rp ?? target.retentionPolicy;
  return policy === undefined || policy === '' ? target.database : `${target.database}/${policy}`;
}

function endpoint(target: InfluxTarget, path: string): URL {
  const base = target.url.endsWith('/') ? target.url : `${target.url}/`;
  return new URL(path, base);
}

/** The write endpoint for `target`, with millisecond precision (device timestamps are ms). */
export function writeUrl(target: InfluxTarget, rp?: string): string {
  switch (target.generation) {
    case 1: {
      const url = endpoint(target, 'write');
      url.searchParams.set('db', target.database);
      const policy = rp ?? target.retentionPolicy;
      if (policy !== undefined && policy !== '') url.searchParams.set('rp', policy);
      url.searchParams.set('precision', 'ms');
      return url.href;
    }
    case 2: {
      const url = endpoint(target, 'api/v2/write');
      if (target.org === undefined || target.org === '') {
        throw new InfluxError('ANL_ERR_INFLUX_TARGET', 'InfluxDB 2.x target needs an org');
      }
      url.searchParams.set('org', target.org);
      url.searchParams.set('bucket', storageName(target, rp));
      url.searchParams.set('precision', 'ms');
      return url.href;
    }
    case 3: {
      const url = endpoint(target, 'api/v3/write_lp');
      url.searchParams.set('db', storageName(target, rp));
      url.searchParams.set('precision', 'millisecond');
      return url.href;
    }
  }
}

/** The `/query` (InfluxQL, v1 API; 2.x and 3.x serve it too) endpoint. */
export function queryUrl(target: InfluxTarget): URL {
  return endpoint(target, 'query');
}

/** Authorization headers for `target`; empty when it needs none. */
export function authHeaders(target: InfluxTarget): Record<string, string> {
  if (target.token !== undefined && target.token !== '') {
    // InfluxDB 3 documents `Bearer`; 2.x and the v1 compat API of 2.x use `Token`.
    return { authorization: `${target.generation === 3 ? 'Bearer' : 'Token'} ${target.token}` };
  }
  if (target.username !== undefined && target.username !== '') {
    if (target.generation !== 1) {
      throw new InfluxError(
        'ANL_ERR_INFLUX_TARGET',
        `InfluxDB ${target.generation}.x writes need a token; user/password works only with generation 1 (the v1 API)`,
      );
    }
    // Basic rather than `u`/`p` query parameters keeps the password out of URLs and access logs.
    const basic = Buffer.from(`${target.username}:${target.password ?? ''}`, 'utf8').toString('base64');
    return { authorization: `Basic ${basic}` };
  }
  return {};
}
