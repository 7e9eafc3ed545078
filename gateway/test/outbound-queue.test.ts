import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { QueueConfig } from '../src/config/gateway-config.js';
import { silentLogger } from '../src/logger.js';
import { type MessageClass, type OutboundMessage, OutboundQueue } from '../src/queue/outbound-queue.js';
import { SegmentLog } from '../src/queue/segment-log.js';
import { SequenceCounter } from '../src/queue/sequence-counter.js';
import { tempDir } from './support/gateway-fixture.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function openQueue(config: Partial<QueueConfig> = {}, dir?: string) {
  let d = dir;
  if (!d) {
    const t = await tempDir('anlian-gw-queue-');
    cleanups.push(t.remove);
    d = t.dir;
  }
  const q = new OutboundQueue({
    dir: d,
    config: QueueConfig.parse({ telemetryFsyncMs: 0, ...config }),
    logger: silentLogger(),
  });
  q.open();
  return { q, dir: d };
}

const put = (q: OutboundQueue, cls: MessageClass, device: string, n: number) =>
  q.enqueue(
    cls,
    `anlian/v1/c/i/g/device/${device}/${cls === 'telemetry' ? 'telemetry' : 'event'}`,
    Buffer.from(`{"n":${n}}`),
  );

/** Takes everything in order, acknowledging as it goes. */
function drain(q: OutboundQueue, ack = true): OutboundMessage[] {
  const out: OutboundMessage[] = [];
  for (let m = q.peek(); m; m = q.peek()) {
    q.take(m);
    if (ack) q.ack(m);
    out.push(m);
  }
  return out;
}
const labels = (ms: OutboundMessage[]) => ms.map((m) => `${m.cls}:${m.payload.toString()}`);

describe('OutboundQueue', () => {
  it('sends fire alarms, then events, then telemetry, each class in its order', async () => {
    const { q } = await openQueue();
    put(q, 'telemetry', 'a', 1);
    put(q, 'event', 'a', 2);
    put(q, 'telemetry', 'a', 3);
    put(q, 'alarm', 'b', 4);
    put(q, 'event', 'b', 5);
    expect(q.stats().depth).toEqual({ alarm: 1, event: 2, telemetry: 2 });
    expect(labels(drain(q))).toEqual([
      'alarm:{"n":4}',
      'event:{"n":2}',
      'event:{"n":5}',
      'telemetry:{"n":1}',
      'telemetry:{"n":3}',
    ]);
    expect(q.depth()).toBe(0);
    q.close();
  });

  it('lets the replay send a fire alarm before the fsync that makes it durable, never before it is in the file', async () => {
    const { q, dir } = await openQueue();
    const order: string[] = [];
    // What the replay pump does: its send loop runs on setImmediate after an enqueue.
    q.onEnqueue(() =>
      setImmediate(() => {
        const m = q.peek();
        order.push(`send ${m?.cls}`);
      }),
    );
    const r = put(q, 'alarm', 'smoke-1', 1);
    if (!r.queued) throw new Error('not queued');
    // In the file when enqueue returns (survives SIGKILL); fsync'd before `durable` resolves.
    expect(readdirSync(path.join(dir, 'alarm')).length).toBeGreaterThan(0);
    await r.durable;
    order.push('durable');
    expect(order).toEqual(['send alarm', 'durable']);
  });

  it('keeps what was not acknowledged across a reopen, and nothing that was', async () => {
    const { q, dir } = await openQueue();
    for (let i = 0; i < 10; i++) put(q, 'telemetry', 'a', i);
    const sent = drain(q, false);
    // Acknowledged out of order: 0, 1, 2, 5, 7.
    for (const i of [0, 1, 2, 5, 7]) q.ack(sent[i] as OutboundMessage);
    q.close();
    const { q: again } = await openQueue({}, dir);
    expect(labels(drain(again)).map((l) => l.replace(/\D/g, ''))).toEqual(['3', '4', '6', '8', '9']);
    again.close();
  });

  it('resends what was in flight when the link dropped, before anything newer', async () => {
    const { q } = await openQueue();
    for (let i = 0; i < 3; i++) put(q, 'telemetry', 'a', i);
    const m0 = q.peek() as OutboundMessage;
    q.take(m0);
    q.take(q.peek() as OutboundMessage);
    q.ack(m0);
    q.requeueInflight();
    put(q, 'telemetry', 'a', 3);
    expect(labels(drain(q)).map((l) => l.replace(/\D/g, ''))).toEqual(['1', '2', '3']);
    q.close();
  });

  it('cuts a record torn by a power cut and keeps every whole one before it', async () => {
    const { q, dir } = await openQueue();
    for (let i = 0; i < 5; i++) put(q, 'event', 'a', i);
    q.close();
    const segDir = path.join(dir, 'event');
    const seg = path.join(segDir, readdirSync(segDir).find((f) => f.endsWith('.seg')) as string);
    // Half a frame header and body: what a write interrupted by a power cut leaves.
    appendFileSync(seg, Buffer.from([40, 0, 0, 0, 1, 2, 3, 4, 5, 6]));
    const { q: again } = await openQueue({}, dir);
    expect(labels(drain(again))).toHaveLength(5);
    // And the log goes on after the repair.
    put(again, 'event', 'a', 99);
    expect(labels(drain(again))).toEqual(['event:{"n":99}']);
    again.close();
  });

  it('skips a corrupted record, counted, instead of stopping', async () => {
    const { q, dir } = await openQueue({ segmentBytes: 64 * 1024 });
    for (let i = 0; i < 3; i++) put(q, 'telemetry', 'a', i);
    q.close();
    const segDir = path.join(dir, 'telemetry');
    const seg = path.join(segDir, readdirSync(segDir).find((f) => f.endsWith('.seg')) as string);
    const bytes = readFileSync(seg);
    bytes[bytes.length - 3] = 0x7a; // a flipped byte in the last record's payload
    writeFileSync(seg, bytes);
    const { q: again } = await openQueue({ segmentBytes: 64 * 1024 }, dir);
    expect(drain(again)).toHaveLength(2);
    again.close();
  });

  it('deletes segments once every record in them is acknowledged', async () => {
    const { q, dir } = await openQueue({ segmentBytes: 64 * 1024 });
    const payload = Buffer.alloc(1000, 0x61);
    for (let i = 0; i < 300; i++) q.enqueue('telemetry', 'anlian/v1/c/i/g/device/a/telemetry', payload);
    const segs = () => readdirSync(path.join(dir, 'telemetry')).filter((f) => f.endsWith('.seg')).length;
    expect(segs()).toBeGreaterThan(3);
    drain(q);
    expect(segs()).toBe(1);
    expect(q.stats().bytes).toBeLessThan(64 * 1024 + 2000);
    q.close();
  });

  it('arms no timer while idle; fsyncs telemetry and writes acknowledgements within their bounds', async () => {
    vi.useFakeTimers();
    cleanups.push(() => {
      vi.restoreAllMocks();
      vi.useRealTimers();
    });
    const { q, dir } = await openQueue({ telemetryFsyncMs: 1000 });
    // An idle gateway does not wake up for its queue.
    expect(vi.getTimerCount()).toBe(0);
    const syncs = vi.spyOn(SegmentLog.prototype, 'sync');
    put(q, 'telemetry', 'a', 1);
    put(q, 'telemetry', 'a', 2);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(999);
    expect(syncs).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(syncs).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);

    const acks = path.join(dir, 'telemetry', 'acks.json');
    expect(drain(q)).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(999);
    expect(existsSync(acks)).toBe(false);
    vi.advanceTimersByTime(1);
    expect(JSON.parse(readFileSync(acks, 'utf8'))).toEqual({ through: 2, extra: [] });
    expect(vi.getTimerCount()).toBe(0);
    q.close();
  });

  it('when full: thins telemetry, drops the oldest telemetry segment, never an event', async () => {
    const maxBytes = 1024 * 1024;
    const { q } = await openQueue({
      maxBytes,
      segmentBytes: 64 * 1024,
      thinAbovePercent: 50,
      thinKeepEvery: 4,
      telemetryFsyncMs: 1000,
    });
    const payload = Buffer.alloc(900, 0x61);
    let refused = 0;
    for (let i = 0; i < 4000; i++) {
      const r = q.enqueue('telemetry', `anlian/v1/c/i/g/device/d${i % 10}/telemetry`, payload);
      if (!r.queued) refused++;
    }
    const s = q.stats();
    expect(refused).toBeGreaterThan(0);
    expect(s.thinned).toBe(refused);
    expect(s.dropped).toBeGreaterThan(0);
    expect(s.bytes).toBeLessThanOrEqual(maxBytes + 64 * 1024);
    // Events are taken even now, and past the bound.
    for (let i = 0; i < 300; i++)
      expect(q.enqueue('event', 'anlian/v1/c/i/g/device/d1/event', payload).queued).toBe(true);
    expect(q.stats().depth.event).toBe(300);
    const sent = drain(q);
    expect(sent.slice(0, 300).every((m) => m.cls === 'event')).toBe(true);
    q.close();
  });
});

describe('SequenceCounter', () => {
  it('continues exactly after a clean stop, and past its reserved block after a crash', async () => {
    const t = await tempDir('anlian-gw-seq-');
    cleanups.push(t.remove);
    const a = new SequenceCounter({ dir: t.dir, logger: silentLogger(), block: 100 });
    a.open();
    for (let i = 0; i < 42; i++) a.next();
    a.close();
    const b = new SequenceCounter({ dir: t.dir, logger: silentLogger(), block: 100 });
    b.open();
    expect(b.next()).toBe(42);
    for (let i = 0; i < 150; i++) b.next();
    // No close(): the process was killed. Never a number handed out before.
    const c = new SequenceCounter({ dir: t.dir, logger: silentLogger(), block: 100 });
    c.open();
    expect(c.next()).toBeGreaterThan(192);
    expect(c.next()).toBeLessThanOrEqual(243 + 100);
  });
});
