import {
  componentStatusWord,
  decodeDataUnit,
  encodeDataUnit,
  encodeFrame,
  FrameDecoder,
  STANDARD_DIALECT,
} from '@anlian/gb26875';

export interface ThroughputResult {
  frames: number;
  seconds: number;
  perSecond: number;
}

/** 10,000 component-status frames (one object each, a GB 18030 description), back to back. */
export function componentStatusStream(n = 10_000): Buffer {
  const time = { year: 2026, month: 12, day: 3, hour: 14, minute: 5, second: 9 };
  const frames: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const data = encodeDataUnit(
      {
        type: 2,
        objects: [
          {
            systemType: 1,
            systemAddress: 1,
            componentType: 42,
            componentAddress: ((i % 250) << 16) | (1 + (i % 8)),
            status: componentStatusWord({ fire: i % 2 === 0, fault: i % 7 === 0 }),
            description: `主楼${1 + (i % 6)}层 ${200 + (i % 40)}房 感烟`,
            time,
          },
        ],
      },
      STANDARD_DIALECT,
    );
    frames.push(
      encodeFrame(
        { serial: i & 0xffff, version: { main: 1, user: 1 }, time, source: 889, destination: 0, command: 2, data },
        STANDARD_DIALECT,
      ),
    );
  }
  return Buffer.concat(frames);
}

/**
 * Decoder throughput on one core: the stream in 64 KiB socket-sized chunks through the streaming
 * decoder, each frame's data unit decoded (status, address, GB 18030 description, time label).
 */
export function decoderThroughput(stream: Buffer, seconds: number): ThroughputResult {
  const decoder = new FrameDecoder();
  let frames = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < until) {
    for (let at = 0; at < stream.length; at += 65_536) {
      decoder.decode(stream.subarray(at, at + 65_536), (e) => {
        if (e.type !== 'frame') return;
        const u = decodeDataUnit(e.frame.data, STANDARD_DIALECT);
        if (u.ok && !('raw' in u.unit) && u.unit.type === 2) sink += u.unit.objects[0]?.status ?? 0;
        frames++;
      });
    }
  }
  const took = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink < 0) throw new Error('unreachable');
  return { frames, seconds: took, perSecond: frames / took };
}

/** The baseline in the same run: JSON.parse of the equivalent protocol event, as the MQTT path reads it. */
export function jsonBaseline(seconds: number): ThroughputResult {
  const payloads = Array.from({ length: 1000 }, (_, i) =>
    Buffer.from(
      JSON.stringify({
        v: 1,
        ts: 1796287829169 + i,
        seq: i,
        kind: 'fire',
        event: 'fire',
        zone: `主楼${1 + (i % 6)}层 ${200 + (i % 40)}房`,
        detail: '点型光电感烟火灾探测器 3回路17号 火警',
      }),
    ),
  );
  let n = 0;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  const until = t0 + BigInt(Math.round(seconds * 1e9));
  while (process.hrtime.bigint() < until) {
    for (const p of payloads) {
      sink += (JSON.parse(p.toString('utf8')) as { seq: number }).seq;
      n++;
    }
  }
  const took = Number(process.hrtime.bigint() - t0) / 1e9;
  if (sink < 0) throw new Error('unreachable');
  return { frames: n, seconds: took, perSecond: n / took };
}
