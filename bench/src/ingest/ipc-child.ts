import { type ChildProcess, fork } from 'node:child_process';

/**
 * A forked bench process (generator, baseline subscriber) and its typed IPC: commands go out,
 * reports come in. An `error` report or an unexpected exit fails whatever is waiting.
 */
export class IpcChild<Command, Report extends { type: string }> {
  readonly #child: ChildProcess;
  readonly #name: string;
  readonly #listeners = new Set<(r: Report) => void>();
  #failure: Error | undefined;
  readonly #failureListeners = new Set<(err: Error) => void>();
  readonly exited: Promise<number | null>;

  /** `env`: the child's environment (default the bench's own). */
  constructor(name: string, module: URL, execArgv: string[] = [], env: NodeJS.ProcessEnv = process.env) {
    this.#name = name;
    this.#child = fork(module, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv, env });
    this.#child.on('message', (m) => {
      const report = m as Report;
      if (report.type === 'error') this.#fail(new Error((report as unknown as { message: string }).message));
      for (const l of this.#listeners) l(report);
    });
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        if (code !== 0) this.#fail(new Error(`${name} exited (code ${code}, signal ${signal})`));
        resolve(code);
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get failure(): Error | undefined {
    return this.#failure;
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    for (const l of this.#failureListeners) l(err);
  }

  send(cmd: Command): void {
    if (this.#child.connected) this.#child.send(cmd as object);
  }

  /** Calls `listener` for every report; returns the function that stops it. */
  on(listener: (r: Report) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The next report of `type`, failing on an error report, an exit or after `timeoutMs`. */
  next<T extends Report['type']>(type: T, timeoutMs: number): Promise<Extract<Report, { type: T }>> {
    return new Promise((resolve, reject) => {
      if (this.#failure) {
        reject(this.#failure);
        return;
      }
      const done = () => {
        clearTimeout(timer);
        off();
        this.#failureListeners.delete(onFail);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.#name}: no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.on((r) => {
        if (r.type !== type) return;
        done();
        resolve(r as Extract<Report, { type: T }>);
      });
      const onFail = (err: Error) => {
        done();
        reject(err);
      };
      this.#failureListeners.add(onFail);
    });
  }

  /** Asks politely (`exitCommand`), then SIGKILL after `graceMs`. */
  async stop(exitCommand: Command, graceMs = 5000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#failureListeners.clear();
    this.#failure ??= new Error(`${this.#name} stopped`);
    this.send(exitCommand);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    this.#child.kill('SIGKILL');
  }
}
