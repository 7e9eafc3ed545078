import { crc32 } from 'node:zlib';

/**
 * One queued message on disk:
 *
 *   u32 LE body length | u32 LE CRC-32 of the body | body
 *   body = f64 LE record id | u16 LE topic length | topic (UTF-8) | payload
 *
 * The CRC finds a record torn by a power cut (a prefix of it reached the disk) and bit rot;
 * the length lets the reader skip to the next record without parsing the payload.
 */
export const FRAME_HEADER_BYTES = 8;
const BODY_FIXED_BYTES = 10;
/** Far above the contract's 16 KiB payload: a length beyond it is garbage, not a record. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface QueueRecord {
  id: number;
  topic: string;
  payload: Buffer;
}

export function encodeFrame(id: number, topic: string, payload: Buffer): Buffer {
  const topicBytes = Buffer.byteLength(topic);
  const bodyLength = BODY_FIXED_BYTES + topicBytes + payload.length;
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + bodyLength);
  frame.writeUInt32LE(bodyLength, 0);
  frame.writeDoubleLE(id, 8);
  frame.writeUInt16LE(topicBytes, 16);
  frame.write(topic, 18, 'utf8');
  payload.copy(frame, 18 + topicBytes);
  frame.writeUInt32LE(crc32(frame.subarray(FRAME_HEADER_BYTES)), 4);
  return frame;
}

export type FrameRead =
  | { kind: 'record'; record: QueueRecord; bytes: number }
  /** Not enough bytes yet for the whole frame (read more, or: the torn tail of a crash). */
  | { kind: 'partial' }
  | { kind: 'corrupt'; detail: string };

/** Decodes the frame at `offset` of `buf`. */
export function readFrame(buf: Buffer, offset: number): FrameRead {
  if (buf.length - offset < FRAME_HEADER_BYTES) return { kind: 'partial' };
  const bodyLength = buf.readUInt32LE(offset);
  if (bodyLength < BODY_FIXED_BYTES || bodyLength > MAX_BODY_BYTES) {
    return { kind: 'corrupt', detail: `impossible record length ${bodyLength}` };
  }
  if (buf.length - offset < FRAME_HEADER_BYTES + bodyLength) return { kind: 'partial' };
  const body = buf.subarray(offset + FRAME_HEADER_BYTES, offset + FRAME_HEADER_BYTES + bodyLength);
  if (crc32(body) !== buf.readUInt32LE(offset + 4)) return { kind: 'corrupt', detail: 'CRC mismatch' };
  const id = body.readDoubleLE(0);
  const topicLength = body.readUInt16LE(8);
  if (BODY_FIXED_BYTES + topicLength > bodyLength) return { kind: 'corrupt', detail: 'topic overruns the record' };
  const topic = body.toString('utf8', BODY_FIXED_BYTES, BODY_FIXED_BYTES + topicLength);
  // A copy: the read buffer is reused for the next chunk.
  const payload = Buffer.from(body.subarray(BODY_FIXED_BYTES + topicLength));
  return { kind: 'record', record: { id, topic, payload }, bytes: FRAME_HEADER_BYTES + bodyLength };
}
