import type { Logger } from 'pino';
import type { DeliveryLog, DeliveryRecord } from '../notify/delivery-log.js';
import type { AlertStore } from './alert-store.js';

/**
 * The persistent delivery log: every attempt of every push, in the operational store. Records
 * are buffered and written in the background — the dispatcher never waits for them — and a
 * failed write is retried with the next batch rather than lost.
 */
export class StoreDeliveryLog implements DeliveryLog {
  #buffer: DeliveryRecord[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;

  constructor(
    private readonly store: AlertStore,
    private readonly logger: Logger,
    private readonly flushMs = 200,
  ) {}

  record(r: DeliveryRecord): void {
    this.#buffer.push(r);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  sentKeys(alertId: string): Promise<Set<string>> {
    return this.store.sentDeliveryIds(alertId);
  }

  /** Writes what is buffered; resolves when it is stored (or logged as failed and kept). */
  async flush(): Promise<void> {
    await this.#writing;
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    this.#writing = (async () => {
      try {
        for (const r of batch) await this.store.recordDelivery(r);
      } catch (err) {
        this.logger.error(
          { err, records: batch.length },
          'delivery records not stored; keeping them for the next write',
        );
        this.#buffer = batch.concat(this.#buffer);
        this.#timer ??= setTimeout(() => {
          this.#timer = undefined;
          void this.flush();
        }, 2000);
      }
    })();
    await this.#writing;
    this.#writing = undefined;
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
