import { reservePort } from '@anlian/testing';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { authHeaders, type InfluxTarget, storageName, writeUrl } from '../src/influx-target.js';
import { classify, LineSender, parseRetryAfter } from '../src/line-sender.js';
import { type CaptureServer, startCaptureServer } from './capture-server.js';

let server: CaptureServer;

beforeEach(async () => {
  server = await startCaptureServer();
});
afterEach(async () => {
  await server.close();
});

const body = 'fire,device=d1 t=1 1700000000000\nfire,device=d2 t=2 1700000000001';

describe('writeUrl and authHeaders', () => {
  it('v1: /write with db, rp and ms precision; user/password as HTTP Basic', () => {
    const t: InfluxTarget = {
      url: 'http://h:8086',
      generation: 1,
      database: 'anlian',
      username: 'ingest',
      password: 'pw',
    };
    expect(writeUrl(t)).toBe('http://h:8086/write?db=anlian&precision=ms');
    expect(writeUrl(t, 'events_1y')).toBe('http://h:8086/write?db=anlian&rp=events_1y&precision=ms');
    expect(writeUrl({ ...t, retentionPolicy: 'raw_90d' })).toBe(
      'http://h:8086/write?db=anlian&rp=raw_90d&precision=ms',
    );
    expect(authHeaders(t)).toEqual({ authorization: `Basic ${Buffer.from('ingest:pw').toString('base64')}` });
  });

  it('v1 against the 2.x compat API: token as `Token`', () => {
    const t: InfluxTarget = { url: 'http://h:8086', generation: 1, database: 'anlian', token: 'tok' };
    expect(authHeaders(t)).toEqual({ authorization: 'Token tok' });
  });

  it('v2: /api/v2/write with org and the db/rp bucket', () => {
    const t: InfluxTarget = { url: 'https://h/influx/', generation: 2, database: 'anlian', org: '县 org', token: 't' };
    expect(writeUrl(t)).toBe('https://h/influx/api/v2/write?org=%E5%8E%BF+org&bucket=anlian&precision=ms');
    expect(writeUrl(t, 'events_1y')).toBe(
      'https://h/influx/api/v2/write?org=%E5%8E%BF+org&bucket=anlian%2Fevents_1y&precision=ms',
    );
    expect(authHeaders(t)).toEqual({ authorization: 'Token t' });
    expect(() => writeUrl({ ...t, org: undefined })).toThrow(/org/);
    expect(() => authHeaders({ ...t, token: undefined, username: 'u', password: 'p' })).toThrow(/token/);
  });

  it('v3: /api/v3/write_lp with db and millisecond precision; token as Bearer', () => {
    const t: InfluxTarget = { url: 'http://h:8181', generation: 3, database: 'anlian', token: 'apiv3_x' };
    expect(writeUrl(t)).toBe('http://h:8181/api/v3/write_lp?db=anlian&precision=millisecond');
    expect(storageName({ ...t, retentionPolicy: 'raw_90d' })).toBe('anlian/raw_90d');
    expect(authHeaders(t)).toEqual({ authorization: 'Bearer apiv3_x' });
  });
});

describe('LineSender', () => {
  it.each([
    [1, '/write', { db: 'anlian', rp: 'events_1y', precision: 'ms' }, 'Token tok'],
    [2, '/api/v2/write', { org: 'county', bucket: 'anlian/events_1y', precision: 'ms' }, 'Token tok'],
    [3, '/api/v3/write_lp', { db: 'anlian/events_1y', precision: 'millisecond' }, 'Bearer tok'],
  ] as const)('generation %i posts the body to %s', async (generation, path, params, auth) => {
    const sender = new LineSender({
      target: { url: server.url, generation, database: 'anlian', org: 'county', token: 'tok' },
    });
    const result = await sender.send(Buffer.from(body), { rp: 'events_1y' });
    expect(result).toEqual({ kind: 'ok', status: 204 });
    const [req] = server.requests;
    expect(req?.method).toBe('POST');
    expect(req?.url.pathname).toBe(path);
    expect(Object.fromEntries(req?.url.searchParams ?? [])).toEqual(params);
    expect(req?.headers.authorization).toBe(auth);
    expect(req?.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(req?.body).toBe(body);
  });

  it('classifies 429 with Retry-After, 503 and 500 as retry, 400/413/422 as reject', async () => {
    const sender = new LineSender({ target: { url: server.url, generation: 1, database: 'anlian' } });
    const answer = (status: number, text = '', headers: Record<string, string> = {}) =>
      server.respond((_req, res) => res.writeHead(status, headers).end(text));

    answer(429, '{"error":"slow down"}', { 'retry-after': '7' });
    expect(await sender.send(body)).toEqual({
      kind: 'retry',
      status: 429,
      afterMs: 7000,
      error: 'HTTP 429: {"error":"slow down"}',
    });
    answer(500, '{"error":"engine: cache-max-memory-size exceeded"}');
    expect(await sender.send(body)).toMatchObject({ kind: 'retry', status: 500 });
    answer(404, '{"error":"database not found: \\"anlian\\""}');
    expect(await sender.send(body)).toMatchObject({ kind: 'retry', status: 404 });

    const conflict = '{"error":"partial write: field type conflict: input field \\"t\\" dropped=1"}';
    answer(400, conflict);
    expect(await sender.send(body)).toEqual({ kind: 'reject', status: 400, body: conflict });
    answer(413, 'too large');
    expect(await sender.send(body)).toMatchObject({ kind: 'reject', status: 413 });
    answer(422, '{"code":"unprocessable entity"}');
    expect(await sender.send(body)).toMatchObject({ kind: 'reject', status: 422 });
  });

  it('turns a refused connection and a timeout into retry', async () => {
    const nobody = await reservePort();
    onTestFinished(() => nobody.release());
    const closed = new LineSender({
      target: { url: `http://127.0.0.1:${nobody.port}`, generation: 1, database: 'anlian' },
    });
    expect(await closed.send(body)).toMatchObject({
      kind: 'retry',
      error: expect.stringMatching(/ECONNREFUSED|fetch failed/),
    });

    server.respond(() => {
      // never answers
    });
    const slow = new LineSender({ target: { url: server.url, generation: 1, database: 'anlian' }, timeoutMs: 100 });
    expect(await slow.send(body)).toEqual({ kind: 'retry', error: 'timeout after 100 ms' });
  });

  it('stops waiting when the caller aborts', async () => {
    server.respond(() => {
      // never answers
    });
    const sender = new LineSender({ target: { url: server.url, generation: 1, database: 'anlian' } });
    const abort = new AbortController();
    const pending = sender.send(body, { signal: abort.signal });
    abort.abort();
    expect(await pending).toMatchObject({ kind: 'retry' });
  });
});

describe('Retry-After', () => {
  it('reads delay-seconds and HTTP dates', () => {
    const now = Date.UTC(2025, 0, 1, 0, 0, 0);
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
    expect(classify(503, '', 'Wed, 01 Jan 2025 00:00:05 GMT', now)).toEqual({
      kind: 'retry',
      status: 503,
      afterMs: 5000,
      error: 'HTTP 503',
    });
  });
});
