/**
 * Per-gateway duplicate detection by sequence number.
 *
 * QoS 1 is "at least once" [MQTT-4.3.2]: after a reconnect the gateway resends every message
 * it had not seen acknowledged, so the county sees some of them twice. Each gateway numbers its
 * messages; this window remembers the last `size` numbers at or below the highest seen and
 * reports a number seen before as a duplicate.
 *
 * Numbers more than `size` below the highest are not remembered: they are accepted (storage is
 * idempotent, see the InfluxDB writer) and counted as out of window. A gateway whose counter
 * restarted announces it: its `online` status carries its next number, and a status below the
 * highest seen restarts the window (see `restart`).
 */
export class SequenceWindow {
  readonly #size: number;
  readonly #gateways = new Map<string, { high: number; bits: Uint32Array }>();

  constructor(size = 16_384) {
    if (size <= 0 || size % 32 !== 0) throw new RangeError('window size must be a positive multiple of 32');
    this.#size = size;
  }

  /** Records `seq` for `gateway`; returns what it was. */
  check(gateway: string, seq: number): 'new' | 'duplicate' | 'out-of-window' {
    const size = this.#size;
    let g = this.#gateways.get(gateway);
    if (!g) {
      g = { high: seq, bits: new Uint32Array(size / 32) };
      this.#gateways.set(gateway, g);
      this.#set(g.bits, seq);
      return 'new';
    }
    if (seq > g.high) {
      // Clear the slots that the window slides over, then mark the new number.
      const advance = seq - g.high;
      if (advance >= size) g.bits.fill(0);
      else for (let s = g.high + 1; s <= seq; s++) this.#clear(g.bits, s);
      g.high = seq;
      this.#set(g.bits, seq);
      return 'new';
    }
    if (g.high - seq >= size) return 'out-of-window';
    if (this.#has(g.bits, seq)) return 'duplicate';
    this.#set(g.bits, seq);
    return 'new';
  }

  /**
   * A gateway came online announcing `nextSeq`. If that is below what we have seen, its counter
   * restarted (a gateway without persistent storage, a factory reset): forget the old numbers.
   */
  restart(gateway: string, nextSeq: number): boolean {
    const g = this.#gateways.get(gateway);
    if (!g || nextSeq > g.high) return false;
    this.#gateways.delete(gateway);
    return true;
  }

  /** Un-marks `seq` after its message could not be stored, so that the redelivery is accepted. */
  forget(gateway: string, seq: number): void {
    const g = this.#gateways.get(gateway);
    if (g && g.high - seq < this.#size && seq <= g.high) this.#clear(g.bits, seq);
  }

  get gatewayCount(): number {
    return this.#gateways.size;
  }

  // Word index and mask computed inline (no [word, mask] tuple): these run once per message.
  #set(bits: Uint32Array, seq: number): void {
    const i = seq % this.#size;
    bits[i >>> 5] = (bits[i >>> 5] ?? 0) | (1 << (i & 31));
  }
  #clear(bits: Uint32Array, seq: number): void {
    const i = seq % this.#size;
    bits[i >>> 5] = (bits[i >>> 5] ?? 0) & ~(1 << (i & 31));
  }
  #has(bits: Uint32Array, seq: number): boolean {
    const i = seq % this.#size;
    return ((bits[i >>> 5] ?? 0) & (1 << (i & 31))) !== 0;
  }
}
