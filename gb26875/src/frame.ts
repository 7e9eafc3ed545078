import type { Dialect } from './dialect.js';
import { readTimeLabel, type TimeLabel, writeTimeLabel } from './time-label.js';

/**
 * One packet of GB/T 26875.3-2011 §8.1 (数据包结构):
 *
 * | bytes | field                                                          |
 * | ----- | -------------------------------------------------------------- |
 * | 2     | start `@@` (0x40 0x40)                                         |
 * | 2     | serial number (业务流水号), u16 little-endian; the answer echoes it |
 * | 2     | protocol version: main (1), user                               |
 * | 6     | time label (§8.2.2)                                            |
 * | 6     | source address, little-endian                                  |
 * | 6     | destination address, little-endian                             |
 * | 2     | application data length, u16 little-endian, ≤ 1024            |
 * | 1     | command byte                                                   |
 * | n     | application data unit                                          |
 * | 1     | checksum of bytes 3 … end of data (the control unit and data)  |
 * | 2     | end `##` (0x23 0x23)                                           |
 */
export interface Frame {
  serial: number;
  version: { main: number; user: number };
  time: TimeLabel;
  /** 48-bit addresses as numbers (exact: below 2^53). */
  source: number;
  destination: number;
  command: number;
  /** The application data unit, possibly empty (a heartbeat, a confirm). */
  data: Uint8Array;
}

export const START = 0x40;
export const END = 0x23;
/** Start (2) + control unit (25). */
export const HEADER_BYTES = 27;
/** Checksum (1) + end (2). */
export const TRAILER_BYTES = 3;
/** GB/T 26875.3 §8.1: the application data unit is at most 1024 bytes. */
export const MAX_DATA_BYTES = 1024;
export const MAX_FRAME_BYTES = HEADER_BYTES + MAX_DATA_BYTES + TRAILER_BYTES;
export const ADDRESS_MAX = 2 ** 48 - 1;

/** The checksum over `buf[from, to)`: low 8 bits of the sum (§8.1), or the XOR in that dialect. */
export function checksum(buf: Uint8Array, from: number, to: number, kind: Dialect['checksum']): number {
  let c = 0;
  if (kind === 'xor') {
    for (let i = from; i < to; i++) c ^= buf[i] ?? 0;
    return c;
  }
  for (let i = from; i < to; i++) c += buf[i] ?? 0;
  return c & 0xff;
}

export function readAddress(buf: Uint8Array, at: number): number {
  let v = 0;
  for (let i = 5; i >= 0; i--) v = v * 256 + (buf[at + i] ?? 0);
  return v;
}

export function writeAddress(buf: Uint8Array, at: number, address: number): void {
  let v = address;
  for (let i = 0; i < 6; i++) {
    buf[at + i] = v % 256;
    v = Math.floor(v / 256);
  }
}

/** Encodes a frame. Throws a RangeError for data over 1024 bytes or an address over 48 bits. */
export function encodeFrame(f: Frame, dialect: Dialect): Buffer {
  const n = f.data.length;
  if (n > MAX_DATA_BYTES) throw new RangeError(`application data of ${n} bytes exceeds ${MAX_DATA_BYTES}`);
  for (const a of [f.source, f.destination]) {
    if (!Number.isInteger(a) || a < 0 || a > ADDRESS_MAX) throw new RangeError(`address ${a} is not 48-bit`);
  }
  const buf = Buffer.allocUnsafe(HEADER_BYTES + n + TRAILER_BYTES);
  buf[0] = START;
  buf[1] = START;
  buf.writeUInt16LE(f.serial & 0xffff, 2);
  buf[4] = f.version.main & 0xff;
  buf[5] = f.version.user & 0xff;
  writeTimeLabel(buf, 6, f.time, dialect);
  writeAddress(buf, 12, f.source);
  writeAddress(buf, 18, f.destination);
  buf.writeUInt16LE(n, 24);
  buf[26] = f.command & 0xff;
  buf.set(f.data, HEADER_BYTES);
  buf[HEADER_BYTES + n] = checksum(buf, 2, HEADER_BYTES + n, dialect.checksum);
  buf[HEADER_BYTES + n + 1] = END;
  buf[HEADER_BYTES + n + 2] = END;
  return buf;
}

/** Reads the frame whose complete, checked bytes are `buf[at, at + 30 + length)`; data is a view, not a copy. */
export function readFrame(buf: Uint8Array, at: number, dataLength: number, dialect: Dialect): Frame {
  return {
    serial: (buf[at + 2] ?? 0) | ((buf[at + 3] ?? 0) << 8),
    version: { main: buf[at + 4] ?? 0, user: buf[at + 5] ?? 0 },
    time: readTimeLabel(buf, at + 6, dialect),
    source: readAddress(buf, at + 12),
    destination: readAddress(buf, at + 18),
    command: buf[at + 26] ?? 0,
    data: buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + dataLength),
  };
}

/** What an answer's command byte means, in a dialect (`reply: plus-0x80`: 0x82 confirms a send). */
export type CommandRole = 'control' | 'send' | 'request' | 'confirm' | 'response' | 'deny' | 'other';

export function commandRole(command: number, dialect: Pick<Dialect, 'reply'>): CommandRole {
  switch (command) {
    case 1:
      return 'control';
    case 2:
      return 'send';
    case 3:
      return 'confirm';
    case 4:
      return 'request';
    case 5:
      return 'response';
    case 6:
      return 'deny';
    default:
      if (dialect.reply === 'plus-0x80') {
        if (command === 0x81 || command === 0x82) return 'confirm';
        if (command === 0x84) return 'response';
      }
      return 'other';
  }
}

/** The command byte that acknowledges `command` (confirm for control/send, response for request). */
export function replyCommand(command: number, dialect: Pick<Dialect, 'reply'>): number {
  if (dialect.reply === 'plus-0x80') return (command + 0x80) & 0xff;
  return command === 4 ? 5 : 3;
}
