import { describe, expect, it } from 'vitest';
import { FailureLimiter } from '../src/failure-limiter.js';
import { VerificationGate } from '../src/verification-gate.js';

describe('FailureLimiter', () => {
  it('counts failures and attempts in flight against the limit, and forgets failures after the window', () => {
    let now = 0;
    const l = new FailureLimiter({ max: 3, windowMs: 1000, clock: () => now });
    // Three attempts in flight: a fourth is refused before any of them has failed.
    for (let i = 0; i < 3; i++) {
      expect(l.allows('a')).toBe(true);
      l.begin('a');
    }
    expect(l.allows('a')).toBe(false);
    expect(l.allows('b')).toBe(true);
    l.end('a', 'succeeded');
    expect(l.allows('a')).toBe(true);
    l.end('a', 'failed');
    l.end('a', 'abandoned');
    // One failure left in the window.
    for (let i = 0; i < 2; i++) {
      l.begin('a');
      l.end('a', 'failed');
    }
    expect(l.allows('a')).toBe(false);
    now += 1001;
    expect(l.allows('a')).toBe(true);
  });

  it('lets a key with no failure have a burst in flight, and counts them against the limit from its first failure', () => {
    let now = 0;
    const l = new FailureLimiter({ max: 3, burst: 10, windowMs: 1000, clock: () => now });
    for (let i = 0; i < 10; i++) {
      expect(l.allows('nat')).toBe(true);
      l.begin('nat');
    }
    expect(l.allows('nat')).toBe(false);
    for (let i = 0; i < 4; i++) l.end('nat', 'succeeded');
    // Six in flight, none failed: room for four more.
    expect(l.allows('nat')).toBe(true);
    l.end('nat', 'failed');
    // One failure and five in flight: the limit of 3 counts both now.
    expect(l.allows('nat')).toBe(false);
    for (let i = 0; i < 5; i++) l.end('nat', 'succeeded');
    expect(l.allows('nat')).toBe(true);
    l.begin('nat');
    expect(l.allows('nat')).toBe(true);
    l.begin('nat');
    expect(l.allows('nat')).toBe(false);
    // The failure leaves the window: a burst is allowed again.
    now = 1001;
    expect(l.allows('nat')).toBe(true);
    expect(() => new FailureLimiter({ max: 3, burst: 2, windowMs: 1000 })).toThrow(RangeError);
  });

  it('remembers a bounded number of keys', () => {
    const l = new FailureLimiter({ max: 1, windowMs: 60_000, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) {
      l.begin(`k${i}`);
      l.end(`k${i}`, 'failed');
    }
    expect(l.size).toBeLessThanOrEqual(100);
    expect(l.allows('k999')).toBe(false);
  });
});

describe('VerificationGate', () => {
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => {
      resolve = r;
    });
    return { promise, resolve };
  };

  it('runs at most `concurrency` at once, refuses past the queue, and drops an aborted waiter unrun', async () => {
    const gate = new VerificationGate({ concurrency: 2, maxQueue: 2 });
    const started: number[] = [];
    const blockers = [deferred(), deferred(), deferred(), deferred()];
    const work = (i: number) => () => {
      started.push(i);
      return (blockers[i] as ReturnType<typeof deferred>).promise.then(() => i);
    };
    const a = gate.run(work(0));
    const b = gate.run(work(1));
    const leaving = new AbortController();
    const c = gate.run(work(2), leaving.signal);
    const d = gate.run(work(3));
    await expect(gate.run(work(9))).rejects.toMatchObject({ code: 'ANL_ERR_VERIFY_BUSY' });
    expect(started).toEqual([0, 1]);
    leaving.abort();
    await expect(c).rejects.toMatchObject({ name: 'AbortError' });
    blockers[0]?.resolve();
    expect(await a).toBe(0);
    // The aborted one never ran; the next waiter took the slot.
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 3]);
    expect(gate.running).toBe(2);
    blockers[1]?.resolve();
    blockers[3]?.resolve();
    expect(await Promise.all([b, d])).toEqual([1, 3]);
    expect(gate.running).toBe(0);
    await expect(gate.run(work(2), AbortSignal.abort())).rejects.toMatchObject({ name: 'AbortError' });
  });
});
