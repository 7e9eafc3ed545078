import { type ProfileSummary, renderProfileSummary } from './cpu-profile-summary.js';
import type { MachineInfo } from './machine-info.js';
import { type Phase, type StepResult, TARGETS } from './step-result.js';

export interface TargetVerdict {
  target: string;
  measured: string;
  verdict: 'PASS' | 'FAIL' | 'NOT TESTED';
}

export interface BenchReport {
  startedAt: string;
  machine: MachineInfo;
  options: Record<string, unknown>;
  setup: Record<string, unknown>;
  method: string[];
  steps: StepResult[];
  /** Highest offered rate held by each phase (every step up to it held). */
  maxHeld: Record<Phase, number | null>;
  ratio: number | null;
  targets: TargetVerdict[];
  profile?: ProfileSummary;
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : n === Infinity ? '∞' : '—');
const lagMs = (ms: number) => (ms === Infinity ? '>1 h' : f0(ms));
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '—');

/** Highest rate a phase held, counting only an unbroken run of held steps from the lowest rate. */
export function maxHeldRate(steps: StepResult[], phase: Phase): number | null {
  let best: number | null = null;
  for (const s of steps.filter((x) => x.phase === phase).sort((a, b) => a.offeredRate - b.offeredRate)) {
    if (!s.held) break;
    best = s.offeredRate;
  }
  return best;
}

/** The ingest step the targets are judged on: the highest held one, else the lowest tried. */
function judgedIngestStep(steps: StepResult[]): StepResult | undefined {
  const ingest = steps.filter((s) => s.phase === 'ingest').sort((a, b) => a.offeredRate - b.offeredRate);
  const held = ingest.filter((s) => s.held);
  return held.at(-1) ?? ingest[0];
}

export function judgeTargets(steps: StepResult[], ratio: number | null): TargetVerdict[] {
  const s = judgedIngestStep(steps);
  if (!s) return [];
  const atTarget = s.offeredRate >= TARGETS.rate && s.durationS >= TARGETS.durationS;
  const anyAtTarget = steps.some(
    (x) => x.phase === 'ingest' && x.offeredRate >= TARGETS.rate && x.durationS >= TARGETS.durationS,
  );
  const ingestRss = Math.max(...steps.filter((x) => x.phase === 'ingest').map((x) => x.usage.ingest?.maxRssMb ?? 0));
  const v = (ok: boolean): TargetVerdict['verdict'] => (ok ? 'PASS' : 'FAIL');
  return [
    {
      target: `≥ ${f0(TARGETS.rate)} msg/s for ${TARGETS.durationS} s, zero loss`,
      measured: `${f0(s.offeredRate)} msg/s × ${s.durationS} s, loss ${f0(s.loss)}${s.held ? '' : ' (not held)'}`,
      verdict: anyAtTarget ? v(atTarget && s.held) : 'NOT TESTED',
    },
    {
      target: `≥ ${TARGETS.baselineRatio * 100} % of the baseline`,
      measured: ratio === null ? 'no baseline in this run' : `${(ratio * 100).toFixed(1)} %`,
      verdict: ratio === null ? 'NOT TESTED' : v(ratio >= TARGETS.baselineRatio),
    },
    {
      target: `p99 publish → stored ≤ ${f0(TARGETS.p99Ms)} ms`,
      measured: `${f0(s.latency.p99)} ms at ${f0(s.offeredRate)} msg/s`,
      verdict: v(s.latency.p99 <= TARGETS.p99Ms),
    },
    {
      target: `ingest RSS ≤ ${TARGETS.rssMb} MB`,
      measured: `${f1(ingestRss)} MB (max over the run)`,
      verdict: v(ingestRss <= TARGETS.rssMb),
    },
  ];
}

function table(header: string[], rows: string[][], rightAlign: (i: number) => boolean): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]) =>
    r.map((c, i) => (rightAlign(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join('  ');
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

export function renderReport(r: BenchReport): string {
  const out: string[] = [];
  const baselineByRate = new Map(r.steps.filter((s) => s.phase === 'baseline').map((s) => [s.offeredRate, s]));
  out.push(
    table(
      [
        'phase',
        'offered/s',
        'achieved/s',
        'published',
        'acked',
        'received/stored',
        'loss',
        'p50 ms',
        'p99 ms',
        'max ms',
        'CPU %',
        'RSS MB',
        'ratio',
        'held',
      ],
      r.steps.map((s) => {
        const u = s.usage[s.phase];
        const base = baselineByRate.get(s.offeredRate);
        const ratio =
          s.phase === 'ingest' && base && base.achievedRate > 0
            ? `${((s.achievedRate / base.achievedRate) * 100).toFixed(0)} %`
            : '';
        return [
          s.phase,
          f0(s.offeredRate),
          f0(s.achievedRate),
          f0(s.published),
          f0(s.acked),
          f0(s.delivered),
          f0(s.loss),
          f0(s.latency.p50),
          f0(s.latency.p99),
          f0(s.latency.max),
          f1(u?.cpuPercent ?? Number.NaN),
          f1(u?.maxRssMb ?? Number.NaN),
          ratio,
          s.held ? 'yes' : 'NO',
        ];
      }),
      (i) => i > 0 && i < 13,
    ),
  );
  out.push('');
  out.push('Other processes over the same windows (CPU % of one core; "not ours" = everything else on the machine),');
  out.push('generator scheduling and drain:');
  out.push(
    table(
      [
        'phase',
        'offered/s',
        'generator',
        'mosquitto',
        'influxd',
        'bench',
        'not ours',
        'gen tick lag ms',
        'ack drain ms',
        'drain ms',
        'ingest lag p50/p99/max ≤',
        'CPU µs/msg',
      ],
      r.steps.map((s) => {
        const u = s.usage[s.phase];
        const ours = Object.entries(s.usage)
          .filter(([k]) => k !== 'machine')
          .reduce((a, [, x]) => a + x.cpuPercent, 0);
        return [
          s.phase,
          f0(s.offeredRate),
          f1(s.usage.generator?.cpuPercent ?? Number.NaN),
          f1(s.usage.mosquitto?.cpuPercent ?? Number.NaN),
          f1(s.usage.influxd?.cpuPercent ?? Number.NaN),
          f1(s.usage.bench?.cpuPercent ?? Number.NaN),
          f1(Math.max(0, (s.usage.machine?.cpuPercent ?? 0) - ours)),
          f1(s.generator.maxTickLagMs),
          f0(s.generator.ackDrainMs),
          f0(s.drainMs),
          s.ingestLag ? `${lagMs(s.ingestLag.p50)}/${lagMs(s.ingestLag.p99)}/${lagMs(s.ingestLag.max)}` : '',
          u && s.delivered > 0 ? f1((u.cpuSeconds * 1e6) / s.delivered) : '',
        ];
      }),
      (i) => (i > 0 && i < 10) || i === 11,
    ),
  );
  for (const s of r.steps) {
    for (const n of s.notes) out.push(`note (${s.phase} @ ${f0(s.offeredRate)}/s): ${n}`);
    if (s.ingestCounters) {
      const c = Object.entries(s.ingestCounters)
        .filter(([k]) => k.includes('{') || !Object.keys(s.ingestCounters ?? {}).some((x) => x.startsWith(`${k}{`)))
        .map(([k, v]) => `${k.replace(/^anlian_/, '')}=${f0(v)}`)
        .join(' ');
      out.push(`ingest counters after ${f0(s.offeredRate)}/s (cumulative): ${c}`);
    }
    if (s.ingestMemoryMb && Object.keys(s.ingestMemoryMb).length > 0) {
      const m = Object.entries(s.ingestMemoryMb)
        .map(([k, v]) => `${k.replace(/^anlian_(nodejs_|process_)?/, '').replace(/_bytes$/, '')}=${f1(v)}`)
        .join(' ');
      out.push(`ingest memory at ${f0(s.offeredRate)}/s (max of 5 s scrapes, MB): ${m}`);
    }
  }
  out.push('');
  const mh = (p: Phase) => (r.maxHeld[p] === null ? 'none' : `${f0(r.maxHeld[p] as number)} msg/s`);
  out.push(
    `Highest rate held (zero loss, p99 ≤ ${f0(TARGETS.p99Ms)} ms): baseline ${mh('baseline')}, ingest ${mh('ingest')}`,
  );
  out.push(`Ratio ingest / baseline: ${r.ratio === null ? '—' : `${(r.ratio * 100).toFixed(1)} %`}`);
  out.push('');
  out.push(
    table(
      ['target', 'measured', 'verdict'],
      r.targets.map((t) => [t.target, t.measured, t.verdict]),
      () => false,
    ),
  );
  if (r.profile) {
    out.push('');
    out.push(renderProfileSummary('Ingest', r.profile));
  }
  return out.join('\n');
}
