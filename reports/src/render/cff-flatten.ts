import type * as fontkit from 'fontkit';

// Why: pdfkit embeds a subset of the CJK face per PDF, and fontkit's CFF subsetter keeps every
// local subroutine index at its full length (unused ones become a one-byte `return`) so that the
// glyphs' subroutine numbers stay valid. Noto Sans CJK SC has 45,206 local subroutines over 18
// font dicts: each PDF re-encoded them all — ~0.3 s and ~100 KB per face, two faces per report,
// however few glyphs were used. Here each used glyph's charstring is flattened instead (its
// subroutine calls inlined: Adobe TN 5177, "Type 2 Charstring Format", §4.7 callsubr/callgsubr,
// §4.3 hintmask), so the subset carries no subroutines at all, and the flattened charstrings are
// kept per face for the life of the process — the next report only flattens glyphs not seen yet.

/** The parts of fontkit's CFF table this reads (fontkit does not type them). */
interface CffIndexEntry {
  offset: number;
  length: number;
}
interface CffTable {
  version: number;
  isCIDFont: boolean;
  stream: { pos: number; buffer: Uint8Array };
  globalSubrIndex?: CffIndexEntry[];
  topDict: { CharStrings: CffIndexEntry[] };
  privateDictForGlyph(gid: number): { Subrs?: CffIndexEntry[] } | null;
}
/** fontkit's CFFSubset, whose steps the flattening replaces. */
interface CffSubset {
  glyphs: number[];
  charstrings: Uint8Array[];
  gsubrs: Uint8Array[];
  subsetCharstrings(): void;
  subsetSubrs(subrs: unknown, used: unknown): Uint8Array[];
}

/** Subroutine index bias (TN 5177 §4.7): by the number of subroutines. */
function bias(n: number): number {
  if (n < 1240) return 107;
  if (n < 33900) return 1131;
  return 32768;
}

class Unsupported extends Error {}

/**
 * Glyph `gid`'s charstring with every subroutine call inlined and every `return` dropped. Hints
 * are kept as they are; the operand bytes are copied, not re-encoded, so the outline is the
 * original's to the bit. Throws `Unsupported` on what Noto's charstrings do not use (the
 * deprecated arithmetic and storage operators, CFF2): the caller then leaves fontkit's subset as it is.
 */
export function flattenCharstring(cff: CffTable, gid: number): Uint8Array {
  if (cff.version >= 2) throw new Unsupported('CFF2');
  const bytes = cff.stream.buffer;
  const entry = cff.topDict.CharStrings[gid];
  if (!entry) throw new Unsupported(`no charstring for glyph ${gid}`);
  const gsubrs = cff.globalSubrIndex ?? [];
  const subrs = cff.privateDictForGlyph(gid)?.Subrs ?? [];
  const out: number[] = [];
  // Operands on the stack: their value (for subroutine numbers and stem counts) and where their bytes start in `out`.
  const stack: { value: number; at: number }[] = [];
  let nStems = 0;
  let ended = false;

  const run = (start: number, end: number, depth: number): void => {
    if (depth > 10) throw new Unsupported('subroutines nested deeper than 10 (TN 5177 limit)');
    let pos = start;
    while (pos < end && !ended) {
      const at = out.length;
      const b0 = bytes[pos] as number;
      if (b0 >= 32 || b0 === 28) {
        let value: number;
        let n: number;
        if (b0 === 28) {
          value = (((bytes[pos + 1] as number) << 24) | ((bytes[pos + 2] as number) << 16)) >> 16;
          n = 3;
        } else if (b0 <= 246) {
          value = b0 - 139;
          n = 1;
        } else if (b0 <= 250) {
          value = (b0 - 247) * 256 + (bytes[pos + 1] as number) + 108;
          n = 2;
        } else if (b0 <= 254) {
          value = -(b0 - 251) * 256 - (bytes[pos + 1] as number) - 108;
          n = 2;
        } else {
          // 16.16 fixed: only its integer part could be a subroutine number or matter for stems.
          value = (((bytes[pos + 1] as number) << 24) | ((bytes[pos + 2] as number) << 16)) >> 16;
          n = 5;
        }
        for (let i = 0; i < n; i++) out.push(bytes[pos + i] as number);
        stack.push({ value, at });
        pos += n;
        continue;
      }
      pos++;
      switch (b0) {
        case 10: // callsubr
        case 29: {
          // callgsubr
          const arg = stack.pop();
          if (!arg) throw new Unsupported('call without a subroutine number');
          out.length = arg.at; // the number is the call's, not the subroutine's
          const index = b0 === 10 ? subrs : gsubrs;
          const subr = index[arg.value + bias(index.length)];
          if (!subr) throw new Unsupported(`subroutine ${arg.value} missing`);
          run(subr.offset, subr.offset + subr.length, depth + 1);
          break;
        }
        case 11: // return
          return;
        case 14: // endchar (may sit in a subroutine: it ends the glyph)
          out.push(b0);
          ended = true;
          return;
        case 1: // hstem
        case 3: // vstem
        case 18: // hstemhm
        case 23: // vstemhm
          nStems += stack.length >> 1;
          stack.length = 0;
          out.push(b0);
          break;
        case 19: // hintmask
        case 20: {
          // cntrmask: operands before it are an implicit vstemhm; then one mask bit per stem
          nStems += stack.length >> 1;
          stack.length = 0;
          const maskBytes = (nStems + 7) >> 3;
          out.push(b0);
          for (let i = 0; i < maskBytes; i++) out.push(bytes[pos + i] as number);
          pos += maskBytes;
          break;
        }
        case 12: {
          const b1 = bytes[pos] as number;
          pos++;
          // Only the flex operators (34–37) are drawing operators; the others compute on the stack.
          if (b1 < 34 || b1 > 37) throw new Unsupported(`escape operator 12 ${b1}`);
          out.push(b0, b1);
          stack.length = 0;
          break;
        }
        default:
          if (b0 === 15 || b0 === 16) throw new Unsupported(`CFF2 operator ${b0}`);
          out.push(b0);
          stack.length = 0;
      }
    }
  };
  run(entry.offset, entry.offset + entry.length, 0);
  if (!ended) throw new Unsupported(`glyph ${gid} has no endchar`);
  return Uint8Array.from(out);
}

/**
 * Makes `font.createSubset()` produce subsets without subroutines, from flattened charstrings
 * cached per glyph. A face whose charstrings cannot be flattened keeps fontkit's subsetting.
 */
export function subsetWithoutSubroutines(font: fontkit.Font): void {
  const cff = (font as unknown as Record<string, unknown>)['CFF '] as CffTable | undefined;
  if (!cff || cff.version >= 2) return; // TrueType outlines subset per glyph already; CFF2 is not handled
  const flat = new Map<number, Uint8Array>();
  const original = font.createSubset.bind(font);
  Object.defineProperty(font, 'createSubset', {
    value: () => {
      const subset = original() as unknown as CffSubset;
      const fallbackCharstrings = subset.subsetCharstrings.bind(subset);
      const fallbackSubrs = subset.subsetSubrs.bind(subset);
      let flattened = false;
      subset.subsetCharstrings = () => {
        try {
          subset.charstrings = subset.glyphs.map((gid) => {
            let cs = flat.get(gid);
            if (!cs) {
              cs = flattenCharstring(cff, gid);
              flat.set(gid, cs);
            }
            return cs;
          });
          subset.gsubrs = [];
          flattened = true;
        } catch (err) {
          if (!(err instanceof Unsupported)) throw err;
          fallbackCharstrings();
        }
      };
      // The font dicts' local subroutines: none are called any more.
      subset.subsetSubrs = (subrs, used) => (flattened ? [] : fallbackSubrs(subrs, used));
      return subset;
    },
  });
}
