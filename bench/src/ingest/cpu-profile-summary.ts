import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  /** `file:line function` with the file relative to the repository, or a package name. */
  name: string;
  /** Percent of all sampled time (idle included). */
  selfPercent: number;
  totalPercent: number;
}

export interface ProfileSummary {
  file: string;
  sampledSeconds: number;
  /** Percent of sampled time the thread was idle (waiting in the event loop). */
  idlePercent: number;
  /** Percent spent in garbage collection. */
  gcPercent: number;
  topSelf: ProfileEntry[];
  topTotal: ProfileEntry[];
  /** Self time grouped by package (node_modules/<pkg>), project file or `node:` internals. */
  byModule: ProfileEntry[];
}

function frameName(root: string, n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const fn = functionName || '(anonymous)';
  if (!url) return fn;
  const path = url.startsWith('file://') ? relative(root, new URL(url).pathname) : url;
  return `${path}:${lineNumber + 1} ${fn}`;
}

function moduleName(root: string, n: ProfileNode): string {
  const { url, functionName } = n.callFrame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (!url.startsWith('file://')) return url.startsWith('node:') ? 'node: internals' : url;
  const path = relative(root, new URL(url).pathname);
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return m ? (m[1] as string) : path;
}

/**
 * Self and total (inclusive) time per function from a V8 `.cpuprofile` (`node --cpu-prof`),
 * as percentages of the sampled wall time of the main thread.
 */
export async function summarizeCpuProfile(file: string, root: string, top = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const modules = new Map<string, number>();
  let all = 0;
  let idle = 0;
  let gc = 0;
  const names = new Map<number, string>();
  const nameOf = (n: ProfileNode) => {
    let s = names.get(n.id);
    if (s === undefined) {
      s = frameName(root, n);
      names.set(n.id, s);
    }
    return s;
  };
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    all += dt;
    const fn = node.callFrame.functionName;
    if (fn === '(idle)') {
      idle += dt;
      return;
    }
    if (fn === '(garbage collector)') gc += dt;
    const name = nameOf(node);
    self.set(name, (self.get(name) ?? 0) + dt);
    const mod = moduleName(root, node);
    modules.set(mod, (modules.get(mod) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur);
      if (!n || n.callFrame.functionName === '(root)') continue;
      const key = nameOf(n);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + dt);
    }
  });
  const pct = (v: number) => (all === 0 ? 0 : (v / all) * 100);
  const rank = (m: Map<string, number>): ProfileEntry[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name]) => ({ name, selfPercent: pct(self.get(name) ?? 0), totalPercent: pct(total.get(name) ?? 0) }));
  return {
    file,
    sampledSeconds: all / 1e6,
    idlePercent: pct(idle),
    gcPercent: pct(gc),
    topSelf: rank(self),
    topTotal: rank(total),
    byModule: [...modules.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([name, v]) => ({ name, selfPercent: pct(v), totalPercent: pct(v) })),
  };
}

/** The summary as text: by module, then the top functions by self and by inclusive time. */
export function renderProfileSummary(what: string, p: ProfileSummary): string {
  const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—');
  const out: string[] = [];
  out.push(
    `${what} CPU profile (${p.file}): ${f1(p.sampledSeconds)} s sampled, idle ${f1(p.idlePercent)} %, GC ${f1(p.gcPercent)} %`,
  );
  out.push('By module (self time, % of sampled wall time):');
  for (const e of p.byModule) out.push(`  ${f1(e.selfPercent).padStart(5)} %  ${e.name}`);
  out.push('Top functions by self time (self % / total %):');
  for (const e of p.topSelf)
    out.push(`  ${f1(e.selfPercent).padStart(5)} / ${f1(e.totalPercent).padStart(5)} %  ${e.name}`);
  out.push('Top functions by total (inclusive) time:');
  for (const e of p.topTotal)
    out.push(`  ${f1(e.selfPercent).padStart(5)} / ${f1(e.totalPercent).padStart(5)} %  ${e.name}`);
  return out.join('\n');
}
