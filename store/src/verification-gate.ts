import { StoreError, StoreErrorCode } from './errors.js';

export interface VerificationGateOptions {
  /**
   * Verifications running at once. scrypt runs on libuv's thread pool (4 threads by default),
   * which file system calls share: keep this below the pool size, so that a flood of password
   * checks cannot stall the spool, the logs or SQLite behind it. Default 2.
   */
  concurrency?: number;
  /** Verifications waiting for a turn; one more is refused at once (`ANL_ERR_VERIFY_BUSY`). Default 64. */
  maxQueue?: number;
}

interface Waiter {
  start: () => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * Bounds concurrent password hashing (scrypt): verifications beyond `concurrency` wait in a
 * bounded queue, the queue's overflow is refused at once, and a waiting verification whose
 * requester has gone (its socket closed, the server stopping: the signal aborts) leaves the queue
 * without ever being hashed.
 */
export class VerificationGate {
  readonly #concurrency: number;
  readonly #maxQueue: number;
  readonly #queue: Waiter[] = [];
  #running = 0;

  constructor(opts: VerificationGateOptions = {}) {
    this.#concurrency = opts.concurrency ?? 2;
    this.#maxQueue = opts.maxQueue ?? 64;
  }

  get running(): number {
    return this.#running;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Runs `work` when a slot is free. Rejects with `ANL_ERR_VERIFY_BUSY` when the queue is full, with the signal's reason when aborted first. */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.#running < this.#concurrency) this.#running++;
    else {
      if (this.#queue.length >= this.#maxQueue) {
        throw new StoreError(StoreErrorCode.BUSY, 'too many verifications waiting; try again later');
      }
      await new Promise<void>((resolve, reject) => {
        const waiter: Waiter = {
          start: () => {
            signal?.removeEventListener('abort', waiter.onAbort);
            resolve();
          },
          signal,
          onAbort: () => {
            const i = this.#queue.indexOf(waiter);
            if (i >= 0) this.#queue.splice(i, 1);
            reject(signal?.reason ?? new DOMException('aborted', 'AbortError'));
          },
        };
        signal?.addEventListener('abort', waiter.onAbort, { once: true });
        this.#queue.push(waiter);
      });
      // The finishing verification handed its slot over: `#running` already counts this one.
    }
    try {
      return await work();
    } finally {
      const next = this.#queue.shift();
      if (next) next.start();
      else this.#running--;
    }
  }
}
