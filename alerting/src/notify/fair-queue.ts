/** A FIFO with O(1) push and shift (an array with a moving head, compacted now and then). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get size(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/**
 * A queue that is fair between keys (institutions): `shift` takes one item from each key in
 * turn, so 10,000 alarms from one institution wait behind each other, not in front of the next
 * institution's one. Within a key, first in, first out.
 */
export class FairQueue<T> {
  private readonly byKey = new Map<string, Fifo<T>>();
  private readonly turn = new Fifo<string>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  sizeOf(key: string): number {
    return this.byKey.get(key)?.size ?? 0;
  }

  push(key: string, item: T): void {
    let q = this.byKey.get(key);
    if (q === undefined) {
      q = new Fifo<T>();
      this.byKey.set(key, q);
      this.turn.push(key);
    }
    q.push(item);
    this.count++;
  }

  shift(): T | undefined {
    const key = this.turn.shift();
    if (key === undefined) return undefined;
    const q = this.byKey.get(key);
    const item = q?.shift();
    if (q === undefined || q.size === 0) this.byKey.delete(key);
    else this.turn.push(key);
    if (item !== undefined) this.count--;
    return item;
  }

  /** Removes and returns everything, key by key in turn order. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) out.push(item);
    return out;
  }
}
