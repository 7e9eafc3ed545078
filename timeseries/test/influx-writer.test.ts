import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InfluxWriter, type InfluxWriterOptions } from '../src/influx-writer.js';
import { type CaptureServer, startCaptureServer } from './capture-server.js';
import { captureLogger, waitFor } from './test-helpers.js';

let server: CaptureServer;
let spoolDir: string;
const writers: InfluxWriter[] = [];

beforeEach(async () => {
  server = await startCaptureServer();
  spoolDir = await mkdtemp(join(tmpdir(), 'anlian-writer-'));
});

afterEach(async () => {
  for (const w of writers.splice(0)) await w.stop(200);
  await server.close();
  await rm(spoolDir, { recursive: true, force: true });
});

function makeWriter(opts: Partial<InfluxWriterOptions> = {}) {
  const { logger, records } = captureLogger();
  const metrics = new Registry();
  const writer = new InfluxWriter({
    target: { url: server.url, generation: 1, database: 'anlian' },
    spoolDir,
    logger,
    metrics,
    retry: { minMs: 5, maxMs: 20 },
    ...opts,
  });
  writers.push(writer);
  return { writer, metrics, logs: records };
}

const line = (i: number) => `kitchen,device=d${i % 5} temperature=${20 + (i % 30)} ${1_700_000_000_000 + i}`;
const lines = (from: number, n: number) => Array.from({ length: n }, (_, k) => line(from + k));

/** Lines of the requests InfluxDB (here: the capture server) accepted. */
function accepted(): string[] {
  return server.requests.filter((r) => r.status === 204).flatMap((r) => r.body.split('\n').filter((l) => l !== ''));
}

async function metricValue(metrics: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = metrics.getSingleMetric(name);
  if (metric === undefined) throw new Error(`metric ${name} not registered`);
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
}

describe('InfluxWriter', () => {
  it('sends full batches at once and the rest after the flush interval or on flush()', async () => {
    const { writer, metrics } = makeWriter({ batchSize: 10, flushIntervalMs: 600_000 });
    await writer.start();
    await Promise.all(lines(0, 25).map((l) => writer.write([l])));
    await waitFor('two full batches', () => server.requests.length === 2 && writer.stats().pendingLines === 5);
    expect(server.requests.map((r) => r.body.trimEnd().split('\n').length)).toEqual([10, 10]);

    expect(await writer.flush(5000)).toBe(true);
    expect(accepted()).toEqual(lines(0, 25));
    expect(writer.stats()).toMatchObject({ pendingLines: 0, healthy: true, lastError: undefined });
    expect(await metricValue(metrics, 'anlian_influx_points_written_total')).toBe(25);
    expect(await metricValue(metrics, 'anlian_influx_write_batches_total', { result: 'ok' })).toBe(3);
    expect(await metricValue(metrics, 'anlian_influx_pending_lines')).toBe(0);
  });

  it('sends a partial batch by itself once the flush interval has passed', async () => {
    const { writer } = makeWriter({ batchSize: 1000, flushIntervalMs: 50 });
    await writer.start();
    for (let i = 0; i < 5; i++) await writer.write(lines(i * 3, 3));
    await waitFor('everything sent', () => accepted().length === 15);
    expect(accepted()).toEqual(lines(0, 15));
  });

  it('retries on 5xx and 429 with backoff, reports unhealthy while failing, and delivers once recovered', async () => {
    let failing = true;
    server.respond((_req, res) => {
      if (failing) res.writeHead(503, { 'retry-after': '0' }).end('{"error":"overloaded"}');
      else res.writeHead(204).end();
    });
    const { writer, metrics, logs } = makeWriter({ unhealthyAfterMs: 0, flushIntervalMs: 10 });
    await writer.start();
    await writer.write(lines(0, 50));
    await waitFor('three failed attempts', () => server.requests.length >= 3);
    await waitFor('unhealthy', () => !writer.stats().healthy);
    expect(writer.stats().lastError).toContain('503');
    expect(writer.stats().pendingLines).toBe(50);
    expect(logs.some((l) => l.msg.includes('InfluxDB write failed'))).toBe(true);

    failing = false;
    await waitFor('delivered and healthy', () => writer.stats().pendingLines === 0 && writer.stats().healthy);
    expect(accepted()).toEqual(lines(0, 50));
    expect(await metricValue(metrics, 'anlian_influx_write_batches_total', { result: 'retry' })).toBeGreaterThanOrEqual(
      3,
    );
    expect(logs.some((l) => l.msg === 'InfluxDB writes recovered')).toBe(true);
  });

  it('isolates refused lines by bisection, dead-letters only them and keeps going', async () => {
    // Like InfluxDB 2.x on a parse error: the whole batch is refused.
    server.respond((req, res) => {
      if (req.body.includes('temperature="hot"')) res.writeHead(400).end('{"error":"field type conflict"}');
      else res.writeHead(204).end();
    });
    const { writer, metrics, logs } = makeWriter({ batchSize: 100 });
    await writer.start();
    const bad = 'kitchen,device=d9 temperature="hot" 1700000000500';
    const batch = [...lines(0, 20), bad, ...lines(20, 11)];
    await writer.write(batch);
    await waitFor('batch resolved', () => writer.stats().pendingLines === 0);
    expect([...accepted()].sort()).toEqual(lines(0, 31).sort());

    const deadLetter = await readFile(join(spoolDir, 'rejected.log'), 'utf8');
    const [comment, ...rest] = deadLetter.trimEnd().split('\n');
    expect(comment).toMatch(/^# \S+ rp=\(default\) status=400 lines=1 error=\{"error":"field type conflict"\}$/);
    expect(rest).toEqual([bad]);
    expect(await metricValue(metrics, 'anlian_influx_rejected_lines_total')).toBe(1);
    expect(await metricValue(metrics, 'anlian_influx_points_written_total')).toBe(31);
    const report = logs.find((l) => l.msg.includes('refused lines'));
    expect(report).toMatchObject({ level: 50, rejectedLines: 1, sample: [bad], status: 400 });

    // Later points are not blocked.
    await writer.write(lines(100, 3));
    await waitFor('later lines', () => accepted().includes(line(102)));
  });

  it('routes each retention policy to its rp and keeps them apart on disk', async () => {
    const { writer } = makeWriter();
    await writer.start();
    await writer.write(['alert_event,device=d1 state="open" 1700000000000'], {
      retentionPolicy: 'events_1y',
      priority: 'event',
    });
    await writer.write(lines(0, 2));
    await writer.flush(5000);
    const byRp = new Map(server.requests.map((r) => [r.url.searchParams.get('rp'), r.body]));
    expect(byRp.get('events_1y')).toBe('alert_event,device=d1 state="open" 1700000000000\n');
    expect(byRp.get(null)).toBe(`${lines(0, 2).join('\n')}\n`);
    expect((await readdir(spoolDir)).sort()).toEqual(['default', 'rp-events_1y']);
  });

  it('refuses telemetry with ANL_ERR_SPOOL_FULL when the spool is full, accepts events, logs once', async () => {
    server.respond((_req, res) => res.writeHead(503).end());
    const { writer, metrics, logs } = makeWriter({ maxSpoolBytes: 8 * 1024, retry: { minMs: 1000, maxMs: 1000 } });
    await writer.start();
    let refused: unknown;
    for (let i = 0; i < 1000 && refused === undefined; i++) {
      await writer.write(lines(i * 10, 10)).catch((err: unknown) => {
        refused = err;
      });
    }
    expect(refused).toMatchObject({ code: 'ANL_ERR_SPOOL_FULL' });
    await expect(writer.write(lines(0, 10))).rejects.toMatchObject({ code: 'ANL_ERR_SPOOL_FULL' });
    await writer.write(['fire,device=d1 event="fire" 1700000000000'], { priority: 'event' });
    expect(writer.stats().spoolFull).toBe(true);
    expect(await metricValue(metrics, 'anlian_influx_spool_full_total')).toBe(1);
    expect(await metricValue(metrics, 'anlian_influx_spool_refused_lines_total')).toBe(20);
    expect(logs.filter((l) => l.level === 50 && l.msg.includes('spool is full'))).toHaveLength(1);
    expect(await metricValue(metrics, 'anlian_influx_spool_bytes')).toBeGreaterThan(4 * 1024);
  });

  it('stop() leaves unsent lines on disk and a new writer sends them', async () => {
    server.respond((_req, res) => res.writeHead(500).end());
    const first = makeWriter();
    await first.writer.start();
    await first.writer.write(lines(0, 40));
    await first.writer.write(['alert_event,device=d1 state="open" 1700000000000'], { retentionPolicy: 'events_1y' });
    await first.writer.stop(100);
    expect(first.writer.stats()).toMatchObject({ pendingLines: 41, healthy: false });
    await expect(first.writer.write(lines(0, 1))).rejects.toMatchObject({ code: 'ANL_ERR_WRITER_STOPPED' });

    server.respond(undefined);
    server.requests.length = 0;
    const second = makeWriter();
    await second.writer.start();
    expect(await second.writer.flush(5000)).toBe(true);
    expect(accepted().sort()).toEqual([...lines(0, 40), 'alert_event,device=d1 state="open" 1700000000000'].sort());
    expect(server.requests.find((r) => r.body.startsWith('alert_event'))?.url.searchParams.get('rp')).toBe('events_1y');
  });

  it('refuses writes before start', async () => {
    const { writer } = makeWriter();
    await expect(writer.write(lines(0, 1))).rejects.toMatchObject({ code: 'ANL_ERR_WRITER_NOT_STARTED' });
  });
});
