import { existsSync, readFileSync } from 'node:fs';
import * as fontkit from 'fontkit';
import { ReportError, ReportErrorCode } from '../errors.js';
import { subsetWithoutSubroutines } from './cff-flatten.js';
import { type FontFileBytes, keepCffLean, readFontWithoutOutlines } from './outlines-on-demand.js';

/** A face inside a font file: a `.ttc` collection needs the face's PostScript name. */
export interface FontFace {
  path: string;
  /** PostScript name of the face in a collection, e.g. `NotoSansCJKsc-Regular`. */
  name?: string;
}

/**
 * Debian's fonts-noto-cjk (Simplified Chinese faces of the OpenType collections). pdfkit embeds a
 * subset of the glyphs used, so a report is tens of kilobytes, not the 19 MB of the collection.
 */
export const NOTO_CJK_REGULAR: FontFace = {
  path: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc',
  name: 'NotoSansCJKsc-Regular',
};
export const NOTO_CJK_BOLD: FontFace = {
  path: '/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc',
  name: 'NotoSansCJKsc-Bold',
};

function open(face: FontFace, flatten: boolean, lean: boolean): fontkit.Font {
  if (!existsSync(face.path)) {
    throw new ReportError(
      ReportErrorCode.FONT,
      `the report font ${face.path} is missing (Debian: apt-get install fonts-noto-cjk, or set ANLIAN_REPORT_FONT)`,
    );
  }
  let font: fontkit.Font | fontkit.FontCollection;
  let file: FontFileBytes | undefined;
  try {
    file = lean ? readFontWithoutOutlines(face.path) : undefined;
    font = fontkit.create(file?.bytes ?? readFileSync(face.path), face.name);
  } catch (err) {
    throw new ReportError(ReportErrorCode.FONT, `cannot read the report font ${face.path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!('glyphsForString' in font)) {
    throw new ReportError(
      ReportErrorCode.FONT,
      `${face.path} is a font collection: name the face (e.g. ${NOTO_CJK_REGULAR.name})`,
    );
  }
  // No OpenType shaping: Chinese, Latin letters and digits need none (no ligatures, no contextual
  // forms), and fontkit's GSUB/GPOS pass over a 65,000-glyph CJK face cost ~1 ms per string —
  // seconds for a county's tables. Glyphs come straight from the cmap with their advance widths.
  const plain = font;
  Object.defineProperty(plain, 'layout', {
    value: (text: string) => {
      const glyphs = plain.glyphsForString(text);
      let advanceWidth = 0;
      const positions = glyphs.map((g) => {
        advanceWidth += g.advanceWidth;
        return { xAdvance: g.advanceWidth, yAdvance: 0, xOffset: 0, yOffset: 0 };
      });
      return { glyphs, positions, advanceWidth };
    },
  });
  if (file) keepCffLean(plain, file);
  if (flatten) subsetWithoutSubroutines(plain);
  return plain;
}

/**
 * The report's CJK faces, read once and shared by every PDF a process writes (reading and
 * parsing the 19 MB collection costs ~0.4 s). Their glyph outlines are read per glyph on first
 * use (outlines-on-demand.ts): the two faces keep ~4 MB resident, not the collections' 40 MB.
 */
export class CjkFonts {
  constructor(
    readonly regular: fontkit.Font,
    readonly bold: fontkit.Font,
  ) {}

  /**
   * `flatten: false` keeps fontkit's own CFF subsetting (every subroutine kept, ~0.3 s per face
   * and PDF): for comparing against it, see cff-flatten.ts. `lean: false` reads the files whole
   * and leaves fontkit's tables as it parsed them, for comparing against outlines-on-demand.ts.
   */
  static load(
    regular: FontFace = NOTO_CJK_REGULAR,
    bold: FontFace | undefined = NOTO_CJK_BOLD,
    opts: { flatten?: boolean; lean?: boolean } = {},
  ): CjkFonts {
    const flatten = opts.flatten ?? true;
    const lean = opts.lean ?? true;
    const r = open(regular, flatten, lean);
    const b = bold && existsSync(bold.path) ? open(bold, flatten, lean) : r;
    return new CjkFonts(r, b);
  }
}
