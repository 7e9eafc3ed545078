import { type Dialect, STANDARD_DIALECT } from './dialect.js';
import {
  checksum,
  END,
  type Frame,
  HEADER_BYTES,
  MAX_DATA_BYTES,
  MAX_FRAME_BYTES,
  readAddress,
  readFrame,
  START,
  TRAILER_BYTES,
} from './frame.js';

/** Why bytes that looked like a frame were refused (GB/T 26875.3 §6.5: 校验错误). */
export type FrameErrorReason = 'checksum' | 'length' | 'end-marker';

export type DecodeEvent =
  | { type: 'frame'; frame: Frame; bytes: number }
  /**
   * A refused frame. `serial` and `source` are read from its header — possibly corrupted
   * themselves — so that the receiver can answer with a deny (否认) as the standard asks.
   */
  | { type: 'error'; reason: FrameErrorReason; serial: number; source: number; detail: string }
  /** Bytes skipped while looking for `@@`. */
  | { type: 'garbage'; bytes: number };

export interface FrameDecoderOptions {
  dialect?: Dialect;
  /** Longest application data accepted; default (and at most) 1024 (§8.1). */
  maxDataBytes?: number;
}

const EMPTY = new Uint8Array(0);

/**
 * A streaming decoder for a TCP byte stream: frames may arrive split or several to a chunk
 * (粘包), after line noise or half a frame from a reset connection. It resynchronises on the
 * next `@@` after anything it cannot use, and keeps at most one incomplete frame (≤ 1057 bytes)
 * between chunks, whatever it is fed: memory does not grow with garbage.
 *
 * A candidate frame that is still incomplete does not hold back a complete, valid frame behind
 * it: garbage containing `@@` would otherwise stall a fire alarm until enough bytes arrived.
 */
export class FrameDecoder {
  readonly #dialect: Dialect;
  readonly #maxData: number;
  #rest: Uint8Array = EMPTY;

  constructor(opts: FrameDecoderOptions = {}) {
    this.#dialect = opts.dialect ?? STANDARD_DIALECT;
    this.#maxData = Math.min(opts.maxDataBytes ?? MAX_DATA_BYTES, MAX_DATA_BYTES);
  }

  /** Bytes held for an incomplete frame (never more than one frame's worth). */
  get buffered(): number {
    return this.#rest.length;
  }

  /** Forgets an incomplete frame (a new connection, or nothing more arrived for it). Returns the bytes dropped. */
  reset(): number {
    const n = this.#rest.length;
    this.#rest = EMPTY;
    return n;
  }

  push(chunk: Uint8Array): DecodeEvent[] {
    const out: DecodeEvent[] = [];
    this.decode(chunk, (e) => out.push(e));
    return out;
  }

  /** Decodes `chunk`, calling `emit` for each frame, refused frame and run of garbage in order. */
  decode(chunk: Uint8Array, emit: (e: DecodeEvent) => void): void {
    let buf: Uint8Array;
    if (this.#rest.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.#rest.length + chunk.length);
      buf.set(this.#rest, 0);
      buf.set(chunk, this.#rest.length);
    }
    let at = 0;
    let garbage = 0;
    const flush = () => {
      if (garbage > 0) emit({ type: 'garbage', bytes: garbage });
      garbage = 0;
    };
    const n = buf.length;
    for (;;) {
      const s = findStart(buf, at);
      if (s < 0) {
        // Keep a trailing `@`: it may be the first half of the next start.
        const keep = n > at && buf[n - 1] === START ? 1 : 0;
        garbage += n - at - keep;
        at = n - keep;
        break;
      }
      garbage += s - at;
      at = s;
      if (n - at < HEADER_BYTES) break;
      const length = (buf[at + 24] ?? 0) | ((buf[at + 25] ?? 0) << 8);
      if (length > this.#maxData) {
        this.#refuse(buf, at, 'length', `application data length ${length} exceeds ${this.#maxData}`, flush, emit);
        garbage += buf[at + 2] === START ? 1 : 0;
        at += 1;
        continue;
      }
      const total = HEADER_BYTES + length + TRAILER_BYTES;
      if (n - at < total) {
        const next = this.#validFrameAfter(buf, at + 1);
        if (next < 0) break;
        garbage += next - at;
        at = next;
        continue;
      }
      if (buf[at + total - 2] !== END || buf[at + total - 1] !== END) {
        this.#refuse(buf, at, 'end-marker', `no "##" after ${length} bytes of data`, flush, emit);
        garbage += buf[at + 2] === START ? 1 : 0;
        at += 1;
        continue;
      }
      const sum = checksum(buf, at + 2, at + HEADER_BYTES + length, this.#dialect.checksum);
      const carried = buf[at + HEADER_BYTES + length] ?? 0;
      if (sum !== carried) {
        flush();
        emit(this.#error(buf, at, 'checksum', `checksum ${hex(carried)}, computed ${hex(sum)}`));
        at += total;
        continue;
      }
      flush();
      emit({ type: 'frame', frame: readFrame(buf, at, length, this.#dialect), bytes: total });
      at += total;
    }
    flush();
    // A copy: at most one frame's bytes, and the chunk behind it is not kept alive.
    this.#rest = at < n ? buf.slice(at, Math.min(n, at + MAX_FRAME_BYTES)) : EMPTY;
  }

  /**
   * A start that leads nowhere. In a run of `@@@` it is the first `@` of the run — noise before
   * the frame that starts one byte later — and is counted as garbage, not refused.
   */
  #refuse(
    buf: Uint8Array,
    at: number,
    reason: FrameErrorReason,
    detail: string,
    flush: () => void,
    emit: (e: DecodeEvent) => void,
  ): void {
    if (buf[at + 2] === START) return;
    flush();
    emit(this.#error(buf, at, reason, detail));
  }

  #error(buf: Uint8Array, at: number, reason: FrameErrorReason, detail: string): DecodeEvent {
    return {
      type: 'error',
      reason,
      serial: (buf[at + 2] ?? 0) | ((buf[at + 3] ?? 0) << 8),
      source: readAddress(buf, at + 12),
      detail,
    };
  }

  /** The first position after `from` where a complete frame with a good checksum starts, or -1. */
  #validFrameAfter(buf: Uint8Array, from: number): number {
    const n = buf.length;
    for (let p = findStart(buf, from); p >= 0; p = findStart(buf, p + 1)) {
      if (n - p < HEADER_BYTES) return -1;
      const length = (buf[p + 24] ?? 0) | ((buf[p + 25] ?? 0) << 8);
      if (length > this.#maxData) continue;
      const total = HEADER_BYTES + length + TRAILER_BYTES;
      if (n - p < total) continue;
      if (buf[p + total - 2] !== END || buf[p + total - 1] !== END) continue;
      if (checksum(buf, p + 2, p + HEADER_BYTES + length, this.#dialect.checksum) === buf[p + HEADER_BYTES + length]) {
        return p;
      }
    }
    return -1;
  }
}

function findStart(buf: Uint8Array, from: number): number {
  const last = buf.length - 1;
  for (let i = buf.indexOf(START, from); i >= 0 && i < last; i = buf.indexOf(START, i + 1)) {
    if (buf[i + 1] === START) return i;
  }
  return -1;
}

const hex = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;
