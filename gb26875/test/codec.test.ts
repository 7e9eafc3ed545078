import {
  Command,
  commandRole,
  componentStatusFlags,
  componentStatusWord,
  DataType,
  type DataUnit,
  decodeDataUnit,
  decodeGb18030,
  dialectOf,
  encodeDataUnit,
  encodeFrame,
  encodeGb18030,
  type Frame,
  FrameDecoder,
  MAX_FRAME_BYTES,
  maxObjectsPerFrame,
  replyCommand,
  STANDARD_DIALECT,
  systemOperationFlags,
  systemStatusFlags,
  systemStatusWord,
  type TimeLabel,
  timeLabelFromEpochMs,
  timeLabelToEpochMs,
  uitdOperationByte,
  uitdOperationFlags,
  uitdStatusByte,
  uitdStatusFlags,
} from '@anlian/gb26875';
import { describe, expect, it } from 'vitest';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const T: TimeLabel = { year: 2026, month: 11, day: 20, hour: 14, minute: 5, second: 9 };

function frameOf(data: Uint8Array, over: Partial<Frame> = {}): Frame {
  return {
    serial: 258,
    version: { main: 1, user: 0 },
    time: T,
    source: 12346,
    destination: 0,
    command: Command.send,
    data,
    ...over,
  };
}

function only(events: ReturnType<FrameDecoder['push']>) {
  expect(events).toHaveLength(1);
  const e = events[0];
  if (e?.type !== 'frame') throw new Error(`expected a frame, got ${JSON.stringify(e)}`);
  return e.frame;
}

describe('golden frames worked out from GB/T 26875.3-2011 §8', () => {
  // A smoke detector (component type 40) at loop 1, point 23 of fire alarm system 1 reports fire
  // (status bit 0 normal + bit 1 fire = 0x0003) with the description 3F东走廊 in GB 18030, at
  // 2026-11-20 14:05:09; UITD 12346 (0x303A) to centre 0, serial 258 (0x0102).
  const fire = [
    '40 40', // start
    '02 01', // serial 258, low byte first
    '01 00', // version 1.0
    '09 05 0e 14 0b 1a', // 09 s, 05 min, 14 h, 20th, November, 2026 − 2000
    '3a 30 00 00 00 00', // source 12346
    '00 00 00 00 00 00', // destination 0
    '30 00', // 48 bytes of data
    '02', // send
    '02 01', // type 2 (component status), one object
    '01 01 28', // system type 1 (火灾报警系统), address 1, component type 40 (感烟)
    '01 00 17 00', // component address: loop 1, point 23
    '03 00', // status: normal + fire
    '33 46 b6 ab d7 df c0 c8', // "3F东走廊" in GB 18030
    '00 '.repeat(23), // padded to 31 bytes
    '09 05 0e 14 0b 1a', // time of the status
    'aa', // checksum: sum of bytes 3 … 75, low 8 bits
    '23 23', // end
  ].join(' ');
  // The centre's confirm echoes the serial, addresses swapped, no data.
  const confirm = '40 40 02 01 01 00 09 05 0e 14 0b 1a 00 00 00 00 00 00 3a 30 00 00 00 00 00 00 03 c6 23 23';

  it('encodes a component fire status byte for byte', () => {
    const data = encodeDataUnit(
      {
        type: 2,
        objects: [
          {
            systemType: 1,
            systemAddress: 1,
            componentType: 40,
            componentAddress: (23 << 16) | 1,
            status: componentStatusWord({ fire: true }),
            description: '3F东走廊',
            time: T,
          },
        ],
      },
      STANDARD_DIALECT,
    );
    expect(encodeFrame(frameOf(data), STANDARD_DIALECT).toString('hex')).toBe(hex(fire).toString('hex'));
    expect(
      encodeFrame(frameOf(new Uint8Array(0), { source: 0, destination: 12346, command: 3 }), STANDARD_DIALECT),
    ).toEqual(hex(confirm));
  });

  it('decodes it back with its fields', () => {
    const f = only(new FrameDecoder().push(hex(fire)));
    expect(f).toMatchObject({
      serial: 258,
      version: { main: 1, user: 0 },
      time: T,
      source: 12346,
      destination: 0,
      command: 2,
    });
    const r = decodeDataUnit(f.data, STANDARD_DIALECT);
    expect(r).toEqual({
      ok: true,
      unit: {
        type: 2,
        objects: [
          {
            systemType: 1,
            systemAddress: 1,
            componentType: 40,
            componentAddress: 0x170001,
            status: 3,
            description: '3F东走廊',
            time: T,
          },
        ],
      },
    });
    expect(componentStatusFlags(3)).toMatchObject({ test: false, fire: true, fault: false, disabled: false });
  });

  it('decodes an analog value: residual current detector, 0.3 A (table 6 type 9, 0.1 A)', () => {
    const data = hex('03 01 01 01 11 02 00 05 00 09 03 00 09 05 0e 14 0b 1a');
    expect(decodeDataUnit(data, STANDARD_DIALECT)).toEqual({
      ok: true,
      unit: {
        type: 3,
        objects: [
          {
            systemType: 1,
            systemAddress: 1,
            componentType: 17,
            componentAddress: 0x50002,
            analogType: 9,
            raw: 3,
            time: T,
          },
        ],
      },
    });
    // Negative values are int16 (temperatures below zero).
    const cold = hex('03 01 01 01 12 02 00 05 00 03 9c ff 09 05 0e 14 0b 1a');
    const r = decodeDataUnit(cold, STANDARD_DIALECT);
    expect(r.ok && 'objects' in r.unit && r.unit.type === 3 && r.unit.objects[0]?.raw).toBe(-100);
  });

  // Frames from the informative examples that accompany the standard (a smoke detector fire, a
  // UITD main power fault, a duty-check answer, a 10-minute duty check): checksums and fields agree.
  it('reads the example frames that accompany the standard', () => {
    const examples = [
      '40 40 01 00 01 01 20 3A 09 1A 09 0C 79 03 00 00 00 00 38 5B 01 00 00 00 30 00 02 02 01 01 01 28 0A 00 02 00 02 00' +
        ' 20'.repeat(30) +
        ' 00 02 3A 09 1A 09 0C 46 23 23',
      '40 40 01 00 01 01 20 3A 09 1A 09 0C 79 03 00 00 00 00 38 5B 01 00 00 00 09 00 02 15 01 08 02 3A 09 1A 09 0C 42 23 23',
      '40 40 01 00 01 01 20 3A 09 1A 09 0C 79 03 00 00 00 00 38 5B 01 00 00 00 0A 00 02 18 01 20 01 02 3A 09 1A 09 0C 5F 23 23',
      '40 40 01 00 01 01 20 3A 09 1A 09 0C 38 5B 01 00 00 00 79 03 00 00 00 00 03 00 01 5B 01 0A 0F 23 23',
    ];
    const d = new FrameDecoder();
    const frames = examples.flatMap((s) => d.push(hex(s)));
    expect(frames.map((e) => e.type)).toEqual(['frame', 'frame', 'frame', 'frame']);
    const units = frames.map((e) => (e.type === 'frame' ? decodeDataUnit(e.frame.data, STANDARD_DIALECT) : undefined));
    const when = { year: 2012, month: 9, day: 26, hour: 9, minute: 58, second: 2 };
    expect(units[0]).toMatchObject({
      ok: true,
      unit: { type: 2, objects: [{ componentType: 40, status: 2, description: '', time: when }] },
    });
    expect(units[1]).toMatchObject({ ok: true, unit: { type: 21, objects: [{ status: 8, time: when }] } });
    expect(uitdStatusFlags(8)).toMatchObject({ mainPowerFault: true, fire: false });
    expect(units[2]).toMatchObject({ ok: true, unit: { type: 24, objects: [{ operation: 0x20, operator: 1 }] } });
    expect(uitdOperationFlags(0x20).dutyCheckAnswer).toBe(true);
    expect(units[3]).toEqual({ ok: true, unit: { type: DataType.dutyCheck, answerMinutes: 10 } });
    const check = frames[3];
    expect(check?.type === 'frame' && check.frame.command).toBe(Command.control);
  });
});

describe('status words and operation bytes, bit by bit', () => {
  it('puts each flag at its bit of GB/T 26875.3 §8.2.1, bit 0 of a status word being "normal"', () => {
    expect(systemStatusWord({})).toBe(1);
    expect(systemStatusWord({ test: true })).toBe(0);
    expect(systemStatusWord({ busFault: true, reset: true })).toBe(1 | (1 << 10) | (1 << 13));
    expect(componentStatusWord({ powerFault: true, fire: true })).toBe(1 | (1 << 8) | (1 << 1));
    expect(uitdStatusByte({ panelLineFault: true })).toBe(1 | (1 << 6));
    expect(uitdOperationByte({ test: true, reset: true })).toBe((1 << 6) | 1);
    expect(systemOperationFlags(1 << 5)).toMatchObject({ confirm: true, mute: false, reset: false });
    expect(systemStatusFlags(1 << 11)).toMatchObject({ test: true, manual: true, fire: false });
  });

  it('reads back every word it builds', () => {
    for (let word = 0; word < 1 << 14; word += 37) {
      expect(systemStatusWord(systemStatusFlags(word))).toBe(word);
      expect(componentStatusWord(componentStatusFlags(word & 0x1ff))).toBe(word & 0x1ff);
    }
    for (let byte = 0; byte < 128; byte++) {
      expect(uitdStatusByte(uitdStatusFlags(byte))).toBe(byte);
      expect(uitdOperationByte(uitdOperationFlags(byte))).toBe(byte);
    }
  });
});

describe('data units round-trip', () => {
  const ref = { systemType: 1, systemAddress: 2 };
  const comp = { ...ref, componentType: 18, componentAddress: 0x00030004 };
  const units: DataUnit[] = [
    {
      type: 1,
      objects: [{ ...ref, status: systemStatusWord({ fire: true, mainPowerFault: true, busFault: true }), time: T }],
    },
    {
      type: 2,
      objects: Array.from({ length: 22 }, (_, i) => ({
        ...comp,
        componentAddress: i,
        status: componentStatusWord({ fault: i % 2 === 0, disabled: i % 3 === 0 }),
        description: `主楼${i}层 配电箱 A 相`,
        time: T,
      })),
    },
    { type: 3, objects: [{ ...comp, analogType: 3, raw: -273, time: T }] },
    { type: 4, objects: [{ ...ref, operation: 0x03, operator: 7, time: T }] },
    { type: 5, objects: [{ ...ref, main: 2, user: 13 }] },
    {
      type: 6,
      objects: [
        { ...ref, description: '火灾报警控制器（联动型）' },
        { ...ref, systemAddress: 3, description: '' },
      ],
    },
    { type: 7, objects: [{ ...comp, description: '厨房 感温' }] },
    { type: 8, objects: [{ ...ref, time: T }] },
    { type: 21, objects: [{ status: 0x19, time: T }] },
    { type: 24, objects: [{ operation: 0x20, operator: 1, time: T }] },
    { type: 25, objects: [{ main: 1, user: 2 }] },
    { type: 26, objects: [{ description: '用户信息传输装置 V1' }] },
    { type: 28, objects: [{ time: T }] },
    { type: 61, objects: [ref] },
    { type: 62, objects: [{ ...ref, componentAddress: 77 }] },
    { type: 64, objects: [{ ...ref, count: 10, since: T }] },
    { type: 81, objects: [] },
    { type: 84, objects: [{ count: 5, since: T }] },
    { type: 89, objects: [] },
    { type: 90, time: T },
    { type: 91, answerMinutes: 10 },
    { type: 200, count: 1, raw: Uint8Array.from([1, 2, 3]) },
  ];
  for (const dialect of [STANDARD_DIALECT, dialectOf({ time: 'bcd', checksum: 'xor', reply: 'plus-0x80' })]) {
    it(`every type through a frame and back (time ${dialect.time}, checksum ${dialect.checksum})`, () => {
      const d = new FrameDecoder({ dialect });
      for (const unit of units) {
        const bytes = encodeFrame(frameOf(encodeDataUnit(unit, dialect)), dialect);
        const f = only(d.push(bytes));
        const r = decodeDataUnit(f.data, dialect);
        expect(r.ok, JSON.stringify(r)).toBe(true);
        if (r.ok) expect(r.unit).toEqual(unit);
        expect(f.time).toEqual(T);
      }
    });
  }

  it('fits 22 component states in one frame (§8.3.1.2) and refuses more than 1024 bytes', () => {
    expect(maxObjectsPerFrame(2)).toBe(22);
    expect(maxObjectsPerFrame(3)).toBe(63);
    const objects = Array.from({ length: 23 }, () => ({ ...comp, status: 1, description: '', time: T }));
    expect(() => encodeDataUnit({ type: 2, objects }, STANDARD_DIALECT)).toThrow(RangeError);
  });

  it('refuses a unit whose length does not match its type and count', () => {
    expect(decodeDataUnit(hex('02 02 01'), STANDARD_DIALECT)).toMatchObject({ ok: false });
    expect(decodeDataUnit(hex('15 01 01 02 03'), STANDARD_DIALECT)).toMatchObject({ ok: false });
    expect(decodeDataUnit(hex('06 01 01 01 05 41'), STANDARD_DIALECT)).toMatchObject({ ok: false });
    expect(decodeDataUnit(hex('02'), STANDARD_DIALECT)).toMatchObject({ ok: false });
  });
});

describe('dialects', () => {
  it('BCD time labels: 0x59 is 59', () => {
    const dialect = dialectOf({ time: 'bcd' });
    const bytes = encodeFrame(frameOf(new Uint8Array(0), { time: { ...T, second: 59 } }), dialect);
    expect(bytes.subarray(6, 12)).toEqual(hex('59 05 14 20 11 26'));
    expect(only(new FrameDecoder({ dialect }).push(bytes)).time.second).toBe(59);
  });

  it('an XOR checksum is refused by a decoder expecting the sum, and read by one expecting XOR', () => {
    const dialect = dialectOf({ checksum: 'xor' });
    const bytes = encodeFrame(frameOf(hex('15 01 01 09 05 0e 14 0b 1a')), dialect);
    expect(new FrameDecoder().push(bytes)[0]).toMatchObject({
      type: 'error',
      reason: 'checksum',
      serial: 258,
      source: 12346,
    });
    expect(only(new FrameDecoder({ dialect }).push(bytes)).serial).toBe(258);
  });

  it('answers: standard confirm 3 / response 5, or the command + 0x80', () => {
    expect(replyCommand(Command.send, STANDARD_DIALECT)).toBe(3);
    expect(replyCommand(Command.request, STANDARD_DIALECT)).toBe(5);
    const vendor = dialectOf({ reply: 'plus-0x80' });
    expect(replyCommand(Command.send, vendor)).toBe(0x82);
    expect(commandRole(0x82, vendor)).toBe('confirm');
    expect(commandRole(0x84, vendor)).toBe('response');
    expect(commandRole(0x82, STANDARD_DIALECT)).toBe('other');
    expect(commandRole(6, vendor)).toBe('deny');
  });
});

describe('status bits and text', () => {
  it('reads every bit of a system status word (§8.2.1.1)', () => {
    const all = systemStatusFlags(0x3fff);
    expect(Object.values(all).every((v, i) => (i === 0 ? v === false : v === true))).toBe(true);
    expect(systemStatusFlags(0)).toMatchObject({ test: true, fire: false });
    expect(systemStatusWord(systemStatusFlags(0x2b5a))).toBe(0x2b5a);
  });

  it('GB 18030: Chinese, ASCII and full-width text survive; a character is never split at the field end', () => {
    for (const s of ['3F东走廊', '厨房（一楼）感温探测器', 'Panel A-1', '']) {
      expect(decodeGb18030(encodeGb18030(s, 31))).toBe(s);
    }
    // 16 Chinese characters need 32 bytes: the 16th does not fit in 31 and is left out whole.
    expect(decodeGb18030(encodeGb18030('一二三四五六七八九十一二三四五六', 31))).toBe('一二三四五六七八九十一二三四五');
    expect(encodeGb18030('😀', 31)).toEqual(Uint8Array.from([0x3f]));
  });

  it('GB 18030: the table-driven decoder reads every field exactly as the native TextDecoder does', () => {
    const native = new TextDecoder('gb18030');
    const reference = (b: Uint8Array) => {
      let end = b.indexOf(0);
      if (end < 0) end = b.length;
      while (end > 0 && b[end - 1] === 0x20) end--;
      return native.decode(b.subarray(0, end)).trimEnd();
    };
    // Every two-byte pair, with the invalid trails 0x7f and 0xff, alone and after ASCII.
    for (let lead = 0x81; lead <= 0xfe; lead++) {
      for (let trail = 0x20; trail <= 0xff; trail++) {
        for (const b of [Uint8Array.from([lead, trail]), Uint8Array.from([0x41, lead, trail, 0x42])]) {
          if (decodeGb18030(b) !== reference(b)) throw new Error(`${b.join(' ')}: ${decodeGb18030(b)}`);
        }
      }
    }
    // Four-byte sequences, a lone 0x80 (€), a lead cut off by the field end, trailing white space.
    for (const s of ['81 30 81 30 41', '80 41', '41 b0', 'b0 20 20', 'a1 a1 a1 a1', '41 09 0a', 'd6 f7 00 d6 f7']) {
      expect(decodeGb18030(hex(s))).toBe(reference(hex(s)));
    }
    // Random fields: mostly GBK pairs and ASCII, sometimes anything.
    let seed = 7;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    for (let n = 0; n < 10_000; n++) {
      const b = new Uint8Array(31);
      for (let i = 0; i < b.length; i++) {
        const r = rand();
        b[i] =
          r < 0.3
            ? 0x20 + Math.floor(rand() * 0x5f)
            : r < 0.95
              ? 0xb0 + Math.floor(rand() * 0x48)
              : Math.floor(rand() * 256);
      }
      if (decodeGb18030(b) !== reference(b)) throw new Error(`${Buffer.from(b).toString('hex')}: ${decodeGb18030(b)}`);
      // A field inside a larger buffer reads the same as the field on its own.
      const inside = new Uint8Array(40);
      inside.set(b, 5);
      if (decodeGb18030(inside, 5, 36) !== decodeGb18030(b))
        throw new Error(`${Buffer.from(b).toString('hex')} inside`);
    }
  });

  it('time labels in China time (UTC+8) and back; an impossible date is undefined', () => {
    const ms = Date.UTC(2026, 10, 20, 6, 5, 9);
    expect(timeLabelFromEpochMs(ms, 480)).toEqual(T);
    expect(timeLabelToEpochMs(T, 480)).toBe(ms);
    expect(timeLabelToEpochMs({ ...T, month: 2, day: 31 }, 480)).toBeUndefined();
    expect(timeLabelToEpochMs({ ...T, hour: 24 }, 480)).toBeUndefined();
  });
});

describe('the streaming decoder', () => {
  const a = encodeFrame(frameOf(hex('15 01 01 09 05 0e 14 0b 1a'), { serial: 1 }), STANDARD_DIALECT);
  const b = encodeFrame(frameOf(new Uint8Array(0), { serial: 2 }), STANDARD_DIALECT);

  it('reads frames split anywhere and several to a chunk (粘包)', () => {
    const stream = Buffer.concat([a, b, a]);
    for (let cut = 1; cut < stream.length; cut++) {
      const d = new FrameDecoder();
      const events = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(events.map((e) => (e.type === 'frame' ? e.frame.serial : e.type))).toEqual([1, 2, 1]);
      expect(d.buffered).toBe(0);
    }
    const d = new FrameDecoder();
    const byByte = [...stream].flatMap((x) => d.push(Uint8Array.of(x)));
    expect(byByte.map((e) => (e.type === 'frame' ? e.frame.serial : e.type))).toEqual([1, 2, 1]);
  });

  it('skips garbage, and resynchronises on the next @@ after a bad length or end marker', () => {
    const d = new FrameDecoder();
    const junk = Buffer.from('noise @ ## @', 'latin1');
    expect(d.push(Buffer.concat([junk, a])).map((e) => e.type)).toEqual(['garbage', 'frame']);
    // A header claiming 2000 bytes of data: refused at once, not waited for.
    const long = Buffer.from(a);
    long.writeUInt16LE(2000, 24);
    expect(d.push(Buffer.concat([long, b])).map((e) => (e.type === 'error' ? e.reason : e.type))).toEqual([
      'length',
      'garbage',
      'frame',
    ]);
    // A wrong end marker.
    const noEnd = Buffer.from(a);
    noEnd[noEnd.length - 1] = 0x24;
    expect(d.push(Buffer.concat([noEnd, b])).map((e) => (e.type === 'error' ? e.reason : e.type))).toEqual([
      'end-marker',
      'garbage',
      'frame',
    ]);
  });

  it('reports a checksum error with the serial and source, so the frame can be denied, and reads on', () => {
    const bad = Buffer.from(a);
    bad[30] = (bad[30] ?? 0) ^ 0x01;
    const events = new FrameDecoder().push(Buffer.concat([bad, b]));
    expect(events[0]).toMatchObject({ type: 'error', reason: 'checksum', serial: 1, source: 12346 });
    expect(events[1]).toMatchObject({ type: 'frame', frame: { serial: 2 } });
  });

  it('a stray @@ does not hold back a complete frame behind it', () => {
    const d = new FrameDecoder();
    // "@@" then 25 bytes that read as a header of 900 bytes of data: an incomplete candidate.
    const stray = Buffer.alloc(27, 0x11);
    stray[0] = 0x40;
    stray[1] = 0x40;
    stray.writeUInt16LE(900, 24);
    const events = d.push(Buffer.concat([stray, a]));
    expect(events.map((e) => e.type)).toEqual(['garbage', 'frame']);
  });

  it('never holds more than one frame, whatever it is fed', () => {
    const d = new FrameDecoder();
    d.push(Buffer.alloc(100_000, 0x40));
    expect(d.buffered).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(d.reset()).toBeLessThanOrEqual(MAX_FRAME_BYTES);
    expect(only(d.push(a)).serial).toBe(1);
  });
});
