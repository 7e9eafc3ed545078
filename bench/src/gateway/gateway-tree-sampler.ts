import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/PID/stat's times (`getconf CLK_TCK`; 100 on Linux). */
const CLK_TCK = 100;

export interface TreeUsage {
  /** The gateway and every ffmpeg/ffprobe it ran, as % of one core over the window. */
  cpuPercent: number;
  ownCpuPercent: number;
  childrenCpuPercent: number;
  cpuSeconds: number;
  /** The gateway's own VmRSS, largest sample, MB (its ffmpeg children are processes of their own). */
  maxRssMb: number;
  /** Most ffmpeg/ffprobe children alive at one sample. */
  maxChildren: number;
  samples: number;
  wallSeconds: number;
}

interface Stat {
  comm: string;
  ppid: number;
  /** utime + stime */
  own: number;
  /** cutime + cstime: children that exited and were waited for. */
  reaped: number;
}

function stat(pid: number | string): Stat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    // After `(comm)`: state is field 3, ppid 4, utime 14, stime 15, cutime 16, cstime 17.
    const f = s.slice(close + 2).split(' ');
    return {
      comm: s.slice(s.indexOf('(') + 1, close),
      ppid: Number(f[1]),
      own: Number(f[11]) + Number(f[12]),
      reaped: Number(f[13]) + Number(f[14]),
    };
  } catch {
    return undefined;
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

/** The gateway's live ffmpeg/ffprobe children and their CPU ticks so far. */
function mediaChildren(pid: number): { count: number; ticks: number } {
  let count = 0;
  let ticks = 0;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(name);
    if (!s || s.ppid !== pid) continue;
    ticks += s.own;
    if (s.comm === 'ffmpeg' || s.comm === 'ffprobe') count++;
  }
  return { count, ticks };
}

/**
 * CPU and memory of the gateway together with the ffmpeg/ffprobe processes it starts, from /proc:
 * the gateway's utime+stime, plus its reaped children's cutime+cstime (Node waits for every child
 * it spawns), plus the children alive at either end of the window; its VmRSS and the number of
 * media children at every sample. A child that lives less than a sample interval can be missed
 * by the count (not by the CPU figure).
 */
export class GatewayTreeSampler {
  readonly #pid: number;
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #start = { own: 0, children: 0 };
  #maxRss = 0;
  #maxChildren = 0;
  #samples = 0;

  constructor(pid: number) {
    this.#pid = pid;
  }

  #ticks(): { own: number; children: number } {
    const s = stat(this.#pid);
    const live = mediaChildren(this.#pid);
    return { own: s?.own ?? 0, children: (s?.reaped ?? 0) + live.ticks };
  }

  #sample(): void {
    this.#samples++;
    const rss = rssMb(this.#pid);
    if (rss !== undefined && rss > this.#maxRss) this.#maxRss = rss;
    const { count } = mediaChildren(this.#pid);
    if (count > this.#maxChildren) this.#maxChildren = count;
  }

  start(intervalMs = 200): void {
    this.#startedAt = Date.now();
    this.#start = this.#ticks();
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  stop(): TreeUsage {
    clearInterval(this.#timer);
    this.#sample();
    const end = this.#ticks();
    const wallSeconds = (Date.now() - this.#startedAt) / 1000;
    const own = (end.own - this.#start.own) / CLK_TCK;
    const children = (end.children - this.#start.children) / CLK_TCK;
    const pct = (s: number) => (wallSeconds > 0 ? (s / wallSeconds) * 100 : 0);
    return {
      cpuPercent: pct(own + children),
      ownCpuPercent: pct(own),
      childrenCpuPercent: pct(children),
      cpuSeconds: own + children,
      maxRssMb: this.#maxRss,
      maxChildren: this.#maxChildren,
      samples: this.#samples,
      wallSeconds,
    };
  }
}
