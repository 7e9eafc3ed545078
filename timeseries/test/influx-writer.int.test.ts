import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type Influxd, reservePort, startInfluxd } from '@anlian/testing';
import { Point } from '@influxdata/influxdb-client';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import type { InfluxTarget } from '../src/influx-target.js';
import { InfluxWriter, type InfluxWriterOptions } from '../src/influx-writer.js';
import { querySeriesV1, seriesRows } from '../src/query.js';
import { ensureDatabaseV1 } from '../src/setup-v1.js';
import { waitFor } from './test-helpers.js';

let influxd: Influxd;
let spoolDir: string;
let target: InfluxTarget;
let dbCounter = 0;
const writers: InfluxWriter[] = [];
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.stop();
});

beforeEach(async () => {
  spoolDir = await mkdtemp(join(tmpdir(), 'anlian-writer-int-'));
  target = { url: influxd.url, generation: 1, database: `anlian_${++dbCounter}` };
  await ensureDatabaseV1(target);
});
afterEach(async () => {
  for (const w of writers.splice(0)) await w.stop(500);
  await rm(spoolDir, { recursive: true, force: true });
});

function makeWriter(opts: Partial<InfluxWriterOptions> = {}): InfluxWriter {
  const writer = new InfluxWriter({
    target,
    spoolDir,
    logger: silent,
    metrics: new Registry(),
    flushIntervalMs: 50,
    retry: { minMs: 50, maxMs: 500 },
    ...opts,
  });
  writers.push(writer);
  return writer;
}

const MS = { convertTime: (t: string | number | Date | undefined) => (t === undefined ? undefined : String(t)) };
// Recent timestamps: raw_90d refuses points older than its 90 days.
const base = Date.now() - 3_600_000;

/** A numbered kitchen point; `seq` identifies it, the rest is derived from it. */
function numbered(seq: number): string {
  return `kitchen,device=d${seq % 5} seq=${seq}i,temperature=${(seq % 400) / 4} ${base + seq}`;
}

/** Asserts that InfluxDB holds exactly the points `numbered(0..n-1)` (plus, if allowed, later ones). */
async function expectNumbered(n: number, opts: { allowMore?: boolean } = {}): Promise<void> {
  const [series] = await querySeriesV1(target, 'SELECT * FROM "kitchen"');
  const rows = series === undefined ? [] : seriesRows(series);
  const seen = new Map<number, number>();
  for (const row of rows) {
    const seq = row.seq as number;
    seen.set(seq, (seen.get(seq) ?? 0) + 1);
    expect(row).toEqual({
      time: base + seq,
      device: `d${seq % 5}`,
      seq,
      temperature: (seq % 400) / 4,
    });
  }
  const missing: number[] = [];
  for (let seq = 0; seq < n; seq++) if (seen.get(seq) !== 1) missing.push(seq);
  expect(missing, 'points missing or duplicated').toEqual([]);
  if (!opts.allowMore) expect(rows.length).toBe(n);
  else expect(rows.length).toBe(seen.size); // once each, also beyond n
}

describe('InfluxWriter against influxd 1.x', () => {
  it('writes points that read back exactly', async () => {
    const writer = makeWriter();
    await writer.start();
    const t = base + 123;
    const point = new Point('kitchen')
      .tag('county', 'youyang')
      .tag('institution', '钟多街道 敬老院,1号=A')
      .tag('device', 'k-01')
      .floatField('temperature', 0.1 + 0.2)
      .floatField('gasLel', 12)
      .intField('seq', Number.MAX_SAFE_INTEGER)
      .booleanField('unconfirmed', true)
      .stringField('detail', '灶台 "2号"\n第二行 \\ end')
      .timestamp(t)
      .toLineProtocol(MS) as string;
    await writer.write([point]);
    await writer.write([`alert_event,institution=yy-a,rule=fire state="open",level=1i ${t}`], {
      retentionPolicy: 'events_1y',
      priority: 'event',
    });
    expect(await writer.flush(10_000)).toBe(true);

    const [kitchen] = await querySeriesV1(target, 'SELECT * FROM "kitchen"');
    expect(seriesRows(kitchen as never)).toEqual([
      {
        time: t,
        county: 'youyang',
        institution: '钟多街道 敬老院,1号=A',
        device: 'k-01',
        temperature: 0.30000000000000004,
        gasLel: 12,
        seq: Number.MAX_SAFE_INTEGER,
        unconfirmed: true,
        detail: '灶台 "2号"\n第二行 \\ end',
      },
    ]);
    // The event went to its own retention policy (a year), not to the 90-day default.
    const [events] = await querySeriesV1(target, 'SELECT * FROM "events_1y"."alert_event"');
    expect(seriesRows(events as never)).toEqual([
      { time: t, institution: 'yy-a', rule: 'fire', state: 'open', level: 1 },
    ]);
    expect(await querySeriesV1(target, 'SELECT * FROM "raw_90d"."alert_event"')).toEqual([]);
  });

  it('loses nothing and duplicates nothing when influxd is stopped mid-stream and restarted', async () => {
    const writer = makeWriter({ unhealthyAfterMs: 1000, batchSize: 1000 });
    await writer.start();
    let next = 0;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        const lines: string[] = [];
        for (let k = 0; k < 10; k++) lines.push(numbered(next++));
        await writer.write(lines);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    try {
      await waitFor('some points stored', () => (writer.stats().lastSuccessAt ?? 0) > 0 && next > 500);
      await influxd.halt();
      const atHalt = next;
      // Writes keep being accepted into the spool while InfluxDB is away.
      await waitFor('writer notices the outage', () => !writer.stats().healthy);
      await new Promise((r) => setTimeout(r, 5000));
      expect(next).toBeGreaterThan(atHalt + 100);
      expect(writer.stats().pendingLines).toBeGreaterThan(100);
      await influxd.restart();
      await waitFor('writer recovers', () => writer.stats().healthy && writer.stats().pendingLines < 1000);
      const afterRestart = next;
      await waitFor('more points after restart', () => next > afterRestart + 200);
    } finally {
      producing = false;
      await producer;
    }
    expect(await writer.flush(30_000)).toBe(true);
    await expectNumbered(next);
  });

  it('loses nothing when a writer is abandoned without stop() while InfluxDB is unreachable', async () => {
    // The first writer never reaches InfluxDB and is never stopped: a process that died.
    const nobody = await reservePort();
    onTestFinished(() => nobody.release());
    const abandoned = makeWriter({
      target: { ...target, url: `http://127.0.0.1:${nobody.port}` },
      retry: { minMs: 3_600_000, maxMs: 3_600_000 },
    });
    await abandoned.start();
    for (let seq = 0; seq < 3000; seq += 100) {
      await abandoned.write(Array.from({ length: 100 }, (_, k) => numbered(seq + k)));
    }
    expect(abandoned.stats().pendingLines).toBe(3000);

    const successor = makeWriter();
    await successor.start();
    expect(successor.stats().pendingLines).toBe(3000);
    expect(await successor.flush(30_000)).toBe(true);
    await expectNumbered(3000);
  });

  it('loses no acknowledged point when the ingest process is SIGKILLed mid-stream', async () => {
    const script = fileURLToPath(new URL('./fixtures/crash-writer.mjs', import.meta.url));
    await expectDistFresh();
    const child = spawn(process.execPath, [script, influxd.url, target.database, spoolDir, String(base)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('exit', (_code, signal) => resolve(signal)),
    );
    let lastAcked = -1;
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (l) => {
      const m = /^acked (\d+)$/.exec(l);
      if (m) lastAcked = Math.max(lastAcked, Number(m[1]));
    });
    const acked = (n: number) =>
      waitFor(`child acknowledged ${n} points (stderr: ${stderr})`, () => {
        if (child.exitCode !== null) throw new Error(`crash-writer exited early: ${stderr}`);
        return lastAcked >= n;
      });
    try {
      await acked(2000);
      // Take InfluxDB away so that the crash leaves acknowledged points that exist only in the spool.
      await influxd.halt();
      const atHalt = lastAcked;
      await acked(atHalt + 2000);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    await influxd.restart();
    const [before] = await querySeriesV1(target, 'SELECT count("seq") FROM "kitchen"');
    const storedBeforeRecovery = (before?.values[0]?.[1] as number | undefined) ?? 0;
    expect(storedBeforeRecovery).toBeLessThan(lastAcked + 1 - 1000);

    const successor = makeWriter();
    await successor.start();
    expect(await successor.flush(30_000)).toBe(true);
    // Everything acknowledged is there once; points written but not yet acknowledged may be too.
    await expectNumbered(lastAcked + 1, { allowMore: true });
  });

  it('dead-letters a field type conflict and keeps writing later points', async () => {
    const metrics = new Registry();
    const writer = makeWriter({ metrics });
    await writer.start();
    await writer.write([numbered(0), numbered(1)]);
    expect(await writer.flush(10_000)).toBe(true);

    // `temperature` is a float in this shard; a string is a field type conflict (HTTP 400).
    const conflict = `kitchen,device=d9 seq=2i,temperature="hot" ${base + 2}`;
    await writer.write([conflict, numbered(3), numbered(4)]);
    expect(await writer.flush(10_000)).toBe(true);
    await writer.write([numbered(5)]);
    expect(await writer.flush(10_000)).toBe(true);

    const [series] = await querySeriesV1(target, 'SELECT "seq" FROM "kitchen"');
    expect(seriesRows(series as never).map((r) => r.seq)).toEqual([0, 1, 3, 4, 5]);
    const deadLetter = await readFile(join(spoolDir, 'rejected.log'), 'utf8');
    expect(deadLetter).toContain('status=400');
    expect(deadLetter).toContain('field type conflict');
    expect(deadLetter.trimEnd().split('\n').slice(1)).toEqual([conflict]);
    const rejected = await metrics.getSingleMetric('anlian_influx_rejected_lines_total')?.get();
    expect(rejected?.values[0]?.value).toBe(1);
    expect(writer.stats().pendingLines).toBe(0);
  });
});

/** The crash test runs the compiled writer; refuse to test stale JavaScript. */
async function expectDistFresh(): Promise<void> {
  const src = fileURLToPath(new URL('../src/', import.meta.url));
  const dist = fileURLToPath(new URL('../dist/', import.meta.url));
  for (const name of await readdir(src)) {
    if (!name.endsWith('.ts')) continue;
    const built = join(dist, name.replace(/\.ts$/, '.js'));
    const [s, d] = await Promise.all([stat(join(src, name)), stat(built).catch(() => undefined)]);
    if (d === undefined || d.mtimeMs < s.mtimeMs) {
      throw new Error(`${built} is missing or older than its source: run \`npx tsc -b\` before the integration tests`);
    }
  }
}
