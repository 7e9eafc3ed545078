import { authHeaders, type InfluxTarget, writeUrl } from './influx-target.js';

/** How one write request ended, classified for the send loop. */
export type SendResult =
  | { kind: 'ok'; status: number }
  /**
   * Try the same batch again later: network error, timeout, 5xx, 429, and also 401/403/404
   * (wrong token, unknown database or bucket): those are configuration problems an operator
   * fixes, the data itself is good and must not be thrown away.
   */
  | { kind: 'retry'; status?: number; afterMs?: number; error: string }
  /**
   * The server refused (some of) the data itself: malformed line protocol, field type
   * conflicts, points outside the retention policy (400), semantically invalid (422), or a
   * body too large (413). Sending the same bytes again cannot succeed.
   */
  | { kind: 'reject'; status: number; body: string };

export interface LineSenderOptions {
  target: InfluxTarget;
  /** Per-request timeout. Default 10 s. */
  timeoutMs?: number;
  /** Injected for tests; default the global `fetch` (undici, keep-alive). */
  fetch?: typeof fetch;
}

export interface SendOptions {
  /** Retention policy (v1) / bucket or database suffix (v2/v3); default the target's. */
  rp?: string;
  /** Aborts the request, e.g. when the writer stops. */
  signal?: AbortSignal;
}

/** Error bodies are kept for logs and the dead-letter file; cap what we hold. */
const MAX_ERROR_BODY = 4096;

/** Posts one batch of line protocol to InfluxDB and classifies the answer. Holds no state. */
export class LineSender {
  private readonly urls = new Map<string, string>();
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: LineSenderOptions) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchFn = options.fetch ?? fetch;
    this.headers = { 'content-type': 'text/plain; charset=utf-8', ...authHeaders(options.target) };
  }

  /** The URL a batch for `rp` goes to. */
  url(rp?: string): string {
    const key = rp ?? '';
    let url = this.urls.get(key);
    if (url === undefined) {
      url = writeUrl(this.options.target, rp);
      this.urls.set(key, url);
    }
    return url;
  }

  /** Sends `body` (line protocol, lines separated by `\n`). Never throws. */
  async send(body: Uint8Array | string, opts: SendOptions = {}): Promise<SendResult> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = opts.signal === undefined ? timeout : AbortSignal.any([timeout, opts.signal]);
    let res: Response;
    try {
      res = await this.fetchFn(this.url(opts.rp), { method: 'POST', headers: this.headers, body, signal });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      const message = timeout.aborted
        ? `timeout after ${this.timeoutMs} ms`
        : `${err instanceof Error ? err.message : String(err)}${cause}`;
      return { kind: 'retry', error: message };
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      // The status is known but the body broke off; the status still decides.
      text = `(body unreadable: ${err instanceof Error ? err.message : String(err)})`;
    }
    return classify(res.status, text.slice(0, MAX_ERROR_BODY), res.headers.get('retry-after'));
  }
}

/** Maps a write response to ok / retry / reject. Exported for tests. */
export function classify(status: number, body: string, retryAfter: string | null, now = Date.now()): SendResult {
  if (status >= 200 && status < 300) return { kind: 'ok', status };
  if (status === 400 || status === 413 || status === 422) return { kind: 'reject', status, body };
  const error = `HTTP ${status}${body ? `: ${body.trim()}` : ''}`;
  const afterMs = parseRetryAfter(retryAfter, now);
  return afterMs === undefined ? { kind: 'retry', status, error } : { kind: 'retry', status, afterMs, error };
}

/** RFC 9110 §10.2.3: `Retry-After` is delay-seconds or an HTTP-date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
