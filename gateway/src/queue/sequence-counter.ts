import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

const FILE = 'seq.json';

/**
 * The per-gateway envelope `seq`, kept across restarts (protocol README: the county drops a
 * number it has already seen, so a reused number would be a lost message).
 *
 * Numbers are reserved in blocks: the file holds a limit that every number handed out stays
 * below, fsync'd *before* the first number of a block is used. A clean stop writes the exact
 * next number; after SIGKILL or a power cut the counter resumes at the limit, so the county may
 * see a gap of up to one block — never a reuse.
 */
export class SequenceCounter {
  readonly #file: string;
  readonly #block: number;
  readonly #log: Logger;
  #next = 0;
  #limit = 0;

  constructor(opts: { dir: string; logger: Logger; block?: number }) {
    this.#file = path.join(opts.dir, FILE);
    this.#block = opts.block ?? 1000;
    this.#log = opts.logger;
  }

  open(): void {
    mkdirSync(path.dirname(this.#file), { recursive: true });
    try {
      const v = JSON.parse(readFileSync(this.#file, 'utf8')) as { limit?: unknown };
      if (typeof v.limit === 'number' && Number.isSafeInteger(v.limit) && v.limit >= 0) this.#next = v.limit;
      else throw new Error('no limit');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        // Written with fsync + rename, so this is not a torn write: someone edited or lost it.
        // Announced to the county by the `online` status, whose seq restarts its window.
        this.#log.error({ err, file: this.#file }, 'sequence file unreadable: numbering restarts at 0');
      }
    }
    this.#limit = this.#next;
  }

  /** The next number, reserving a new block durably when the current one is used up. */
  next(): number {
    if (this.#next >= this.#limit) this.#persist(this.#next + this.#block);
    return this.#next++;
  }

  /** What `next()` will return. */
  peek(): number {
    return this.#next;
  }

  /** Clean stop: the exact next number, so that no gap appears. */
  close(): void {
    this.#persist(this.#next);
  }

  #persist(limit: number): void {
    const tmp = `${this.#file}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeSync(fd, JSON.stringify({ limit }));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.#file);
    const dir = openSync(path.dirname(this.#file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.#limit = limit;
  }
}
