import { fstatSync, openSync, readSync } from 'node:fs';
import type * as fontkit from 'fontkit';

// Why: Noto Sans CJK's collection is 19.5 MB, of which 14 MB are glyph outlines (the data of the
// CFF CharStrings INDEX, 65,535 glyphs), and a report draws a few hundred glyphs. Reading the file
// whole kept ~40 MB resident for the two faces for the life of the process. Here the file is read
// into a zero-filled buffer of its size except for the outlines' data, whose pages are then never
// written and so never resident; a glyph's outline is read from the file when its CharStrings entry
// is first looked up — by fontkit (glyph paths, its own subsetting) or by cff-flatten.ts alike.
// Offsets stay the file's own, so fontkit parses the buffer as it would the whole file.
// CFF layout: Adobe TN 5176, "The Compact Font Format Specification" (§5 INDEX, §4 DICT, §9 Top DICT
// CharStrings, op 17); collections and table directories: ISO/IEC 14496-22 (OpenType) §5.

/** A font file's bytes at their own offsets, the glyph outlines' data zero until loaded. */
export interface FontFileBytes {
  bytes: Buffer;
  /** `[start, end)` of each CFF table's CharStrings data, not read yet. */
  outlines: { start: number; end: number }[];
  /** Reads `length` bytes at `offset` from the file into `bytes`, at the same offset. */
  readAt(offset: number, length: number): void;
}

class Unreadable extends Error {}

/**
 * Reads a font file (OpenType, or a collection) without its CFF glyph outlines. The file stays
 * open for the life of the process: an upgrade that renames a new file over it cannot mix two
 * versions' bytes. A file whose CFF tables cannot be located is read whole.
 */
export function readFontWithoutOutlines(path: string): FontFileBytes {
  const fd = openSync(path, 'r');
  const bytes = Buffer.alloc(fstatSync(fd).size);
  const readAt = (offset: number, length: number) => {
    if (offset < 0 || length < 0 || offset + length > bytes.length) throw new Unreadable('outside the file');
    let done = 0;
    while (done < length) {
      const n = readSync(fd, bytes, offset + done, length - done, offset + done);
      if (n === 0) throw new Unreadable('the file ended early');
      done += n;
    }
  };
  let outlines: { start: number; end: number }[];
  try {
    outlines = cffTables(bytes, readAt).map((at) => charStringsData(bytes, readAt, at));
  } catch (err) {
    if (!(err instanceof Unreadable) && !(err instanceof RangeError)) throw err;
    outlines = [];
  }
  // Everything else: the directories, the other tables, and the CFF tables' other parts.
  let pos = 0;
  for (const o of [...outlines].sort((a, b) => a.start - b.start)) {
    if (o.start > pos) readAt(pos, o.start - pos);
    pos = Math.max(pos, o.end);
  }
  readAt(pos, bytes.length - pos);
  return { bytes, outlines, readAt };
}

/** The offsets of the `CFF ` tables of a font file's faces (one, or each face of a collection). */
function cffTables(bytes: Buffer, readAt: (offset: number, length: number) => void): number[] {
  readAt(0, 12);
  const tag = bytes.toString('latin1', 0, 4);
  let faces = [0];
  if (tag === 'ttcf') {
    const n = bytes.readUInt32BE(8);
    readAt(12, 4 * n);
    faces = Array.from({ length: n }, (_, i) => bytes.readUInt32BE(12 + 4 * i));
  }
  const found = new Set<number>();
  for (const dir of faces) {
    readAt(dir, 12);
    const tables = bytes.readUInt16BE(dir + 4);
    readAt(dir + 12, 16 * tables);
    for (let i = 0; i < tables; i++) {
      const rec = dir + 12 + 16 * i;
      if (bytes.toString('latin1', rec, rec + 4) === 'CFF ') found.add(bytes.readUInt32BE(rec + 8));
    }
  }
  return [...found];
}

/** An INDEX at `at`: where its offsets' base is, its offsets, and where it ends (TN 5176 §5). */
function index(bytes: Buffer, readAt: (offset: number, length: number) => void, at: number) {
  readAt(at, 3);
  const count = bytes.readUInt16BE(at);
  if (count === 0) return { base: at + 1, offsets: [] as number[], end: at + 2 };
  const offSize = bytes.readUInt8(at + 2);
  if (offSize < 1 || offSize > 4) throw new Unreadable(`INDEX offSize ${offSize}`);
  readAt(at + 3, (count + 1) * offSize);
  const offsets = Array.from({ length: count + 1 }, (_, i) => bytes.readUIntBE(at + 3 + i * offSize, offSize));
  const base = at + 3 + (count + 1) * offSize - 1;
  return { base, offsets, end: base + (offsets[count] as number) };
}

/** The CharStrings data of the CFF table at `cff`: the Top DICT's CharStrings (op 17) INDEX's data. */
function charStringsData(bytes: Buffer, readAt: (offset: number, length: number) => void, cff: number) {
  readAt(cff, 4);
  if (bytes.readUInt8(cff) !== 1) throw new Unreadable('not CFF 1'); // CFF2 keeps its outlines in the file read whole
  const names = index(bytes, readAt, cff + bytes.readUInt8(cff + 2));
  const topDicts = index(bytes, readAt, names.end);
  const [from, to] = topDicts.offsets;
  if (from === undefined || to === undefined) throw new Unreadable('no Top DICT');
  readAt(topDicts.base + from, to - from);
  const charStrings = dictOperand(bytes, topDicts.base + from, topDicts.base + to, 17);
  const cs = index(bytes, readAt, cff + charStrings);
  return { start: cs.base + (cs.offsets[0] ?? 1), end: cs.end };
}

/** The (integer) operand of operator `op` in the DICT at `[start, end)` (TN 5176 §4, Table 3). */
function dictOperand(bytes: Buffer, start: number, end: number, op: number): number {
  let pos = start;
  let last: number | undefined;
  while (pos < end) {
    const b0 = bytes[pos] as number;
    if (b0 >= 32 && b0 <= 246) {
      last = b0 - 139;
      pos += 1;
    } else if (b0 >= 247 && b0 <= 250) {
      last = (b0 - 247) * 256 + (bytes[pos + 1] as number) + 108;
      pos += 2;
    } else if (b0 >= 251 && b0 <= 254) {
      last = -(b0 - 251) * 256 - (bytes[pos + 1] as number) - 108;
      pos += 2;
    } else if (b0 === 28) {
      last = bytes.readInt16BE(pos + 1);
      pos += 3;
    } else if (b0 === 29) {
      last = bytes.readInt32BE(pos + 1);
      pos += 5;
    } else if (b0 === 30) {
      // A real number: nibbles up to the 0xf end nibble.
      last = undefined;
      pos += 1;
      while (pos < end && ((bytes[pos] as number) & 0x0f) !== 0x0f && (bytes[pos] as number) >> 4 !== 0x0f) pos++;
      pos++;
    } else {
      const operator = b0 === 12 ? 1200 + (bytes[pos + 1] as number) : b0;
      if (operator === op) {
        if (last === undefined) throw new Unreadable(`operator ${op} without an integer operand`);
        return last;
      }
      last = undefined;
      pos += b0 === 12 ? 2 : 1;
    }
  }
  throw new Unreadable(`no operator ${op} in the Top DICT`);
}

/** An INDEX entry as fontkit decodes it: where an object's data is in the file, and its length. */
interface IndexEntry {
  offset: number;
  length: number;
}

/** The parts of fontkit's CFF table this reads and replaces (fontkit does not type them). */
interface CffIndexes {
  topDict: {
    CharStrings: IndexEntry[];
    Private?: { Subrs?: IndexEntry[] } | null;
    FDArray?: { Private?: { Subrs?: IndexEntry[] } | null }[];
  };
}

/**
 * An INDEX's entries as fontkit reads them (`index.length`, `index[i].offset`, `.length`), held
 * in two typed arrays instead of an object per entry: fontkit decodes each face's 65,535
 * CharStrings and 45,206 local subroutines into ~110,000 objects, ~6 MB of heap per face for the
 * life of the process — and V8 lets the heap grow to a multiple of what is live before it
 * collects. An entry object is made per lookup; `onLookup` runs first.
 */
function compactIndex(entries: readonly IndexEntry[], onLookup?: (i: number, entry: IndexEntry) => void): IndexEntry[] {
  const n = entries.length;
  const offsets = new Float64Array(n);
  const lengths = new Uint32Array(n);
  entries.forEach((e, i) => {
    offsets[i] = e.offset;
    lengths[i] = e.length;
  });
  const at = (prop: string | symbol): number | undefined => {
    if (typeof prop !== 'string') return undefined;
    const i = Number(prop);
    return Number.isInteger(i) && i >= 0 && i < n && String(i) === prop ? i : undefined;
  };
  // An empty array as the target: Array.isArray holds, and Array.prototype's methods read through
  // `get` (an array's `length` is writable, so reporting another value keeps the Proxy invariants).
  return new Proxy([] as IndexEntry[], {
    get(target, prop, receiver) {
      if (prop === 'length') return n;
      const i = at(prop);
      if (i === undefined) return Reflect.get(target, prop, receiver);
      const entry = { offset: offsets[i] as number, length: lengths[i] as number };
      onLookup?.(i, entry);
      return entry;
    },
    has(target, prop) {
      return at(prop) !== undefined || Reflect.has(target, prop);
    },
  });
}

/**
 * Keeps a CFF face lean for the life of the process: its INDEXes compact (`compactIndex`), and
 * each glyph's outline read from the file the first time its CharStrings entry is looked up.
 * Checks that fontkit's CharStrings INDEX covers exactly the range left out; if not, reads the
 * left-out ranges whole (correct, only without that saving).
 */
export function keepCffLean(font: fontkit.Font, file: FontFileBytes): void {
  const cff = (font as unknown as Record<string, unknown>)['CFF '] as CffIndexes | undefined;
  const entries = cff?.topDict.CharStrings;
  const first = entries?.[0];
  const last = entries?.[entries.length - 1];
  const range =
    first && last
      ? file.outlines.find((o) => o.start === first.offset && o.end === last.offset + last.length)
      : undefined;
  if (!range) {
    for (const o of file.outlines) file.readAt(o.start, o.end - o.start);
  }
  if (!cff || !entries) return;
  // Other CFF tables of a collection belong to faces this font object does not read.
  const loaded = new Uint8Array(entries.length);
  const loadOutline = (gid: number, e: IndexEntry) => {
    if (loaded[gid] === 1) return;
    file.readAt(e.offset, e.length);
    loaded[gid] = 1;
  };
  cff.topDict.CharStrings = compactIndex(entries, range ? loadOutline : undefined);
  const top = cff.topDict;
  if (top.Private?.Subrs) top.Private.Subrs = compactIndex(top.Private.Subrs);
  for (const fd of top.FDArray ?? []) if (fd.Private?.Subrs) fd.Private.Subrs = compactIndex(fd.Private.Subrs);
}
