import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SendFailure } from './notification-channel.js';

export interface HttpAttemptRequest {
  url: string | URL;
  method?: 'POST';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** The dispatcher's signal (stop, cancel). */
  signal: AbortSignal;
}

export interface HttpAttemptResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON when it is JSON; undefined otherwise. */
  json: unknown;
}

export type HttpAttemptOutcome =
  | { ok: true; response: HttpAttemptResponse }
  /** `response` is there when the server answered (HTTP 4xx/5xx), for vendors that put a code in it. */
  | { ok: false; failure: SendFailure; response?: HttpAttemptResponse };

/** Vendor answers are a few hundred bytes; an error message quotes at most this much of one. */
const QUOTE_CHARS = 300;

export function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= QUOTE_CHARS ? flat : `${flat.slice(0, QUOTE_CHARS)}…`;
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // undici wraps the socket error in `cause` (ECONNREFUSED, ECONNRESET, UND_ERR_…).
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return `${err.message}: ${typeof code === 'string' ? `${code} ` : ''}${cause.message}`;
  }
  return err.message;
}

/**
 * One HTTP request with a timeout, classified: transport errors, timeouts, 408, 425, 429 and
 * 5xx are retryable (with Retry-After), other 4xx are not; 2xx/3xx come back for the channel to
 * read the vendor's own result code. Node's global fetch (undici) keeps connections alive per
 * origin, so a critical push reuses a warm TLS connection to the vendor.
 */
export async function httpAttempt(
  fetchFn: typeof fetch,
  req: HttpAttemptRequest,
  now: () => number,
): Promise<HttpAttemptOutcome> {
  // An explicit timer rather than AbortSignal.timeout: it is cleared as soon as the answer is in.
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), req.timeoutMs);
  const signal = AbortSignal.any([req.signal, timeout.signal]);
  let res: Response;
  let text: string;
  try {
    res = await fetchFn(req.url, {
      method: req.method ?? 'POST',
      headers: req.headers,
      ...(req.body === undefined ? {} : { body: req.body }),
      signal,
      redirect: 'error',
    });
    // Read the whole body even when it is not needed: that returns the connection to the pool.
    text = await res.text();
  } catch (err) {
    // Aborted by the dispatcher (stopping): another run can still deliver it.
    if (req.signal.aborted) return { ok: false, failure: { status: 'failed', retryable: true, error: 'aborted' } };
    if (timeout.signal.aborted) {
      return { ok: false, failure: { status: 'failed', retryable: true, error: `timeout after ${req.timeoutMs} ms` } };
    }
    return { ok: false, failure: { status: 'failed', retryable: true, error: describeError(err) } };
  } finally {
    clearTimeout(timer);
  }
  let json: unknown;
  if (text !== '') {
    try {
      json = JSON.parse(text);
    } catch {
      // Not JSON (an HTML error page from a proxy): the status decides, the text is quoted.
      json = undefined;
    }
  }
  const response: HttpAttemptResponse = { status: res.status, headers: res.headers, text, json };
  if (res.status < 400) return { ok: true, response };
  const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'), now());
  const retryable = res.status >= 500 || res.status === 408 || res.status === 425 || res.status === 429;
  const failure: SendFailure = {
    status: 'failed',
    retryable,
    error: `HTTP ${res.status}${text === '' ? '' : `: ${quote(text)}`}`,
  };
  if (retryAfterMs !== undefined) failure.retryAfterMs = retryAfterMs;
  return { ok: false, failure, response };
}

export function jsonHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'anlian-alerting', ...extra };
}

/**
 * Warms the push path's HTTP client before the first alarm needs it (issue 12): Node loads and
 * compiles its fetch (undici) on the first call, which measured 43 ms on the alarm thread and
 * ~75 ms to the answer (bench:alarm-latency's first fire alarm of a run: 80–180 ms to its push,
 * the others ≤ 20 ms). One JSON POST through {@link httpAttempt} to a loopback server of its own,
 * closed after: no vendor is called. Resolves with how long it took, or undefined when it could
 * not (logged; the first push then pays for it).
 */
export async function warmHttpClient(
  fetchFn: typeof fetch,
  logger: { debug(o: object, msg: string): void; warn(o: object, msg: string): void },
): Promise<number | undefined> {
  const started = performance.now();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0}'));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const outcome = await httpAttempt(
      fetchFn,
      {
        url: `http://127.0.0.1:${port}/warm-up`,
        headers: jsonHeaders(),
        body: '{"warmUp":true}',
        timeoutMs: 5000,
        signal: new AbortController().signal,
      },
      Date.now,
    );
    if (!outcome.ok) throw new Error(outcome.failure.error);
    const ms = performance.now() - started;
    logger.debug({ ms: Math.round(ms) }, 'push path HTTP client warmed');
    return ms;
  } catch (err) {
    logger.warn({ err }, 'could not warm the push path’s HTTP client; the first push loads it');
    return undefined;
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
