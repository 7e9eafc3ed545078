import {
  closeSync,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { encodeFrame, FRAME_HEADER_BYTES, type QueueRecord, readFrame } from './record-frame.js';

export interface SegmentLogOptions {
  dir: string;
  /** A new segment file is started once the current one reaches this size. */
  segmentBytes: number;
  logger: Logger;
}

interface Segment {
  /** Id of its first record; also its file name. */
  firstId: number;
  path: string;
  size: number;
}

const SEGMENT_RE = /^(\d{16})\.seg$/;
const ACKS_FILE = 'acks.json';
const READ_CHUNK = 256 * 1024;

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * One append-only log of queued messages: numbered segment files of CRC-framed records, a
 * reader that streams them back in order without holding the backlog in memory, and the
 * acknowledgement state (every id below `through` is done, plus the ids above it acknowledged
 * out of order).
 *
 * Durability: `append` writes into the file before it returns, so a record survives SIGKILL
 * (it is in the kernel's page cache); `sync` fdatasyncs it, after which it survives a power cut.
 * After a crash, `open` truncates a torn last record. Acknowledgements are persisted lazily
 * (`persistAcks`), without fsync: losing some only resends messages, which the county drops by
 * their sequence number (protocol README, "The envelope").
 *
 * File operations are synchronous on purpose: appends must be ordered and complete before the
 * sensor is acknowledged, and a segment's descriptor must never be closed under an fsync still
 * running on the thread pool.
 */
export class SegmentLog {
  readonly #o: SegmentLogOptions;
  readonly #log: Logger;
  #segments: Segment[] = [];
  #fd: number | undefined;
  #nextId = 0;
  #through = 0;
  readonly #extra = new Set<number>();
  #retry: QueueRecord[] = [];
  readonly #inflight = new Map<number, QueueRecord>();
  #peeked: QueueRecord | undefined;
  #dirty = false;
  #acksDirty = false;
  #bytes = 0;
  #corrupt = 0;
  // Reader state: segment index, file offset of the next record, and a read-ahead buffer.
  #readIdx = 0;
  #readOffset = 0;
  #readFd: number | undefined;
  #readFdPath: string | undefined;
  #buf = Buffer.alloc(0);
  #bufStart = 0;

  constructor(opts: SegmentLogOptions) {
    this.#o = opts;
    this.#log = opts.logger;
  }

  /** Records lost to corruption (CRC mismatch, impossible lengths) since open. */
  get corrupt(): number {
    return this.#corrupt;
  }

  /** Messages not yet acknowledged (queued, or sent and waiting for PUBACK). */
  get depth(): number {
    return this.#nextId - this.#through - this.#extra.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Scans the directory, repairs a torn tail, restores the acknowledgement state. */
  open(): void {
    const dir = this.#o.dir;
    mkdirSync(dir, { recursive: true });
    this.#readAcks();
    this.#segments = readdirSync(dir)
      .flatMap((name) => {
        const m = SEGMENT_RE.exec(name);
        return m?.[1] ? [{ firstId: Number(m[1]), path: path.join(dir, name), size: 0 }] : [];
      })
      .sort((a, b) => a.firstId - b.firstId);
    for (const seg of this.#segments) {
      seg.size = statSync(seg.path).size;
      this.#bytes += seg.size;
    }
    const last = this.#segments.at(-1);
    if (last) {
      this.#nextId = this.#repairTail(last);
      this.#fd = openSync(last.path, 'a');
    }
    const first = this.#segments[0];
    // Records below the oldest segment were deleted after acknowledgement (or dropped).
    if (first && this.#through < first.firstId) this.#through = first.firstId;
    this.#nextId = Math.max(this.#nextId, this.#through);
    for (const id of this.#extra) if (id < this.#through) this.#extra.delete(id);
    this.#advanceThrough();
    // Start reading in the segment that holds `through`; acknowledged records are skipped.
    this.#readIdx = Math.max(
      0,
      this.#segments.findLastIndex((s) => s.firstId <= this.#through),
    );
    this.#readOffset = 0;
    this.#deleteAckedSegments();
  }

  /** Appends one record; it is in the file (not yet fsync'd) when this returns. */
  append(topic: string, payload: Buffer): number {
    const id = this.#nextId;
    let active = this.#segments.at(-1);
    if (!active || this.#fd === undefined || active.size >= this.#o.segmentBytes) active = this.#roll(id);
    const frame = encodeFrame(id, topic, payload);
    let written = 0;
    while (written < frame.length) written += writeSync(this.#fd as number, frame, written);
    this.#nextId = id + 1;
    active.size += frame.length;
    this.#bytes += frame.length;
    this.#dirty = true;
    return id;
  }

  /** fdatasync of what was appended since the last sync. */
  sync(): void {
    if (!this.#dirty || this.#fd === undefined) return;
    this.#dirty = false;
    fdatasyncSync(this.#fd);
  }

  /** The next message to send: unacknowledged ones from a dropped connection first, then the log in order. */
  peek(): QueueRecord | undefined {
    while (this.#peeked && this.#isDone(this.#peeked.id)) this.#peeked = undefined;
    if (this.#peeked) return this.#peeked;
    for (;;) {
      const rec = this.#retry.shift() ?? this.#readNext();
      if (!rec) return undefined;
      if (this.#isDone(rec.id)) continue;
      this.#peeked = rec;
      return rec;
    }
  }

  /** Marks the peeked record as sent (in flight until acknowledged). */
  take(rec: QueueRecord): void {
    if (this.#peeked === rec) this.#peeked = undefined;
    this.#inflight.set(rec.id, rec);
  }

  /** PUBACK: the county has it. Returns false if it was already done (a late acknowledgement). */
  ack(id: number): boolean {
    this.#inflight.delete(id);
    if (this.#isDone(id)) return false;
    if (id === this.#through) {
      this.#through++;
      this.#advanceThrough();
      this.#deleteAckedSegments();
    } else {
      this.#extra.add(id);
    }
    this.#acksDirty = true;
    return true;
  }

  /** A send failed: send it again before anything newer of this log. */
  nack(rec: QueueRecord): void {
    this.#inflight.delete(rec.id);
    this.#insertRetry([rec]);
  }

  /** The connection dropped: everything in flight is sent again, in id order, before anything newer. */
  requeueInflight(): void {
    const back = [...this.#inflight.values()];
    this.#inflight.clear();
    if (this.#peeked) back.push(this.#peeked);
    this.#peeked = undefined;
    this.#insertRetry(back);
  }

  /**
   * Drops the oldest segment whole, acknowledged or not (the full-queue policy for telemetry).
   * Never the segment being written. Returns how many unacknowledged records went with it.
   */
  dropOldestSegment(): number {
    const [oldest, next] = this.#segments;
    if (!oldest || !next) return 0;
    let dropped = 0;
    for (let id = Math.max(this.#through, oldest.firstId); id < next.firstId; id++) {
      if (!this.#extra.has(id)) dropped++;
    }
    if (this.#through < next.firstId) this.#through = next.firstId;
    for (const id of this.#extra) if (id < this.#through) this.#extra.delete(id);
    this.#advanceThrough();
    this.#retry = this.#retry.filter((r) => !this.#isDone(r.id));
    this.#removeOldest();
    this.#acksDirty = true;
    return dropped;
  }

  /** Writes the acknowledgement state if it changed (atomic rename; not fsync'd, see the class comment). */
  persistAcks(): void {
    if (!this.#acksDirty) return;
    this.#acksDirty = false;
    const file = path.join(this.#o.dir, ACKS_FILE);
    writeFileSync(`${file}.tmp`, JSON.stringify({ through: this.#through, extra: [...this.#extra] }));
    renameSync(`${file}.tmp`, file);
  }

  close(): void {
    this.sync();
    this.persistAcks();
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    this.#closeReadFd();
  }

  #isDone(id: number): boolean {
    return id < this.#through || this.#extra.has(id);
  }

  #advanceThrough(): void {
    while (this.#extra.delete(this.#through)) this.#through++;
  }

  #insertRetry(recs: QueueRecord[]): void {
    if (recs.length === 0) return;
    this.#retry = [...this.#retry, ...recs].filter((r) => !this.#isDone(r.id)).sort((a, b) => a.id - b.id);
  }

  #roll(firstId: number): Segment {
    if (this.#fd !== undefined) {
      // A finished segment is never appended to again: make it durable once, here.
      fdatasyncSync(this.#fd);
      closeSync(this.#fd);
      this.#dirty = false;
    }
    const seg: Segment = {
      firstId,
      path: path.join(this.#o.dir, `${String(firstId).padStart(16, '0')}.seg`),
      size: 0,
    };
    this.#fd = openSync(seg.path, 'a');
    // The new file's directory entry must survive a power cut too.
    fsyncDir(this.#o.dir);
    this.#segments.push(seg);
    return seg;
  }

  #deleteAckedSegments(): void {
    // A segment is done when the next one starts at or below `through`; the last is never deleted.
    while (this.#segments.length > 1 && (this.#segments[1]?.firstId ?? Number.POSITIVE_INFINITY) <= this.#through) {
      this.#removeOldest();
    }
  }

  #removeOldest(): void {
    const seg = this.#segments.shift();
    if (!seg) return;
    if (this.#readFdPath === seg.path) this.#closeReadFd();
    if (this.#readIdx === 0) {
      this.#readOffset = 0;
      this.#buf = Buffer.alloc(0);
      this.#bufStart = 0;
    } else {
      this.#readIdx--;
    }
    this.#bytes -= seg.size;
    try {
      unlinkSync(seg.path);
    } catch (err) {
      this.#log.error({ err, file: seg.path }, 'could not delete a finished queue segment');
    }
  }

  /** Scans the last segment: truncates a torn or corrupt tail. Returns the next record id. */
  #repairTail(seg: Segment): number {
    const data = readFileSync(seg.path);
    let offset = 0;
    let nextId = seg.firstId;
    for (;;) {
      const r = readFrame(data, offset);
      if (r.kind !== 'record') {
        if (offset < data.length) {
          const what = r.kind === 'partial' ? 'a torn last record (power cut during a write)' : r.detail;
          this.#log.warn(
            { file: seg.path, offset, bytes: data.length - offset, what },
            'queue segment repaired: tail cut',
          );
          truncateSync(seg.path, offset);
          this.#bytes -= data.length - offset;
          seg.size = offset;
        }
        return nextId;
      }
      nextId = r.record.id + 1;
      offset += r.bytes;
    }
  }

  #readAcks(): void {
    const file = path.join(this.#o.dir, ACKS_FILE);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.#log.warn({ err, file }, 'cannot read queue acks');
      return;
    }
    try {
      const v = JSON.parse(text) as { through?: unknown; extra?: unknown };
      if (typeof v.through === 'number' && Number.isSafeInteger(v.through) && Array.isArray(v.extra)) {
        this.#through = v.through;
        for (const id of v.extra) if (typeof id === 'number') this.#extra.add(id);
        return;
      }
      this.#log.warn({ file }, 'queue acks file has an unexpected shape: resending what is on disk');
    } catch (err) {
      // Unfsync'd by design: after a power cut it may be empty. Resending is safe (dedup by seq).
      this.#log.warn({ err, file }, 'queue acks file unreadable: resending what is on disk');
    }
  }

  #closeReadFd(): void {
    if (this.#readFd !== undefined) closeSync(this.#readFd);
    this.#readFd = undefined;
    this.#readFdPath = undefined;
  }

  #readNext(): QueueRecord | undefined {
    for (;;) {
      const seg = this.#segments[this.#readIdx];
      if (!seg) return undefined;
      const rel = this.#readOffset - this.#bufStart;
      let r = rel >= 0 && rel <= this.#buf.length ? readFrame(this.#buf, rel) : ({ kind: 'partial' } as const);
      if (r.kind === 'partial') {
        if (this.#readOffset >= seg.size) {
          if (this.#readIdx < this.#segments.length - 1) {
            this.#readIdx++;
            this.#readOffset = 0;
            this.#buf = Buffer.alloc(0);
            this.#bufStart = 0;
            continue;
          }
          return undefined;
        }
        this.#fill(seg);
        r = readFrame(this.#buf, 0);
        if (r.kind === 'partial') r = { kind: 'corrupt', detail: 'record runs past the end of its segment' };
      }
      if (r.kind === 'corrupt') {
        this.#corrupt++;
        this.#log.error(
          { file: seg.path, offset: this.#readOffset, detail: r.detail },
          'corrupt queue record: the rest of this segment is skipped',
        );
        this.#readOffset = seg.size;
        continue;
      }
      this.#readOffset += r.bytes;
      if (this.#isDone(r.record.id)) continue;
      return r.record;
    }
  }

  /** Reads ahead from the reader's offset: a chunk, or the whole record at the offset if that is bigger. */
  #fill(seg: Segment): void {
    if (this.#readFdPath !== seg.path) {
      this.#closeReadFd();
      this.#readFd = openSync(seg.path, 'r');
      this.#readFdPath = seg.path;
    }
    const start = this.#readOffset;
    const available = seg.size - start;
    this.#readAt(start, Math.min(READ_CHUNK, available));
    if (this.#buf.length >= FRAME_HEADER_BYTES) {
      const whole = FRAME_HEADER_BYTES + this.#buf.readUInt32LE(0);
      if (whole > this.#buf.length && whole <= available) this.#readAt(start, whole);
    }
  }

  #readAt(start: number, want: number): void {
    const buf = Buffer.allocUnsafe(want);
    let got = 0;
    while (got < want) {
      const n = readSync(this.#readFd as number, buf, got, want - got, start + got);
      if (n === 0) break;
      got += n;
    }
    this.#buf = buf.subarray(0, got);
    this.#bufStart = start;
  }
}
