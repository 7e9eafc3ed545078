import { existsSync, readFileSync } from 'node:fs';
import type * as fontkit from 'fontkit';
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

function assertExists(face: FontFace): void {
  if (!existsSync(face.path)) {
    throw new ReportError(
      ReportErrorCode.FONT,
      `the report font ${face.path} is missing (Debian: apt-get install fonts-noto-cjk, or set ANLIAN_REPORT_FONT)`,
    );
  }
}

function open(fk: typeof fontkit, face: FontFace, flatten: boolean, lean: boolean): fontkit.Font {
  assertExists(face);
  let font: fontkit.Font | fontkit.FontCollection;
  let file: FontFileBytes | undefined;
  try {
    file = lean ? readFontWithoutOutlines(face.path) : undefined;
    font = fk.create(file?.bytes ?? readFileSync(face.path), face.name);
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

/** The two faces a report is set in. */
export interface CjkFaces {
  regular: fontkit.Font;
  bold: fontkit.Font;
}

/**
 * The report's CJK faces, read once and shared by every PDF a process writes (reading and
 * parsing the 19 MB collection costs ~0.4 s). They are read on first use, with fontkit (~4 MB of
 * heap, loaded then too), and their glyph outlines per glyph (outlines-on-demand.ts): the two
 * faces keep ~4 MB resident, not the collections' 40 MB.
 */
export class CjkFonts {
  #faces: Promise<CjkFaces> | undefined;

  private constructor(
    private readonly regularFace: FontFace,
    private readonly boldFace: FontFace | undefined,
    private readonly opts: { flatten: boolean; lean: boolean },
  ) {}

  /**
   * The faces to read; throws if the regular face's file is missing (a missing bold face: the
   * regular one stands in). `flatten: false` keeps fontkit's own CFF subsetting (every subroutine
   * kept, ~0.3 s per face and PDF): for comparing against it, see cff-flatten.ts. `lean: false`
   * reads the files whole and leaves fontkit's tables as it parsed them, for comparing against
   * outlines-on-demand.ts.
   */
  static load(
    regular: FontFace = NOTO_CJK_REGULAR,
    bold: FontFace | undefined = NOTO_CJK_BOLD,
    opts: { flatten?: boolean; lean?: boolean } = {},
  ): CjkFonts {
    assertExists(regular);
    return new CjkFonts(regular, bold && existsSync(bold.path) ? bold : undefined, {
      flatten: opts.flatten ?? true,
      lean: opts.lean ?? true,
    });
  }

  /** The faces, read the first time they are asked for (a failed read is tried again next time). */
  faces(): Promise<CjkFaces> {
    this.#faces ??= (async () => {
      const fk = await import('fontkit');
      const { flatten, lean } = this.opts;
      const regular = open(fk, this.regularFace, flatten, lean);
      const bold = this.boldFace ? open(fk, this.boldFace, flatten, lean) : regular;
      return { regular, bold };
    })().catch((err: unknown) => {
      this.#faces = undefined;
      throw err;
    });
    return this.#faces;
  }
}
