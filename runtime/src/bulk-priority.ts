import { getPriority, setPriority } from 'node:os';
import { z } from 'zod';
import type { Logger } from './logger.js';

/**
 * `ANLIAN_BULK_NICE`: how far below the alarm path bulk telemetry work runs on the CPU, as a nice
 * increment (0–19; 0 = the same priority). Default 10: under CFS a thread at nice +10 gets about a
 * tenth of a contended core's time against one at 0, and all of an idle one.
 */
export const envBulkNice = z.coerce
  .number()
  .int()
  .min(0)
  .max(19)
  .default(10)
  .describe(
    'CPU priority of bulk telemetry work below the alarm path, as a nice increment (0–19, 0 = the same): ingest’s process, alerting’s bulk lane thread',
  );

/**
 * Lowers the CPU priority of the calling thread by `increment` (its nice value, at most 19), so
 * that a fire alarm's thread — alerting's alarm lane, the broker — runs first whenever the machine's
 * cores are contended (issue 12). Linux keeps the nice value per thread: this changes the calling
 * thread only, and the threads it starts from now on (a worker, libuv's pool) inherit it. Lowering
 * one's own priority needs no privilege. Returns the thread's nice value after; never throws (a
 * platform that refuses is logged and left as it was).
 */
export function lowerThreadPriority(increment: number, logger: Logger, what: string): number | undefined {
  try {
    const before = getPriority(0);
    if (increment <= 0) return before;
    const after = Math.min(19, before + increment);
    setPriority(0, after);
    logger.info({ nice: after, before }, `${what}: CPU priority lowered below the alarm path (nice ${after})`);
    return after;
  } catch (err) {
    logger.warn({ err }, `${what}: cannot lower its CPU priority; it competes with the alarm path`);
    return undefined;
  }
}
