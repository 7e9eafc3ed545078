/**
 * Seeded randomness for the simulator. Never `Math.random`: the same seed must give the same
 * county, message for message, so a drill can be replayed and a test can pin what it produces.
 *
 * Every device draws from its own stream, seeded from a hash of the run's seed and the device's
 * path (`county/institution/gateway/device#purpose`), so adding or removing a device changes no
 * other device's numbers.
 */

/** 32-bit FNV-1a over UTF-16 code units, finished with murmur3's fmix32 for avalanche. */
export function hash32(text: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform number in [0, 1) that depends only on `seed` and `key`: stateless draws (per day, per sample). */
export function hashUnit(seed: number, key: string): number {
  return hash32(key, seed) / 4_294_967_296;
}

/** mulberry32: small, fast and well mixed; a full period of 2^32 is plenty for one device. */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A stream of `seed` for one purpose of one thing, independent of every other path. */
  static for(seed: number, path: string): Prng {
    return new Prng(hash32(path, seed));
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /**
   * Standard normal, clipped to ±3σ, from the Irwin–Hall sum of four uniforms: always exactly
   * four draws, so a stream's position never depends on the values it produced.
   */
  gaussian(): number {
    const s = this.next() + this.next() + this.next() + this.next();
    // Sum of 4 uniforms: mean 2, variance 4/12.
    return Math.max(-3, Math.min(3, (s - 2) * Math.sqrt(3)));
  }

  /** Exponentially distributed with the given mean (time to the next event of a Poisson process). */
  exponential(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }
}
