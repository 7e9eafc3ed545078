import { appendFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isInfluxError } from '../src/errors.js';
import { encodeRecord, Spool, type SpoolBatch, type SpoolOptions } from '../src/spool.js';
import { SpoolBudget } from '../src/spool-budget.js';

let dir: string;
const opened: Spool[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'anlian-spool-'));
});

afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  await rm(dir, { recursive: true, force: true });
});

async function openSpool(opts: Partial<SpoolOptions> = {}): Promise<Spool> {
  const spool = new Spool({ dir, fsyncIntervalMs: 50, ...opts });
  opened.push(spool);
  await spool.open();
  return spool;
}

const line = (i: number) => `fire,device=d${i % 7} t=${i} ${1_700_000_000_000 + i}`;
const lines = (from: number, n: number) => Array.from({ length: n }, (_, k) => line(from + k));

function bodyLines(batch: SpoolBatch | undefined): string[] {
  if (batch === undefined) return [];
  const text = batch.body.toString('utf8');
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

/** Reads and commits everything pending, in batches of at most `maxLines`. */
async function drain(spool: Spool, maxLines = 1000, maxBytes = 1 << 20): Promise<string[]> {
  const out: string[] = [];
  for (;;) {
    const batch = await spool.read(maxLines, maxBytes);
    if (batch === undefined) return out;
    out.push(...bodyLines(batch));
    await spool.commit(batch);
  }
}

async function segmentFiles(): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.startsWith('spool-')).sort();
}

describe('Spool', () => {
  it('returns appended lines in order, in batches bounded by lines', async () => {
    const spool = await openSpool();
    await spool.append(lines(0, 3));
    await spool.append(lines(3, 1));
    await spool.append(lines(4, 5));
    expect(spool.pendingLines).toBe(9);

    const first = await spool.read(4, 1 << 20);
    // Whole records only: 3 + 1 lines, the next record (5 lines) would exceed 4.
    expect(bodyLines(first)).toEqual(lines(0, 4));
    // Reading does not consume: the same batch comes again until committed.
    expect(bodyLines(await spool.read(4, 1 << 20))).toEqual(lines(0, 4));
    await spool.commit(first as SpoolBatch);
    expect(spool.pendingLines).toBe(5);
    expect(await drain(spool)).toEqual(lines(4, 5));
    expect(spool.pendingLines).toBe(0);
    expect(spool.pendingBytes).toBe(0);
    expect(await spool.read(10, 1 << 20)).toBeUndefined();
  });

  it('returns at least one record even when it exceeds the batch limits', async () => {
    const spool = await openSpool();
    await spool.append(lines(0, 50));
    const batch = await spool.read(10, 100);
    expect(batch?.lines).toBe(50);
  });

  it('groups concurrent appends into one write and keeps their order', async () => {
    const spool = await openSpool();
    await Promise.all(Array.from({ length: 200 }, (_, i) => spool.append([line(i)])));
    expect(spool.pendingLines).toBe(200);
    expect(await drain(spool)).toEqual(lines(0, 200));
  });

  it('keeps uncommitted lines across close and reopen, and only those', async () => {
    const a = await openSpool();
    await a.append(lines(0, 10));
    await a.append(lines(10, 10));
    const batch = await a.read(10, 1 << 20);
    await a.commit(batch as SpoolBatch);
    await a.close();

    const b = await openSpool();
    expect(b.pendingLines).toBe(10);
    await b.append(lines(20, 5));
    expect(await drain(b)).toEqual(lines(10, 15));
  });

  it('recovers everything after a crash (no close) and re-sends the uncommitted batch', async () => {
    const a = await openSpool();
    await a.append(lines(0, 100));
    await a.append(lines(100, 100));
    // Read but never committed: a send that was in flight when the process died.
    await a.read(100, 1 << 20);

    const b = await openSpool();
    expect(b.pendingLines).toBe(200);
    expect(await drain(b)).toEqual(lines(0, 200));
  });

  it('detects and cuts off a torn last record, keeping everything before it', async () => {
    const a = await openSpool();
    await a.append(lines(0, 5));
    await a.append(lines(5, 5));
    await a.close();
    const [seg] = await segmentFiles();
    const path = join(dir, seg as string);
    const sizeBefore = (await stat(path)).size;
    // Half of a record reached the disk.
    const torn = encodeRecord(lines(10, 5));
    await appendFile(path, torn.subarray(0, torn.length - 7));

    const b = await openSpool();
    expect(b.pendingLines).toBe(10);
    expect((await stat(path)).size).toBe(sizeBefore);
    await b.append(lines(100, 2));
    expect(await drain(b)).toEqual([...lines(0, 10), ...lines(100, 2)]);
  });

  it('rejects a record whose bytes were damaged (CRC) and everything after it in that segment', async () => {
    const a = await openSpool();
    await a.append(lines(0, 3));
    await a.append(lines(3, 3));
    await a.close();
    const [seg] = await segmentFiles();
    const path = join(dir, seg as string);
    const buf = await readFile(path);
    const second = encodeRecord(lines(0, 3)).length;
    buf[second + 20] = (buf[second + 20] as number) ^ 0xff; // flip a payload byte of the second record
    await writeFile(path, buf);

    const b = await openSpool();
    expect(await drain(b)).toEqual(lines(0, 3));
  });

  it('treats zero-filled space after a power failure as torn, not as empty records', async () => {
    const a = await openSpool();
    await a.append(lines(0, 2));
    await a.close();
    const [seg] = await segmentFiles();
    await appendFile(join(dir, seg as string), Buffer.alloc(4096));
    const b = await openSpool();
    expect(b.pendingLines).toBe(2);
    expect(await drain(b)).toEqual(lines(0, 2));
  });

  it('rolls segments and deletes those wholly behind the cursor', async () => {
    const spool = await openSpool({ segmentBytes: 1024 });
    for (let i = 0; i < 40; i++) await spool.append(lines(i * 5, 5));
    const before = await segmentFiles();
    expect(before.length).toBeGreaterThan(5);

    // A batch may span segments.
    expect(await drain(spool, 37)).toEqual(lines(0, 200));
    const after = await segmentFiles();
    expect(after).toEqual([before[before.length - 1]]);
    const cursor = JSON.parse(await readFile(join(dir, 'cursor.json'), 'utf8')) as { segment: number };
    expect(after[0]).toContain(String(cursor.segment));
  });

  it('persists the cursor so committed lines are not sent again after a restart', async () => {
    const a = await openSpool({ segmentBytes: 1024 });
    for (let i = 0; i < 30; i++) await a.append(lines(i * 3, 3));
    let sent = 0;
    while (sent < 45) {
      const batch = (await a.read(9, 1 << 20)) as SpoolBatch;
      sent += batch.lines;
      await a.commit(batch);
    }
    // crash: no close
    const b = await openSpool({ segmentBytes: 1024 });
    expect(b.pendingLines).toBe(90 - sent);
    expect(await drain(b)).toEqual(lines(sent, 90 - sent));
  });

  it('refuses telemetry beyond the bound with ANL_ERR_SPOOL_FULL but accepts events', async () => {
    const transitions: boolean[] = [];
    const budget = new SpoolBudget(4096, (full) => transitions.push(full));
    const spool = await openSpool({ budget, segmentBytes: 1024 });
    let accepted = 0;
    let refusal: unknown;
    for (let i = 0; i < 200 && refusal === undefined; i++) {
      try {
        await spool.append(lines(i * 4, 4));
        accepted += 4;
      } catch (err) {
        refusal = err;
      }
    }
    expect(isInfluxError(refusal, 'ANL_ERR_SPOOL_FULL')).toBe(true);
    expect(budget.usedBytes).toBeLessThanOrEqual(4096);
    expect(transitions).toEqual([true]);

    // More refusals do not count as new transitions.
    await expect(spool.append(lines(9000, 4))).rejects.toMatchObject({ code: 'ANL_ERR_SPOOL_FULL' });
    expect(transitions).toEqual([true]);

    // Events are never dropped.
    await spool.append(['alert_event,device=d1 state="fire" 1700000000000'], { priority: 'event' });
    expect(spool.pendingLines).toBe(accepted + 1);

    // Sending frees room (segments behind the cursor are deleted) and telemetry is accepted again.
    const sent = await drain(spool);
    expect(sent.length).toBe(accepted + 1);
    expect(sent[sent.length - 1]).toContain('alert_event');
    expect(transitions).toEqual([true, false]);
    await spool.append([line(10_000)]);
  });

  it('counts existing files against the bound after a restart', async () => {
    const a = await openSpool();
    await a.append(lines(0, 100));
    await a.close();
    const budget = new SpoolBudget(1000);
    await openSpool({ budget });
    expect(budget.usedBytes).toBeGreaterThan(1000);
    await expect(opened[1]?.append([line(1)])).rejects.toMatchObject({ code: 'ANL_ERR_SPOOL_FULL' });
  });

  it('syncs with fsyncIntervalMs 0 before each append resolves, and refuses appends once closed', async () => {
    const spool = await openSpool({ fsyncIntervalMs: 0 });
    await spool.append(lines(0, 2));
    await spool.close();
    await expect(spool.append([line(3)])).rejects.toMatchObject({ code: 'ANL_ERR_SPOOL_CLOSED' });
    const again = await openSpool();
    expect(await drain(again)).toEqual(lines(0, 2));
  });

  it('keeps raw newlines inside string fields within their line', async () => {
    const spool = await openSpool();
    const multi = 'fire,device=d1 detail="line one\nline two" 1700000000000';
    await spool.append([multi, line(1)]);
    const batch = await spool.read(10, 1 << 20);
    expect(batch?.lines).toBe(2);
    expect(batch?.body.toString('utf8')).toBe(`${multi}\n${line(1)}\n`);
  });
});
