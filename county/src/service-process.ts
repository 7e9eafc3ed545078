import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

/** The roles of the production form's processes. */
export type ServiceRole = 'ingest' | 'alerting' | 'dashboard' | 'simulator';

/** What a service uses, for the banner (no passwords). */
export interface ServiceUses {
  store?: string;
  broker?: string;
  influx?: string;
  redis?: string;
  alerting?: string;
}

export interface ServiceProcessOptions {
  /** `ingest-1`, `alerting-2`, … */
  name: string;
  role: ServiceRole;
  /** The `anlian` command line (`bin/anlian.js`) and its arguments. */
  cli: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Its HTTP base (health, API), when it serves one. */
  url?: string;
  uses: ServiceUses;
  /** stdout and stderr are appended here. */
  logFile: string;
}

const TAIL_LINES = 40;

/**
 * Children still running, for the parent's `exit`: services run in their own process groups, so
 * a parent that dies without stopping them must take them along. One hook for all of them.
 */
const running = new Set<ChildProcess>();
let exitHooked = false;
function killOnParentExit(child: ChildProcess): void {
  running.add(child);
  child.once('exit', () => running.delete(child));
  if (exitHooked) return;
  exitHooked = true;
  process.once('exit', () => {
    for (const c of running) c.kill('SIGKILL');
  });
}

/**
 * One Anlian service as a child process: `node bin/anlian.js <service>` with its own environment,
 * in its own process group (Ctrl-C in a terminal reaches only the parent, which stops the
 * services in order), its output appended to a log file. Stopped by its PID, never by name.
 */
export class ServiceProcess {
  readonly name: string;
  readonly role: ServiceRole;
  readonly url: string | undefined;
  readonly uses: ServiceUses;
  readonly logFile: string;
  readonly #o: ServiceProcessOptions;
  #child: ChildProcess | undefined;
  #log: WriteStream | undefined;
  #exited: Promise<void> = Promise.resolve();
  #exit: string | undefined;
  readonly #tail: string[] = [];

  constructor(opts: ServiceProcessOptions) {
    this.#o = opts;
    this.name = opts.name;
    this.role = opts.role;
    this.url = opts.url;
    this.uses = opts.uses;
    this.logFile = opts.logFile;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#exit === undefined;
  }

  /** How it ended (`exit code 1`, `signal SIGKILL`), once it has. */
  get exit(): string | undefined {
    return this.#exit;
  }

  logTail(): string {
    return this.#tail.join('\n');
  }

  /** Resolves with how it ended, whether stopped or not. */
  async ended(): Promise<string> {
    await this.#exited;
    return this.#exit ?? 'not started';
  }

  async start(): Promise<void> {
    await mkdir(path.dirname(this.logFile), { recursive: true });
    const log = createWriteStream(this.logFile, { flags: 'a' });
    this.#log = log;
    this.#exit = undefined;
    const child = spawn(process.execPath, [this.#o.cli, ...this.#o.args], {
      env: this.#o.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.#child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        if (!log.writableEnded) log.write(chunk);
        this.#remember(chunk.toString('utf8'));
      });
    }
    this.#exited = new Promise<void>((resolve) => {
      // 'close', not 'exit': its output has been read to the end by then.
      child.once('close', (code, signal) => {
        this.#exit = signal ? `signal ${signal}` : `exit code ${code}`;
        resolve();
      });
      child.once('error', (err) => {
        this.#exit = `spawn error ${err.message}`;
        resolve();
      });
    });
    killOnParentExit(child);
  }

  /**
   * Waits until `GET {url}/readyz` answers 200 (broker, store, InfluxDB ready); fails with the
   * service's last output when it exits first or the time runs out.
   */
  async ready(timeoutMs: number): Promise<void> {
    if (!this.url) return;
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (this.#exit !== undefined) break;
      try {
        const res = await fetch(`${this.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
        last = `${res.status} ${await res.text()}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(
      `${this.name} ${this.#exit ? `ended (${this.#exit})` : `not ready within ${timeoutMs} ms (${last})`}; its log ${this.logFile} ends:\n${this.logTail()}`,
    );
  }

  /** SIGTERM (the service drains), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 30_000): Promise<void> {
    const child = this.#child;
    if (child && this.#exit === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await this.#exited;
      clearTimeout(timer);
    }
    await this.#closeLog();
  }

  /** SIGKILL: a crash (tests of what survives one). */
  async kill(): Promise<void> {
    if (this.#child && this.#exit === undefined) this.#child.kill('SIGKILL');
    await this.#exited;
    await this.#closeLog();
  }

  async #closeLog(): Promise<void> {
    const log = this.#log;
    this.#log = undefined;
    if (log) await new Promise<void>((resolve) => log.end(() => resolve()));
  }

  #remember(text: string): void {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      this.#tail.push(line);
      if (this.#tail.length > TAIL_LINES) this.#tail.shift();
    }
  }
}
