/**
 * Store and spool work held back to the end of the current event-loop turn (`setImmediate`), so
 * that the pushes dispatched in this turn reach their sockets first (issue 12).
 *
 * Why: a fire alarm's first request is started synchronously by the dispatcher, but undici's
 * `fetch` writes it to the (kept-alive) socket a few dozen microtasks later. The alert's store
 * write (better-sqlite3: synchronous statements behind a few kysely awaits) and its `alert_event`
 * spool write (`writeSync`, one microtask after `append`) were started in the same turn and won
 * that race: on a loaded disk the push left tens of milliseconds late, after the disk. Deferred
 * to the check phase, they run once every microtask of this turn — the request's write included —
 * has run, and never later than the next turn.
 *
 * Durability is unchanged: the writes are the same, in the same order, one turn later; a crash in
 * that turn is the crash between a push and its record that the write-behind already accepts
 * (at worst one duplicate push after a restart, never a lost alarm). `flush()` runs what is held
 * at once, for the paths that must see the store written (people's actions, `flushed()`, stop).
 */
export class DeferredWrites {
  #pending: (() => void)[] = [];
  #immediate: NodeJS.Immediate | undefined;

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Runs `write` at the end of this event-loop turn (or at the next `flush`). */
  defer(write: () => void): void {
    this.#pending.push(write);
    this.#immediate ??= setImmediate(() => this.flush());
  }

  /** Runs everything held, now, in the order it was deferred. */
  flush(): void {
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#immediate = undefined;
    const pending = this.#pending;
    this.#pending = [];
    for (const write of pending) {
      try {
        write();
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
