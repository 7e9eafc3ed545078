import PDFDocument from 'pdfkit';
import { describe, expect, it } from 'vitest';
import { CjkFonts } from '../src/render/cjk-font.js';
import { batchContent, textInBox } from '../src/render/pdfkit-lean.js';

type Doc = PDFKit.PDFDocument;

/** A PDF drawn by `draw` into a fresh document (fixed dates: the same drawing gives the same bytes). */
async function pdf(draw: (doc: Doc) => void | Promise<void>): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    bufferPages: true,
    info: { CreationDate: new Date(Date.UTC(2026, 10, 1)) },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });
  await draw(doc);
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

const CELLS = ['98.52%', '甲镇敬老院', '  1,234 ', '烟感探测器 3 号（二楼走廊）', 'p90 12.5 s', '', '—'];

describe('pdfkit as the report uses it: the same bytes as pdfkit’s own calls', () => {
  it('textInBox draws a fitting line as text() with a width and an alignment does', async () => {
    const faces = await CjkFonts.load().faces();
    const draw = (own: boolean) => (doc: Doc) => {
      doc.registerFont('cjk', faces.regular as unknown as string);
      for (const font of ['cjk', 'Helvetica']) {
        doc.font(font).fontSize(8);
        CELLS.forEach((text, i) => {
          const t = font === 'Helvetica' ? text.replace(/[^\x20-\x7e]/g, 'x') : text;
          for (const align of ['left', 'right'] as const) {
            const x = 46 + (align === 'right' ? 250 : 0);
            const y = 60 + i * 15 + (font === 'cjk' ? 0 : 200);
            if (own) textInBox(doc, t, x, y, 180.25, align);
            else doc.text(t, x, y, { width: 180.25, lineBreak: false, align });
          }
        });
      }
    };
    expect((await pdf(draw(true))).equals(await pdf(draw(false)))).toBe(true);
  });

  it('batchContent hands pdfkit the same content streams, over pages, flushes and pages revisited', async () => {
    const draw = (batched: boolean) => (doc: Doc) => {
      if (batched) batchContent(doc);
      for (let page = 0; page < 3; page++) {
        if (page > 0) doc.addPage();
        // Well over 64 KB of operators on a page: several flushes within it.
        for (let i = 0; i < 3000; i++) {
          doc
            .moveTo(40 + (i % 50), 40 + (i % 70))
            .lineTo(500, 700 - (i % 90))
            .lineWidth(0.3)
            .strokeColor(i % 2 ? '#c9d3de' : '#5b6b7b')
            .stroke();
          if (i % 100 === 0) doc.fontSize(8).text(`line ${page}.${i}`, 60, 60 + (i % 700), { lineBreak: false });
        }
      }
      // Back to each page once all exist, as the report's header and footer are written.
      const range = doc.bufferedPageRange();
      for (let i = range.start; i < range.start + range.count; i++) {
        doc.switchToPage(i);
        doc.fontSize(8).text(`page ${i + 1} of ${range.count}`, 46, 30, { lineBreak: false });
      }
    };
    const batched = await pdf(draw(true));
    expect(batched.equals(await pdf(draw(false)))).toBe(true);
    expect(batched.length).toBeGreaterThan(20_000);
  });
});
