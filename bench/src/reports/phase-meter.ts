import { readFileSync, writeFileSync } from 'node:fs';

/** One timed run of a phase. */
export interface PhaseRun {
  /** Wall time, ms. */
  wallMs: number;
  /** CPU time of this process (all its threads: user + system), ms — what a busy machine steals shows in wall, not here. */
  cpuMs: number;
}

export interface PhaseResult {
  name: string;
  /** The first run in this process (cold: JIT, caches and the font not warmed up), then the others. */
  runs: PhaseRun[];
  /** Peak resident memory of this process during the phase's runs, MB. */
  peakRssMb: number;
  /** Where the memory is once the phase ends (`process.memoryUsage()`), MB: V8's heap (used of total) and outside it. */
  endMb: { heapUsed: number; heapTotal: number; external: number };
}

function statusKb(field: 'VmHWM' | 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Peak resident memory of this process over a window. Linux keeps the high-water mark (VmHWM) and
 * resets it to the current RSS when "5" is written to /proc/self/clear_refs (proc(5)), so a peak
 * is exact, not sampled; elsewhere a 10 ms sampler stands in.
 */
export class PeakRss {
  #exact = true;
  #sampled = 0;
  #timer: NodeJS.Timeout | undefined;

  reset(): void {
    try {
      writeFileSync('/proc/self/clear_refs', '5');
    } catch {
      this.#exact = false;
    }
    this.#sampled = process.memoryUsage().rss;
    if (!this.#exact && !this.#timer) {
      this.#timer = setInterval(() => {
        this.#sampled = Math.max(this.#sampled, process.memoryUsage().rss);
      }, 10);
      this.#timer.unref();
    }
  }

  /** The peak since the last `reset`, MB. */
  peakMb(): number {
    const hwm = this.#exact ? statusKb('VmHWM') : undefined;
    const peak = hwm !== undefined ? hwm * 1024 : Math.max(this.#sampled, process.memoryUsage().rss);
    return Math.round(peak / 1e6);
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Resident memory now, MB. */
export function rssNowMb(): number {
  return Math.round(process.memoryUsage().rss / 1e6);
}

/** Runs `fn` `runs` times, each timed in wall and CPU time, with the phase's peak RSS. */
export async function measurePhase<T>(
  peak: PeakRss,
  name: string,
  runs: number,
  fn: () => Promise<T>,
): Promise<{ result: PhaseResult; value: T }> {
  peak.reset();
  const out: PhaseRun[] = [];
  let value: T | undefined;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    value = await fn();
    const wallMs = performance.now() - t0;
    const c = process.cpuUsage(c0);
    out.push({ wallMs, cpuMs: (c.user + c.system) / 1000 });
  }
  const m = process.memoryUsage();
  const mb = (x: number) => Math.round(x / 1e6);
  return {
    result: {
      name,
      runs: out,
      peakRssMb: peak.peakMb(),
      endMb: { heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external) },
    },
    value: value as T,
  };
}
