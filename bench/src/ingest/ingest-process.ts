import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface IngestProcessOptions {
  /** Working directory of the child. */
  repoRoot: string;
  dataDir: string;
  brokerUrl: string;
  influxUrl: string;
  influxDatabase: string;
  httpPort: number;
  /** ingest's stdout and stderr (pino JSON lines) go here. */
  logFile: string;
  /** More than 1: the external subscriber opens this many MQTT sessions (an experiment, see ingest-entry.ts). */
  sessions?: number;
  /** Set: run under `node --cpu-prof` writing into this directory. */
  cpuProfDir?: string;
  startTimeoutMs?: number;
  /**
   * The child's entry module (default ingest-entry.js: `runIngestCommand`). Another entry gets the
   * same environment, e.g. bench:alarm-latency's ingest with alerting beside it.
   */
  entry?: URL;
  /** Environment for the entry beyond ingest's own (set last). */
  env?: Record<string, string>;
  /** Node flags of the process, before any experiment's (`shippedIngestNodeFlags()` for ingest as deployed). */
  nodeFlags?: string[];
  /** Open an IPC channel: the entry reports with `process.send` (see `onMessage`). */
  ipc?: boolean;
  /** With `ipc`: every message from the child, from the first on (also during start-up). */
  onMessage?: (message: unknown) => void;
}

/**
 * The real ingest service as `anlian ingest` runs it (`runIngestCommand`, see ingest-entry.ts),
 * configured only through its environment, in external-broker mode. A child process of its own so that its CPU
 * and RSS are measured alone.
 */
export class IngestProcess {
  readonly #child: ChildProcess;
  readonly #httpUrl: string;
  readonly #listeners = new Set<(message: unknown) => void>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(child: ChildProcess, httpUrl: string) {
    this.#child = child;
    this.#httpUrl = httpUrl;
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    child.on('message', (m) => {
      for (const l of this.#listeners) l(m);
    });
  }

  static async start(o: IngestProcessOptions): Promise<IngestProcess> {
    // Hermetic: nothing from the caller's environment configures this ingest but what is set here.
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('ANLIAN_') && !k.startsWith('INFLUX')),
    );
    Object.assign(env, {
      ANLIAN_DATA_DIR: o.dataDir,
      ANLIAN_BROKER_URL: o.brokerUrl,
      ANLIAN_HTTP_HOST: '127.0.0.1',
      ANLIAN_HTTP_PORT: String(o.httpPort),
      ANLIAN_LOG_LEVEL: 'info',
      INFLUX_URL: o.influxUrl,
      INFLUX_DATABASE: o.influxDatabase,
      INFLUX_GENERATION: '1',
      INFLUX_SETUP: 'true',
    });
    if (o.sessions !== undefined && o.sessions > 1) env.BENCH_INGEST_SESSIONS = String(o.sessions);
    Object.assign(env, o.env);
    // BENCH_INGEST_ENV='K=V K2=V2': ingest configuration for an experiment (the run's log shows it).
    for (const kv of (process.env.BENCH_INGEST_ENV ?? '').split(' ').filter(Boolean)) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
    // BENCH_INGEST_NODE_FLAGS: extra Node flags for an experiment (e.g. --trace-gc; its output goes to the log).
    const extra = (process.env.BENCH_INGEST_NODE_FLAGS ?? '').split(' ').filter(Boolean);
    const execArgv = [
      ...(o.nodeFlags ?? []),
      ...extra,
      ...(o.cpuProfDir
        ? [
            '--cpu-prof',
            `--cpu-prof-dir=${o.cpuProfDir}`,
            ...(process.env.BENCH_CPU_PROF_INTERVAL_US
              ? [`--cpu-prof-interval=${process.env.BENCH_CPU_PROF_INTERVAL_US}`]
              : []),
          ]
        : []),
    ];
    const log = createWriteStream(o.logFile);
    const entry = fileURLToPath(o.entry ?? new URL('./ingest-entry.js', import.meta.url));
    const child = spawn(process.execPath, [...execArgv, entry], {
      cwd: o.repoRoot,
      env,
      stdio: o.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const ingest = new IngestProcess(child, `http://127.0.0.1:${o.httpPort}`);
    if (o.onMessage) ingest.onMessage(o.onMessage);
    const deadline = Date.now() + (o.startTimeoutMs ?? 60_000);
    let exit: { code: number | null } | undefined;
    void ingest.exited.then((e) => {
      exit = e;
    });
    while (Date.now() < deadline && exit === undefined) {
      if (await ingest.ready()) return ingest;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await ingest.exited;
    throw new Error(
      exit
        ? `ingest exited during start-up (code ${exit.code}); see ${o.logFile}`
        : `ingest not ready; see ${o.logFile}`,
    );
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Calls `listener` for every IPC message of the child (`ipc: true`); returns the function that stops it. */
  onMessage(listener: (message: unknown) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** An IPC message to the child (`ipc: true`); dropped once it is gone. */
  send(message: object): void {
    if (this.#child.connected) this.#child.send(message);
  }

  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.#httpUrl}/readyz`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      // Not listening yet.
      return false;
    }
  }

  /** The Prometheus metrics, summed over labels: `name` → value and `name{labels}` → value. */
  async metrics(): Promise<Map<string, number>> {
    const res = await fetch(`${this.#httpUrl}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await res.text();
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (!m) continue;
      const [, name, labels, value] = m as unknown as [string, string, string | undefined, string];
      const v = Number(value);
      out.set(name, (out.get(name) ?? 0) + v);
      if (labels) out.set(`${name}${labels}`, v);
    }
    return out;
  }

  /** SIGTERM (graceful drain), SIGKILL after `graceMs`. */
  async stop(graceMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
      const result = await this.exited;
      clearTimeout(timer);
      return result;
    }
    return this.exited;
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }
}

/**
 * The Node flags ingest runs with where it is deployed (ingest/bin/node-flags, read by the
 * launcher ingest/bin/anlian-ingest and the systemd unit): bench:ingest measures ingest as deployed.
 */
export function shippedIngestNodeFlags(repoRoot: string): string[] {
  return readFileSync(join(repoRoot, 'ingest', 'bin', 'node-flags'), 'utf8')
    .split(/\s+/)
    .filter(Boolean);
}
