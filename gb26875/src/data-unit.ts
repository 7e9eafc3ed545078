import type { Dialect } from './dialect.js';
import { decodeGb18030, encodeGb18030 } from './gb18030-text.js';
import { readTimeLabel, TIME_LABEL_BYTES, type TimeLabel, writeTimeLabel } from './time-label.js';

/**
 * Application data units (应用数据单元, GB/T 26875.3-2011 §8.2, §8.3): a type flag, an object
 * count, then the objects, each ending in its time label where the standard gives one.
 */

/** The building fire system an object belongs to: system type (table 4) and address. */
export interface SystemRef {
  systemType: number;
  systemAddress: number;
}

/** A component (部件): its system, its type (table 5) and its 4-byte address. */
export interface ComponentRef extends SystemRef {
  componentType: number;
  /** u32 little-endian; panels read it as loop/zone (low 16 bits) and point (high 16 bits). */
  componentAddress: number;
}

export interface SystemStatus extends SystemRef {
  status: number;
  time: TimeLabel;
}
export interface ComponentStatus extends ComponentRef {
  status: number;
  /** 部件说明: 31 bytes of GB 18030, decoded and trimmed. */
  description: string;
  time: TimeLabel;
}
export interface AnalogValue extends ComponentRef {
  analogType: number;
  /** The signed int16 on the wire; multiply by the type's scale (table 6) for the unit. */
  raw: number;
  time: TimeLabel;
}
export interface SystemOperation extends SystemRef {
  operation: number;
  operator: number;
  time: TimeLabel;
}
export interface SystemVersion extends SystemRef {
  main: number;
  user: number;
}
export interface SystemConfig extends SystemRef {
  description: string;
}
export interface ComponentConfig extends ComponentRef {
  description: string;
}
export interface SystemTime extends SystemRef {
  time: TimeLabel;
}
export interface UitdStatus {
  status: number;
  time: TimeLabel;
}
export interface UitdOperation {
  operation: number;
  operator: number;
  time: TimeLabel;
}
export interface UitdVersion {
  main: number;
  user: number;
}
export interface UitdConfig {
  description: string;
}
export interface UitdTime {
  time: TimeLabel;
}
export interface ComponentQuery extends SystemRef {
  componentAddress: number;
}
export interface OperationQuery {
  count: number;
  since: TimeLabel;
}

/** A data unit of a type this codec knows (table 3). */
export type KnownDataUnit =
  | { type: 1; objects: SystemStatus[] }
  | { type: 2; objects: ComponentStatus[] }
  | { type: 3; objects: AnalogValue[] }
  | { type: 4; objects: SystemOperation[] }
  | { type: 5; objects: SystemVersion[] }
  | { type: 6; objects: SystemConfig[] }
  | { type: 7; objects: ComponentConfig[] }
  | { type: 8; objects: SystemTime[] }
  | { type: 21; objects: UitdStatus[] }
  | { type: 24; objects: UitdOperation[] }
  | { type: 25; objects: UitdVersion[] }
  | { type: 26; objects: UitdConfig[] }
  | { type: 28; objects: UitdTime[] }
  | { type: 61 | 65 | 66 | 68; objects: SystemRef[] }
  | { type: 62 | 63 | 67; objects: ComponentQuery[] }
  | { type: 64; objects: (SystemRef & OperationQuery)[] }
  | { type: 84; objects: OperationQuery[] }
  /** Types whose one object is a reserved byte (§8.3.2.9 ff.): read UITD status, version, configuration, time; initialise. */
  | { type: 81 | 85 | 86 | 88 | 89; objects: [] }
  | { type: 90; time: TimeLabel }
  /** 查岗: the answer window in minutes (the UITD keeps its prompt this long, §8.3.2.16; at most 10). */
  | { type: 91; answerMinutes: number };

/** Reserved and user-defined types (128–254): the bytes after type and count, for the caller to interpret. */
export interface RawDataUnit {
  type: number;
  count: number;
  raw: Uint8Array;
}

export type DataUnit = KnownDataUnit | RawDataUnit;

export type DataUnitResult = { ok: true; unit: DataUnit } | { ok: false; reason: string };

/** Bytes of one object of each fixed-size type, its time label included. */
export const OBJECT_BYTES: Readonly<Record<number, number>> = {
  1: 4 + TIME_LABEL_BYTES,
  2: 40 + TIME_LABEL_BYTES,
  3: 10 + TIME_LABEL_BYTES,
  4: 4 + TIME_LABEL_BYTES,
  5: 4,
  7: 38,
  8: 2 + TIME_LABEL_BYTES,
  21: 1 + TIME_LABEL_BYTES,
  24: 2 + TIME_LABEL_BYTES,
  25: 2,
  28: TIME_LABEL_BYTES,
  61: 2,
  62: 6,
  63: 6,
  64: 3 + TIME_LABEL_BYTES,
  65: 2,
  66: 2,
  67: 6,
  68: 2,
  81: 1,
  84: 1 + TIME_LABEL_BYTES,
  85: 1,
  86: 1,
  88: 1,
  89: 1,
  90: TIME_LABEL_BYTES,
  91: 1,
};

export const DESCRIPTION_BYTES = 31;

const u16 = (b: Uint8Array, at: number) => (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8);
const i16 = (b: Uint8Array, at: number) => (u16(b, at) << 16) >> 16;
const u32 = (b: Uint8Array, at: number) =>
  ((b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16) | ((b[at + 3] ?? 0) << 24)) >>> 0;

/** Where the first object starts: after the type flag and the object count. */
const OBJECTS_AT = 2;

/** The `count` objects of `size` bytes from {@link OBJECTS_AT}, each read by `read(data, at, dialect)`. */
function each<T>(
  data: Uint8Array,
  count: number,
  size: number,
  dialect: Pick<Dialect, 'time'>,
  read: (b: Uint8Array, at: number, dialect: Pick<Dialect, 'time'>) => T,
): T[] {
  const out: T[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = read(data, OBJECTS_AT + i * size, dialect);
  return out;
}

// One reader per object layout, written out field by field: the component status is the hot path
// (bench:fire-panel), and a literal of known shape is what V8 allocates fastest.
const readSys = (b: Uint8Array, at: number): SystemRef => ({ systemType: b[at] ?? 0, systemAddress: b[at + 1] ?? 0 });
const readSystemStatus = (b: Uint8Array, at: number, d: Pick<Dialect, 'time'>): SystemStatus => ({
  systemType: b[at] ?? 0,
  systemAddress: b[at + 1] ?? 0,
  status: u16(b, at + 2),
  time: readTimeLabel(b, at + 4, d),
});
const readComponentStatus = (b: Uint8Array, at: number, d: Pick<Dialect, 'time'>): ComponentStatus => ({
  systemType: b[at] ?? 0,
  systemAddress: b[at + 1] ?? 0,
  componentType: b[at + 2] ?? 0,
  componentAddress: u32(b, at + 3),
  status: u16(b, at + 7),
  description: decodeGb18030(b, at + 9, at + 9 + DESCRIPTION_BYTES),
  time: readTimeLabel(b, at + 40, d),
});
const readAnalogValue = (b: Uint8Array, at: number, d: Pick<Dialect, 'time'>): AnalogValue => ({
  systemType: b[at] ?? 0,
  systemAddress: b[at + 1] ?? 0,
  componentType: b[at + 2] ?? 0,
  componentAddress: u32(b, at + 3),
  analogType: b[at + 7] ?? 0,
  raw: i16(b, at + 8),
  time: readTimeLabel(b, at + 10, d),
});
const readSystemOperation = (b: Uint8Array, at: number, d: Pick<Dialect, 'time'>): SystemOperation => ({
  systemType: b[at] ?? 0,
  systemAddress: b[at + 1] ?? 0,
  operation: b[at + 2] ?? 0,
  operator: b[at + 3] ?? 0,
  time: readTimeLabel(b, at + 4, d),
});
const readSystemVersion = (b: Uint8Array, at: number): SystemVersion => ({
  systemType: b[at] ?? 0,
  systemAddress: b[at + 1] ?? 0,
  main: b[at + 2] ?? 0,
  user: b[at + 3] ?? 0,
});
const readComponentConfig = (b: Uint8Array, at: number): ComponentConfig => ({
  systemType: b[at] ?? 0,
  systemAddress: b[at + 1] ?? 0,
  componentType: b[at + 2] ?? 0,
  componentAddress: u32(b, at + 3),
  description: decodeGb18030(b, at + 7, at + 7 + DESCRIPTION_BYTES),
});
const readSystemTime = (b: Uint8Array, at: number, d: Pick<Dialect, 'time'>): SystemTime => ({
  systemType: b[at] ?? 0,
  systemAddress: b[at + 1] ?? 0,
  time: readTimeLabel(b, at + 2, d),
});
const readUitdStatus = (b: Uint8Array, at: number, d: Pick<Dialect, 'time'>): UitdStatus => ({
  status: b[at] ?? 0,
  time: readTimeLabel(b, at + 1, d),
});
const readUitdOperation = (b: Uint8Array, at: number, d: Pick<Dialect, 'time'>): UitdOperation => ({
  operation: b[at] ?? 0,
  operator: b[at + 1] ?? 0,
  time: readTimeLabel(b, at + 2, d),
});
const readUitdVersion = (b: Uint8Array, at: number): UitdVersion => ({ main: b[at] ?? 0, user: b[at + 1] ?? 0 });
const readUitdTime = (b: Uint8Array, at: number, d: Pick<Dialect, 'time'>): UitdTime => ({
  time: readTimeLabel(b, at, d),
});
const readComponentQuery = (b: Uint8Array, at: number): ComponentQuery => ({
  systemType: b[at] ?? 0,
  systemAddress: b[at + 1] ?? 0,
  componentAddress: u32(b, at + 2),
});
const readSystemOperationQuery = (b: Uint8Array, at: number, d: Pick<Dialect, 'time'>): SystemRef & OperationQuery => ({
  systemType: b[at] ?? 0,
  systemAddress: b[at + 1] ?? 0,
  count: b[at + 2] ?? 0,
  since: readTimeLabel(b, at + 3, d),
});
const readOperationQuery = (b: Uint8Array, at: number, d: Pick<Dialect, 'time'>): OperationQuery => ({
  count: b[at] ?? 0,
  since: readTimeLabel(b, at + 1, d),
});

/**
 * Decodes an application data unit. Never throws: a unit whose length does not match its type
 * and count is refused with the reason (the frame should then be denied).
 */
export function decodeDataUnit(data: Uint8Array, dialect: Pick<Dialect, 'time'>): DataUnitResult {
  if (data.length < OBJECTS_AT) return { ok: false, reason: `data unit of ${data.length} bytes: no type and count` };
  const type = data[0] ?? 0;
  const count = data[1] ?? 0;
  const bodyLength = data.length - OBJECTS_AT;
  const size = OBJECT_BYTES[type] ?? 0;
  if (size > 0 && bodyLength !== size * count) {
    return {
      ok: false,
      reason: `type ${type}: ${count} objects of ${size} bytes need ${size * count}, got ${bodyLength}`,
    };
  }
  switch (type) {
    case 1:
      return ok({ type, objects: each(data, count, size, dialect, readSystemStatus) });
    case 2:
      return ok({ type, objects: each(data, count, size, dialect, readComponentStatus) });
    case 3:
      return ok({ type, objects: each(data, count, size, dialect, readAnalogValue) });
    case 4:
      return ok({ type, objects: each(data, count, size, dialect, readSystemOperation) });
    case 5:
      return ok({ type, objects: each(data, count, size, dialect, readSystemVersion) });
    case 6: {
      const objects: SystemConfig[] = [];
      let at = OBJECTS_AT;
      for (let i = 0; i < count; i++) {
        if (at + 3 > data.length) return { ok: false, reason: `type 6: object ${i} is cut short` };
        const len = data[at + 2] ?? 0;
        if (at + 3 + len > data.length) return { ok: false, reason: `type 6: object ${i} is cut short` };
        objects.push({
          systemType: data[at] ?? 0,
          systemAddress: data[at + 1] ?? 0,
          description: decodeGb18030(data, at + 3, at + 3 + len),
        });
        at += 3 + len;
      }
      if (at !== data.length) return { ok: false, reason: `type 6: ${data.length - at} bytes after the last object` };
      return ok({ type, objects });
    }
    case 7:
      return ok({ type, objects: each(data, count, size, dialect, readComponentConfig) });
    case 8:
      return ok({ type, objects: each(data, count, size, dialect, readSystemTime) });
    case 21:
      return ok({ type, objects: each(data, count, size, dialect, readUitdStatus) });
    case 24:
      return ok({ type, objects: each(data, count, size, dialect, readUitdOperation) });
    case 25:
      return ok({ type, objects: each(data, count, size, dialect, readUitdVersion) });
    case 26: {
      if (count !== 1 || bodyLength < 1 || bodyLength !== 1 + (data[OBJECTS_AT] ?? 0)) {
        return { ok: false, reason: 'type 26: one object of a length byte and that many bytes' };
      }
      return ok({ type, objects: [{ description: decodeGb18030(data, OBJECTS_AT + 1) }] });
    }
    case 28:
      return ok({ type, objects: each(data, count, size, dialect, readUitdTime) });
    case 61:
    case 65:
    case 66:
    case 68:
      return ok({ type, objects: each(data, count, size, dialect, readSys) });
    case 62:
    case 63:
    case 67:
      return ok({ type, objects: each(data, count, size, dialect, readComponentQuery) });
    case 64:
      return ok({ type, objects: each(data, count, size, dialect, readSystemOperationQuery) });
    case 84:
      return ok({ type, objects: each(data, count, size, dialect, readOperationQuery) });
    case 81:
    case 85:
    case 86:
    case 88:
    case 89:
      return ok({ type, objects: [] });
    case 90:
      if (count !== 1) return { ok: false, reason: 'type 90 carries one time label' };
      return ok({ type, time: readTimeLabel(data, OBJECTS_AT, dialect) });
    case 91:
      if (count !== 1) return { ok: false, reason: 'type 91 carries one object' };
      return ok({ type, answerMinutes: data[OBJECTS_AT] ?? 0 });
    default:
      // A copy: the caller may keep it after the frame's bytes are reused.
      return ok({ type, count, raw: new Uint8Array(data.subarray(OBJECTS_AT)) });
  }
}

const ok = (unit: DataUnit): DataUnitResult => ({ ok: true, unit });

/** Encodes a data unit (what the simulator and the gateway send). Throws a RangeError past 1024 bytes. */
export function encodeDataUnit(unit: DataUnit, dialect: Pick<Dialect, 'time'>): Buffer {
  const b = new Writer(dialect);
  let count = 0;
  if ('raw' in unit) {
    b.bytes(unit.raw);
    count = unit.count;
  } else
    switch (unit.type) {
      case 1:
        for (const o of unit.objects) b.u8(o.systemType).u8(o.systemAddress).u16(o.status).time(o.time);
        count = unit.objects.length;
        break;
      case 2:
        for (const o of unit.objects) b.comp(o).u16(o.status).text(o.description, DESCRIPTION_BYTES).time(o.time);
        count = unit.objects.length;
        break;
      case 3:
        for (const o of unit.objects) b.comp(o).u8(o.analogType).i16(o.raw).time(o.time);
        count = unit.objects.length;
        break;
      case 4:
        for (const o of unit.objects)
          b.u8(o.systemType).u8(o.systemAddress).u8(o.operation).u8(o.operator).time(o.time);
        count = unit.objects.length;
        break;
      case 5:
        for (const o of unit.objects) b.u8(o.systemType).u8(o.systemAddress).u8(o.main).u8(o.user);
        count = unit.objects.length;
        break;
      case 6:
        for (const o of unit.objects) {
          const text = encodeGb18030(o.description, 255);
          b.u8(o.systemType).u8(o.systemAddress).u8(text.length).bytes(text);
        }
        count = unit.objects.length;
        break;
      case 7:
        for (const o of unit.objects) b.comp(o).text(o.description, DESCRIPTION_BYTES);
        count = unit.objects.length;
        break;
      case 8:
        for (const o of unit.objects) b.u8(o.systemType).u8(o.systemAddress).time(o.time);
        count = unit.objects.length;
        break;
      case 21:
        for (const o of unit.objects) b.u8(o.status).time(o.time);
        count = unit.objects.length;
        break;
      case 24:
        for (const o of unit.objects) b.u8(o.operation).u8(o.operator).time(o.time);
        count = unit.objects.length;
        break;
      case 25:
        for (const o of unit.objects) b.u8(o.main).u8(o.user);
        count = unit.objects.length;
        break;
      case 26: {
        const o = unit.objects[0];
        const text = encodeGb18030(o?.description ?? '', 255);
        b.u8(text.length).bytes(text);
        count = 1;
        break;
      }
      case 28:
        for (const o of unit.objects) b.time(o.time);
        count = unit.objects.length;
        break;
      case 61:
      case 65:
      case 66:
      case 68:
        for (const o of unit.objects) b.u8(o.systemType).u8(o.systemAddress);
        count = unit.objects.length;
        break;
      case 62:
      case 63:
      case 67:
        for (const o of unit.objects) b.u8(o.systemType).u8(o.systemAddress).u32(o.componentAddress);
        count = unit.objects.length;
        break;
      case 64:
        for (const o of unit.objects) b.u8(o.systemType).u8(o.systemAddress).u8(o.count).time(o.since);
        count = unit.objects.length;
        break;
      case 84:
        for (const o of unit.objects) b.u8(o.count).time(o.since);
        count = unit.objects.length;
        break;
      case 81:
      case 85:
      case 86:
      case 88:
      case 89:
        // §8.3.2.9 ff.: one object, a reserved byte 0.
        b.u8(0);
        count = 1;
        break;
      case 90:
        b.time(unit.time);
        count = 1;
        break;
      case 91:
        b.u8(unit.answerMinutes);
        count = 1;
        break;
      default: {
        const never: never = unit;
        throw new RangeError(`unknown data unit ${JSON.stringify(never)}`);
      }
    }
  if (count > 255) throw new RangeError(`type ${unit.type}: ${count} objects, at most 255`);
  const body = b.done();
  const out = Buffer.allocUnsafe(2 + body.length);
  out[0] = unit.type & 0xff;
  out[1] = count;
  out.set(body, 2);
  if (out.length > 1024) throw new RangeError(`data unit of ${out.length} bytes exceeds 1024`);
  return out;
}

/** The most objects of a type that fit one frame's 1024 bytes (type 2: 22, as §8.3.1.2 says). */
export function maxObjectsPerFrame(type: number): number {
  const size = OBJECT_BYTES[type];
  return size ? Math.min(255, Math.floor((1024 - 2) / size)) : 1;
}

class Writer {
  readonly #out: number[] = [];
  readonly #dialect: Pick<Dialect, 'time'>;
  constructor(dialect: Pick<Dialect, 'time'>) {
    this.#dialect = dialect;
  }
  u8(v: number): this {
    this.#out.push(v & 0xff);
    return this;
  }
  u16(v: number): this {
    this.#out.push(v & 0xff, (v >>> 8) & 0xff);
    return this;
  }
  i16(v: number): this {
    return this.u16(Math.max(-32768, Math.min(32767, Math.round(v))) & 0xffff);
  }
  u32(v: number): this {
    this.#out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
    return this;
  }
  comp(c: ComponentRef): this {
    return this.u8(c.systemType).u8(c.systemAddress).u8(c.componentType).u32(c.componentAddress);
  }
  bytes(b: Uint8Array): this {
    for (const x of b) this.#out.push(x);
    return this;
  }
  /** A fixed-width text field: GB 18030, padded with NUL. */
  text(s: string, width: number): this {
    const t = encodeGb18030(s, width);
    this.bytes(t);
    for (let i = t.length; i < width; i++) this.#out.push(0);
    return this;
  }
  time(t: TimeLabel): this {
    const b = new Uint8Array(TIME_LABEL_BYTES);
    writeTimeLabel(b, 0, t, this.#dialect);
    return this.bytes(b);
  }
  done(): Uint8Array {
    return Uint8Array.from(this.#out);
  }
}
