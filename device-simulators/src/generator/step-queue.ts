/** Something the generator must do at a simulated instant. */
export interface QueueEntry {
  at: number;
  /** Lower first among equal times: fault actions (0) before device reports (1). */
  prio: number;
  /** Insertion order: the final, deterministic tie-break. */
  order: number;
}

/**
 * A binary min-heap over (at, prio, order): every device's and gateway's next due time in one
 * queue, so a county of 50,000 devices needs one timer in the live runner, not 50,000.
 */
export class StepQueue<T extends QueueEntry> {
  readonly #heap: T[] = [];

  get size(): number {
    return this.#heap.length;
  }

  peek(): T | undefined {
    return this.#heap[0];
  }

  push(entry: T): void {
    const h = this.#heap;
    h.push(entry);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!less(h[i] as T, h[parent] as T)) break;
      [h[i], h[parent]] = [h[parent] as T, h[i] as T];
      i = parent;
    }
  }

  pop(): T | undefined {
    const h = this.#heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && less(h[l] as T, h[m] as T)) m = l;
        if (r < h.length && less(h[r] as T, h[m] as T)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as T, h[i] as T];
        i = m;
      }
    }
    return top;
  }
}

function less(a: QueueEntry, b: QueueEntry): boolean {
  return a.at !== b.at ? a.at < b.at : a.prio !== b.prio ? a.prio < b.prio : a.order < b.order;
}
