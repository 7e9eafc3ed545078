import { getPriority } from 'node:os';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { envBulkNice } from '../src/index.js';

const RUNTIME = new URL('../dist/index.js', import.meta.url).href;

/** Runs `lowerThreadPriority(increment)` on a worker thread; its nice values before and after. */
function onWorker(increment: number): Promise<{ before: number; returned: number; after: number }> {
  const code = `
    import { parentPort, workerData } from 'node:worker_threads';
    import { getPriority } from 'node:os';
    const { lowerThreadPriority, silentLogger } = await import(${JSON.stringify(RUNTIME)});
    const before = getPriority(0);
    const returned = lowerThreadPriority(workerData, silentLogger(), 'test');
    parentPort.postMessage({ before, returned, after: getPriority(0) });
  `;
  const w = new Worker(new URL(`data:text/javascript,${encodeURIComponent(code)}`), { workerData: increment });
  return new Promise((resolve, reject) => {
    w.once('message', (m) => {
      resolve(m);
      void w.terminate();
    });
    w.once('error', reject);
  });
}

describe('lowerThreadPriority (issue 12: bulk work yields the CPU to the alarm path)', () => {
  it.runIf(process.platform === 'linux')('lowers the calling thread only, not the process', async () => {
    const main = getPriority(0);
    const r = await onWorker(7);
    expect(r.after).toBe(Math.min(19, r.before + 7));
    expect(r.returned).toBe(r.after);
    // Linux keeps the nice value per thread: the alarm thread (here, the test's) keeps its own.
    expect(getPriority(0)).toBe(main);
  });

  it.runIf(process.platform === 'linux')('stops at 19 and leaves the thread as it was for 0', async () => {
    const high = await onWorker(19);
    expect(high.after).toBe(19);
    const none = await onWorker(0);
    expect(none.after).toBe(none.before);
  });

  it('ANLIAN_BULK_NICE is 10 unless set, within 0–19', () => {
    expect(envBulkNice.parse(undefined)).toBe(10);
    expect(envBulkNice.parse('0')).toBe(0);
    expect(envBulkNice.safeParse('20').success).toBe(false);
    expect(envBulkNice.safeParse('-5').success).toBe(false);
  });
});
