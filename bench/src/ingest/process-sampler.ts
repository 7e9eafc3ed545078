import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat's utime and stime (`getconf CLK_TCK`; 100 on Linux). */
const CLK_TCK = 100;

export interface ProcessUsage {
  /** CPU seconds (user + system) used over the window. */
  cpuSeconds: number;
  /** cpuSeconds / wall seconds × 100: percent of one core. */
  cpuPercent: number;
  /** Largest VmRSS sampled during the window, MB. */
  maxRssMb: number;
  wallSeconds: number;
}

function cpuTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the `(comm)` that can itself hold spaces: state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine (all cores), from /proc/stat's `cpu` line. */
function machineTicks(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    // idle and iowait are the 4th and 5th numbers.
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

function rssMb(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * CPU and memory of a set of processes over a window, read from /proc: utime+stime at the start
 * and end, VmRSS every `intervalMs` (its maximum is reported). Linux only.
 */
export class ProcessSampler {
  readonly #pids: Map<string, number>;
  readonly #startTicks = new Map<string, number>();
  readonly #maxRss = new Map<string, number>();
  /** The latest CPU ticks read per process: a process that dies during the window keeps what it used. */
  readonly #lastTicks = new Map<string, number>();
  #startedAt = 0;
  #machineStart = { busy: 0, total: 0 };
  #timer: NodeJS.Timeout | undefined;

  constructor(pids: Record<string, number | undefined>) {
    this.#pids = new Map(Object.entries(pids).filter((e): e is [string, number] => e[1] !== undefined));
  }

  start(intervalMs = 250): void {
    this.#startedAt = Date.now();
    this.#machineStart = machineTicks();
    for (const [name, pid] of this.#pids) {
      this.#startTicks.set(name, cpuTicks(pid) ?? 0);
      this.#lastTicks.set(name, this.#startTicks.get(name) ?? 0);
      this.#maxRss.set(name, rssMb(pid) ?? 0);
    }
    this.#timer = setInterval(() => this.#sampleRss(), intervalMs);
  }

  #sampleRss(): void {
    for (const [name, pid] of this.#pids) {
      const ticks = cpuTicks(pid);
      if (ticks !== undefined) this.#lastTicks.set(name, ticks);
      const rss = rssMb(pid);
      if (rss !== undefined && rss > (this.#maxRss.get(name) ?? 0)) this.#maxRss.set(name, rss);
    }
  }

  /**
   * Usage per named process, plus `machine`: every process on the machine together (cpuPercent in
   * percent of one core, so up to 100 × cores), to show how much else was running.
   */
  stop(): Record<string, ProcessUsage> {
    clearInterval(this.#timer);
    this.#sampleRss();
    const wallSeconds = (Date.now() - this.#startedAt) / 1000;
    const m = machineTicks();
    const machineCpuSeconds = (m.busy - this.#machineStart.busy) / CLK_TCK;
    const out: Record<string, ProcessUsage> = {
      machine: {
        cpuSeconds: machineCpuSeconds,
        cpuPercent: wallSeconds > 0 ? (machineCpuSeconds / wallSeconds) * 100 : 0,
        maxRssMb: 0,
        wallSeconds,
      },
    };
    for (const [name, pid] of this.#pids) {
      // A process gone by now (a bench's SIGKILL) counts up to its last reading, never below zero.
      const ticks = cpuTicks(pid) ?? this.#lastTicks.get(name) ?? 0;
      const cpuSeconds = Math.max(0, ticks - (this.#startTicks.get(name) ?? 0)) / CLK_TCK;
      out[name] = {
        cpuSeconds,
        cpuPercent: wallSeconds > 0 ? (cpuSeconds / wallSeconds) * 100 : 0,
        maxRssMb: this.#maxRss.get(name) ?? 0,
        wallSeconds,
      };
    }
    return out;
  }
}
