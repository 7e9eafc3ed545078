import { formatDuration } from '../duration.js';
import { formatTarget } from '../generator/select-targets.js';
import type { TimeZoneClock } from '../time-zone.js';
import type { SimStats, SimSummary } from './sim-stats.js';

/** Where progress goes: `process.stdout`, or a test's collector. */
export interface ProgressOutput {
  write(chunk: string): unknown;
  /** A terminal gets one status line rewritten in place; anything else plain periodic lines. */
  isTTY?: boolean;
}

const CLEAR_LINE = '\r\x1b[2K';
const int = new Intl.NumberFormat('en-US');

export interface ProgressReporterOptions {
  output: ProgressOutput;
  snapshot: () => SimStats;
  tz: TimeZoneClock;
  /** Plain lines this often (default 10 s); a TTY line is refreshed every `ttyIntervalMs` (default 500 ms). */
  intervalMs?: number;
  ttyIntervalMs?: number;
  now?: () => number;
}

/**
 * Prints a running simulation's progress: gateways connected, messages sent and their rate,
 * faults fired, errors. Lifecycle: `start()` owns its timer, `stop()` releases it.
 */
export class ProgressReporter {
  readonly #o: ProgressReporterOptions;
  readonly #tty: boolean;
  #timer: NodeJS.Timeout | undefined;
  #last: { at: number; sent: number } | undefined;
  #lineOpen = false;

  constructor(opts: ProgressReporterOptions) {
    this.#o = opts;
    this.#tty = opts.output.isTTY === true;
  }

  start(): void {
    if (this.#timer) return;
    this.#last = { at: (this.#o.now ?? Date.now)(), sent: this.#o.snapshot().sent };
    const every = this.#tty ? (this.#o.ttyIntervalMs ?? 500) : (this.#o.intervalMs ?? 10_000);
    this.#timer = setInterval(() => this.#print(), every);
    this.#timer.unref();
  }

  /** Stops the timer; prints the final summary when given one. */
  stop(summary?: SimSummary): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#lineOpen) {
      this.#o.output.write('\n');
      this.#lineOpen = false;
    }
    if (summary) this.#o.output.write(formatSummary(summary, this.#o.tz));
  }

  #print(): void {
    const s = this.#o.snapshot();
    const now = (this.#o.now ?? Date.now)();
    const rate = this.#last && now > this.#last.at ? ((s.sent - this.#last.sent) * 1000) / (now - this.#last.at) : 0;
    this.#last = { at: now, sent: s.sent };
    const line = formatProgressLine(s, rate, this.#o.tz);
    if (this.#tty) {
      this.#o.output.write(`${CLEAR_LINE}${line}`);
      this.#lineOpen = true;
    } else {
      this.#o.output.write(`${line}\n`);
    }
  }
}

export function formatProgressLine(s: SimStats, ratePerS: number, tz: TimeZoneClock): string {
  const errors = s.failed + s.connectErrors;
  return [
    `sim ${tz.format(s.simNowMs)} ×${s.speed}`,
    `gateways ${s.connected}/${s.gateways}`,
    `sent ${int.format(s.sent)} (${int.format(Math.round(ratePerS))}/s)`,
    `faults ${s.faultsFired}/${s.faultsTotal}`,
    `errors ${errors}`,
  ].join(' | ');
}

export function formatSummary(s: SimSummary, tz: TimeZoneClock): string {
  const lines: string[] = [];
  const reason = { duration: 'duration reached', 'scenario-end': 'scenario finished', stopped: 'stopped' }[s.reason];
  lines.push(`Simulation summary (${reason})`);
  lines.push(
    `  simulated  ${tz.format(s.simStartMs)} → ${tz.format(s.simNowMs)} (${formatDuration(s.simNowMs - s.simStartMs)}) at ×${s.speed}; real ${formatDuration(s.realElapsedMs)}`,
  );
  lines.push(
    `  gateways   ${s.gateways} with ${int.format(s.devices)} devices; ${s.connected} connected when it ended; ${s.drops} scheduled drops; ${s.connectErrors} connection errors`,
  );
  const t = s.byType;
  lines.push(
    `  messages   ${int.format(s.sent)} sent, ${int.format(s.acked)} acknowledged, ${int.format(s.failed)} failed — status ${int.format(t.status)}, heartbeat ${int.format(t.heartbeat)}, telemetry ${int.format(t.telemetry)}, event ${int.format(t.event)}; ${int.format(s.duplicates)} duplicates; ${int.format(s.lost)} lost by gateways`,
  );
  lines.push(`  faults     ${s.faultsFired} of ${s.faultsTotal} fired`);
  for (const f of s.faults) {
    const targets = f.targets.map(formatTarget);
    const shown =
      targets.length > 3 ? `${targets.slice(0, 3).join(', ')} … (+${targets.length - 3})` : targets.join(', ');
    lines.push(`    ${tz.format(f.atSimMs).slice(11)}  ${f.phase.padEnd(5)}  ${f.id.padEnd(28)} ${shown}`);
  }
  if (s.errors.length === 0) lines.push('  errors     none');
  else {
    lines.push('  errors');
    for (const e of s.errors) {
      const who =
        e.gateways.length === 0
          ? ''
          : e.gateways.length <= 3
            ? ` (${e.gateways.join(', ')})`
            : ` (${e.gateways.slice(0, 3).join(', ')} and ${e.gateways.length - 3} more gateways)`;
      lines.push(`    ${e.count}× ${e.message}${who}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
