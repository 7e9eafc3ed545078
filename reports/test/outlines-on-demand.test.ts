import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as fontkit from 'fontkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CjkFonts, NOTO_CJK_REGULAR } from '../src/render/cjk-font.js';
import { keepCffLean, readFontWithoutOutlines } from '../src/render/outlines-on-demand.js';
import { writePdfReport } from '../src/render/pdf-report.js';
import { figuresFixture } from './figures-fixture.js';

const DEJAVU = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

/** Whether `bytes[start, end)` are all zero. */
const zero = (bytes: Buffer, start: number, end: number) =>
  bytes.subarray(start, end).equals(Buffer.alloc(end - start));

describe('CJK faces read without their glyph outlines, each read on first use', () => {
  let dir: string;
  const whole = readFileSync(NOTO_CJK_REGULAR.path);
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'anlian-outlines-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the collection but the CharStrings data of its CFF table, at the file’s own offsets', () => {
    const file = readFontWithoutOutlines(NOTO_CJK_REGULAR.path);
    expect(file.bytes.length).toBe(whole.length);
    expect(file.outlines).toHaveLength(1); // the collection's faces share one CFF table
    const [o] = file.outlines;
    if (!o) throw new Error('no outlines');
    expect(o.end - o.start).toBeGreaterThan(13_000_000); // of 19.5 MB
    expect(zero(file.bytes, o.start, o.end)).toBe(true);
    expect(file.bytes.subarray(0, o.start).equals(whole.subarray(0, o.start))).toBe(true);
    expect(file.bytes.subarray(o.end).equals(whole.subarray(o.end))).toBe(true);
  });

  it('reads a glyph’s outline when it is looked up, and only then', () => {
    type Cff = { topDict: { CharStrings: { offset: number; length: number }[] } };
    const cffOf = (f: fontkit.Font) => (f as unknown as Record<string, Cff>)['CFF '];
    const file = readFontWithoutOutlines(NOTO_CJK_REGULAR.path);
    const font = fontkit.create(file.bytes, NOTO_CJK_REGULAR.name) as fontkit.Font;
    keepCffLean(font, file);
    expect(cffOf(font)?.topDict.CharStrings.length).toBe(65_535);
    // Where each outline is, from a face read whole (looking them up in the lean one would read them).
    const reference = fontkit.create(whole, NOTO_CJK_REGULAR.name) as fontkit.Font;
    const entries = cffOf(reference)?.topDict.CharStrings ?? [];
    const isRead = (gid: number) => {
      const e = entries[gid];
      if (!e) throw new Error(`no glyph ${gid}`);
      return !zero(file.bytes, e.offset, e.offset + e.length);
    };
    const text = '敬老院消防';
    const ids = [...new Set(reference.glyphsForString(text).map((g) => g.id))];
    expect(ids.some(isRead)).toBe(false);
    // Glyph objects are made through getGlyph; fontkit's path parser reads the CharStrings entry.
    const glyphs = font.glyphsForString(text);
    expect(glyphs.map((g) => g.path.toSVG())).toEqual(reference.glyphsForString(text).map((g) => g.path.toSVG()));
    for (const id of ids) {
      const e = entries[id];
      if (!e) throw new Error(`no glyph ${id}`);
      expect(
        file.bytes.subarray(e.offset, e.offset + e.length).equals(whole.subarray(e.offset, e.offset + e.length)),
      ).toBe(true);
    }
    // These few (of 65,535), and nothing else.
    const read = entries.map((_, gid) => gid).filter(isRead);
    expect(read.sort((a, b) => a - b)).toEqual(ids.sort((a, b) => a - b));
  });

  it('writes the same PDF as with the faces read whole, byte for byte (flattened subsets and fontkit’s own)', async () => {
    // Names with rare characters draw glyphs no other test draws.
    const f = figuresFixture({
      institutions: [
        { id: 'inst-a', name: '甲镇敬老院' },
        { id: 'inst-b', name: '龘靐齉爩鱻麤龖𪚥（测试）' },
      ],
    });
    for (const flatten of [true, false]) {
      const lean = CjkFonts.load(undefined, undefined, { flatten });
      const read = CjkFonts.load(undefined, undefined, { flatten, lean: false });
      for (const lang of ['zh', 'en'] as const) {
        const a = await writePdfReport(f, lean, lang);
        const b = await writePdfReport(f, read, lang);
        expect(a.equals(b), `flatten ${flatten}, ${lang}`).toBe(true);
      }
    }
  });

  it('reads a file whose CFF table it cannot find whole: TrueType outlines, or no font at all', async () => {
    const junk = join(dir, 'junk.otf');
    await writeFile(junk, Buffer.concat([Buffer.from('ttcf'), Buffer.alloc(4), Buffer.from([0xff, 0xff, 0xff, 0xff])]));
    for (const path of [junk, ...(existsSync(DEJAVU) ? [DEJAVU] : [])]) {
      const file = readFontWithoutOutlines(path);
      expect(file.outlines, path).toEqual([]);
      expect(file.bytes.equals(readFileSync(path)), path).toBe(true);
    }
  });
});
