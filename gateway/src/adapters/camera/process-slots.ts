/**
 * At most `size` ffmpeg/ffprobe processes of the gateway at a time (a gateway box has one or two
 * cores; ffmpeg decoding video is the heaviest thing it does). Waiters are served in order.
 */
export class ProcessSlots {
  #size: number;
  #busy = 0;
  #peak = 0;
  readonly #queue: (() => void)[] = [];

  constructor(size: number) {
    this.#size = size;
  }

  get busy(): number {
    return this.#busy;
  }

  /** The most processes that ever ran at once. */
  get peak(): number {
    return this.#peak;
  }

  resize(size: number): void {
    this.#size = size;
    this.#drain();
  }

  /** Runs `task` in a slot; `urgent` tasks (video review of a fire alarm) go to the front of the queue. */
  async run<T>(task: () => Promise<T>, urgent = false): Promise<T> {
    await new Promise<void>((resolve) => {
      if (urgent) this.#queue.unshift(resolve);
      else this.#queue.push(resolve);
      this.#drain();
    });
    try {
      return await task();
    } finally {
      this.#busy--;
      this.#drain();
    }
  }

  #drain(): void {
    while (this.#busy < this.#size && this.#queue.length > 0) {
      this.#busy++;
      this.#peak = Math.max(this.#peak, this.#busy);
      this.#queue.shift()?.();
    }
  }
}
