import {
  type DataUnit,
  decodeDataUnit,
  encodeDataUnit,
  encodeFrame,
  FrameDecoder,
  MAX_FRAME_BYTES,
  STANDARD_DIALECT,
} from '@anlian/gb26875';
import { describe, expect, it } from 'vitest';

/** mulberry32: a seeded generator, so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const T = { year: 2026, month: 11, day: 20, hour: 14, minute: 5, second: 9 };

function validFrame(rand: () => number, serial: number): Buffer {
  const units: DataUnit[] = [
    {
      type: 2,
      objects: [
        {
          systemType: 1,
          systemAddress: 1,
          componentType: 40,
          componentAddress: Math.floor(rand() * 2 ** 32),
          status: 3,
          description: '二楼 走廊',
          time: T,
        },
      ],
    },
    { type: 21, objects: [{ status: 9, time: T }] },
    {
      type: 3,
      objects: [
        { systemType: 1, systemAddress: 1, componentType: 17, componentAddress: 5, analogType: 9, raw: 3, time: T },
      ],
    },
  ];
  const unit = units[Math.floor(rand() * units.length)] as DataUnit;
  return encodeFrame(
    {
      serial,
      version: { main: 1, user: 0 },
      time: T,
      source: 1000 + Math.floor(rand() * 1000),
      destination: 0,
      command: 2,
      data: encodeDataUnit(unit, STANDARD_DIALECT),
    },
    STANDARD_DIALECT,
  );
}

function mutate(rand: () => number, frame: Buffer): Buffer {
  const b = Buffer.from(frame);
  const kind = Math.floor(rand() * 5);
  if (kind === 0) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
  else if (kind === 1) return b.subarray(0, Math.floor(rand() * b.length));
  else if (kind === 2) b.writeUInt16LE(Math.floor(rand() * 65536), 24);
  else if (kind === 3) b[Math.floor(rand() * b.length)] = 0x40;
  else return Buffer.concat([b.subarray(0, 10), Buffer.from('@@##'), b.subarray(10)]);
  return b;
}

describe('decoder fuzz: random and mutated frames', () => {
  it('never throws, never holds more than one frame, and every complete valid frame after the noise is read', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const rand = prng(seed);
      const d = new FrameDecoder();
      let expectedValid = 0;
      let seenValid = 0;
      for (let round = 0; round < 20; round++) {
        const pieces: Buffer[] = [];
        const r = rand();
        if (r < 0.3)
          pieces.push(Buffer.from(Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256))));
        else if (r < 0.7) pieces.push(mutate(rand, validFrame(rand, round)));
        // Noise is followed by a valid frame, chunked at random: once the noise has been read through,
        // that frame must come out.
        const good = validFrame(rand, 40_000 + round);
        pieces.push(good);
        const stream = Buffer.concat(pieces);
        let at = 0;
        while (at < stream.length) {
          const n = 1 + Math.floor(rand() * 200);
          for (const e of d.push(stream.subarray(at, at + n))) {
            if (e.type === 'frame') {
              const u = decodeDataUnit(e.frame.data, STANDARD_DIALECT);
              expect(typeof u.ok).toBe('boolean');
              if (e.frame.serial >= 40_000) seenValid++;
            }
          }
          expect(d.buffered).toBeLessThanOrEqual(MAX_FRAME_BYTES);
          at += n;
        }
        expectedValid++;
        // A truncated frame followed by a valid one can swallow the valid frame's start only if the
        // valid frame then completes the truncated candidate's length; resynchronising on the next
        // frame recovers. Count by the end: at most the last frame may still be pending.
      }
      // One more clean frame flushes any candidate left incomplete by the noise.
      for (const e of d.push(validFrame(rand, 40_000))) if (e.type === 'frame' && e.frame.serial >= 40_000) seenValid++;
      expect(seenValid, `seed ${seed}`).toBeGreaterThanOrEqual(expectedValid);
    }
  });

  it('decodeDataUnit never throws on random bytes', () => {
    const rand = prng(7);
    for (let i = 0; i < 20_000; i++) {
      const len = Math.floor(rand() * 120);
      const bytes = Uint8Array.from({ length: len }, () => Math.floor(rand() * 256));
      if (len > 0 && rand() < 0.5) bytes[0] = [1, 2, 3, 4, 5, 6, 7, 8, 21, 24, 25, 26, 28, 64, 84, 90, 91][i % 17] ?? 2;
      expect(() => decodeDataUnit(bytes, STANDARD_DIALECT)).not.toThrow();
    }
  });

  it('memory does not grow over a long stream of noise', () => {
    const rand = prng(99);
    const d = new FrameDecoder();
    const chunk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < 200; i++) {
      for (let j = 0; j < chunk.length; j++) chunk[j] = rand() < 0.1 ? 0x40 : Math.floor(rand() * 256);
      d.push(chunk);
      expect(d.buffered).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    }
  });
});
