import type { Logger } from 'pino';

/**
 * Store writes, one at a time and in order (an alert's insert before its updates, on PostgreSQL's
 * pool too). A failing write is retried with backoff and holds back the ones after it rather
 * than being skipped: the alert workflow is a record that must not have holes. The alarm path
 * never waits here — it dispatches first and enqueues after.
 */
export class SerialWriter {
  readonly #queue: { what: string; run: () => Promise<void> }[] = [];
  #running = false;
  #idle: (() => void)[] = [];
  #stopping = false;
  #failures = 0;

  constructor(
    private readonly logger: Logger,
    private readonly retry: { baseMs: number; maxMs: number } = { baseMs: 200, maxMs: 10_000 },
  ) {}

  get depth(): number {
    return this.#queue.length + (this.#running ? 1 : 0);
  }

  get failing(): boolean {
    return this.#failures > 0;
  }

  enqueue(what: string, run: () => Promise<void>): void {
    this.#queue.push({ what, run });
    if (!this.#running) void this.#drain();
  }

  /** Resolves when everything enqueued so far is written (or, when stopping, given up). */
  idle(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Waits up to `timeoutMs` for the queue to drain, then stops retrying. */
  async stop(timeoutMs = 10_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.#stopping = true;
    if (this.depth > 0) this.logger.error({ pending: this.depth }, 'alert store writes left unwritten at shutdown');
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      for (;;) {
        const task = this.#queue.shift();
        if (!task) break;
        for (let attempt = 1; ; attempt++) {
          try {
            await task.run();
            if (this.#failures > 0)
              this.logger.info({ what: task.what, attempts: attempt }, 'alert store writable again');
            this.#failures = 0;
            break;
          } catch (err) {
            this.#failures++;
            if (this.#stopping) {
              this.logger.error({ err, what: task.what }, 'alert store write abandoned at shutdown');
              break;
            }
            const waitMs = Math.min(this.retry.maxMs, this.retry.baseMs * 2 ** Math.min(attempt - 1, 10));
            this.logger.error(
              { err, what: task.what, attempt, retryInMs: waitMs },
              'alert store write failed; retrying',
            );
            await new Promise((r) => setTimeout(r, waitMs));
          }
        }
      }
    } finally {
      this.#running = false;
      const waiting = this.#idle;
      this.#idle = [];
      for (const resolve of waiting) resolve();
    }
  }
}
