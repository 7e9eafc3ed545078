import type { ReportFigures } from '../figures/report-figures.js';
import type { CjkFonts } from './cjk-font.js';
import { batchContent, textInBox } from './pdfkit-lean.js';
import { reportHeading } from './report-heading.js';
import { type Lang, t } from './report-labels.js';
import {
  type BarChart,
  type CellValue,
  formatPercent,
  formatSeconds,
  type ReportColumn,
  type ReportTable,
  reportSections,
} from './report-sections.js';

type Doc = PDFKit.PDFDocument;

const MARGIN = { top: 64, bottom: 54, left: 46, right: 46 };
const ROW_H = 15;
const TEXT = '#1d2733';
const MUTED = '#5b6b7b';
const RULE = '#c9d3de';

function bottom(doc: Doc): number {
  return doc.page.height - doc.page.margins.bottom;
}

function ensureSpace(doc: Doc, height: number): void {
  if (doc.y + height > bottom(doc)) doc.addPage();
}

/** The text cut to fit `width` at the current font and size, with an ellipsis when cut. */
function fit(doc: Doc, text: string, width: number): string {
  if (doc.widthOfString(text) <= width) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (doc.widthOfString(`${text.slice(0, mid)}…`) <= width) lo = mid;
    else hi = mid - 1;
  }
  return `${text.slice(0, lo)}…`;
}

export function cellText(value: CellValue, kind: ReportColumn['kind']): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') return value;
  switch (kind) {
    case 'percent':
      return formatPercent(value);
    case 'seconds':
      return formatSeconds(value);
    case 'int':
      return String(Math.round(value));
    default:
      return String(value);
  }
}

function drawTable(doc: Doc, table: ReportTable, lang: Lang): void {
  const x0 = doc.page.margins.left;
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  const weights = table.columns.map((c) => c.weight ?? (c.kind === 'text' ? 2 : 1.15));
  const sum = weights.reduce((a, b) => a + b, 0);
  const widths = weights.map((w) => (w / sum) * width);
  const shown = table.pdfLimit !== undefined ? table.rows.slice(0, table.pdfLimit) : table.rows;

  const header = () => {
    doc.rect(x0, doc.y, width, ROW_H + 4).fill('#e8eef5');
    doc.font('cjk-bold').fontSize(7.5).fillColor(TEXT);
    let x = x0;
    const y = doc.y;
    table.columns.forEach((c, i) => {
      const w = widths[i] ?? 0;
      textInBox(doc, fit(doc, c.header, w - 6), x + 3, y + 4, w - 6, c.kind === 'text' ? 'left' : 'right');
      x += w;
    });
    doc.y = y + ROW_H + 4;
  };

  ensureSpace(doc, (table.title ? 18 : 0) + (ROW_H + 4) + ROW_H * Math.min(3, Math.max(1, shown.length)));
  if (table.title) {
    doc.font('cjk-bold').fontSize(9.5).fillColor(TEXT).text(table.title, x0, doc.y, { lineBreak: false });
    doc.y += 15;
  }
  header();
  if (shown.length === 0) {
    doc
      .font('cjk')
      .fontSize(8)
      .fillColor(MUTED)
      .text(t(lang, 'none'), x0 + 3, doc.y + 3, { lineBreak: false });
    doc.y += ROW_H;
  }
  doc.font('cjk').fontSize(8);
  shown.forEach((row, r) => {
    if (doc.y + ROW_H > bottom(doc)) {
      doc.addPage();
      header();
      doc.font('cjk').fontSize(8);
    }
    const y = doc.y;
    if (r % 2 === 1) doc.rect(x0, y, width, ROW_H).fill('#f6f8fa');
    doc.fillColor(TEXT);
    let x = x0;
    table.columns.forEach((c, i) => {
      const w = widths[i] ?? 0;
      const text = fit(doc, cellText(row[c.key], c.kind), w - 6);
      textInBox(doc, text, x + 3, y + 3.5, w - 6, c.kind === 'text' ? 'left' : 'right');
      x += w;
    });
    doc
      .moveTo(x0, y + ROW_H)
      .lineTo(x0 + width, y + ROW_H)
      .lineWidth(0.3)
      .strokeColor(RULE)
      .stroke();
    doc.y = y + ROW_H;
  });
  if (shown.length < table.rows.length) {
    doc.font('cjk').fontSize(7.5).fillColor(MUTED);
    doc.text(t(lang, 'moreInExcel', { n: table.rows.length, shown: shown.length }), x0, doc.y + 3, {
      lineBreak: false,
    });
    doc.y += 14;
  }
  doc.y += 10;
}

/** A horizontal bar chart, drawn with pdfkit's vector operations (no image, no chart library). */
function drawChart(doc: Doc, chart: BarChart): void {
  if (chart.bars.length === 0) return;
  const x0 = doc.page.margins.left;
  const width = doc.page.width - doc.page.margins.left - doc.page.margins.right;
  const labelW = 120;
  const valueW = 56;
  const barH = 11;
  const gap = 5;
  const legends = [
    ...new Map(
      chart.bars
        .flatMap((b) => b.segments)
        .filter((s) => s.legend)
        .map((s) => [s.legend, s.color]),
    ),
  ];
  const height = 18 + (legends.length > 0 ? 14 : 0) + chart.bars.length * (barH + gap) + 8;
  ensureSpace(doc, height);
  const top = doc.y;
  doc.font('cjk-bold').fontSize(9).fillColor(TEXT).text(chart.title, x0, top, { lineBreak: false });
  let y = top + 16;
  if (legends.length > 0) {
    let lx = x0 + labelW;
    doc.font('cjk').fontSize(7);
    for (const [legend, color] of legends) {
      doc.rect(lx, y + 1, 8, 7).fill(color);
      doc.fillColor(MUTED).text(legend ?? '', lx + 11, y, { lineBreak: false });
      lx += 14 + doc.widthOfString(legend ?? '') + 8;
    }
    y += 14;
  }
  const plotW = width - labelW - valueW;
  const max =
    chart.unit === 'percent' ? 1 : Math.max(1, ...chart.bars.map((b) => b.segments.reduce((a, s) => a + s.value, 0)));
  // Axis: the plot's left edge, and a light grid at quarters of the scale.
  for (let q = 0; q <= 4; q++) {
    const gx = x0 + labelW + (plotW * q) / 4;
    doc
      .moveTo(gx, y - 2)
      .lineTo(gx, y + chart.bars.length * (barH + gap))
      .lineWidth(q === 0 ? 0.8 : 0.3)
      .strokeColor(q === 0 ? MUTED : RULE)
      .stroke();
  }
  doc.font('cjk').fontSize(7.5);
  for (const bar of chart.bars) {
    doc.fillColor(TEXT);
    textInBox(doc, fit(doc, bar.label, labelW - 8), x0, y + 1.5, labelW - 8, 'right');
    let bx = x0 + labelW;
    let total = 0;
    for (const s of bar.segments) {
      const w = (Math.max(0, s.value) / max) * plotW;
      if (w > 0) doc.rect(bx, y, w, barH).fill(s.color);
      bx += w;
      total += s.value;
    }
    const label = chart.unit === 'percent' ? formatPercent(total) : String(Math.round(total));
    doc.fillColor(TEXT).text(label, bx + 4, y + 1.5, { lineBreak: false });
    y += barH + gap;
  }
  doc.y = y + 10;
}

/** Header (county, report, period) and footer (page n of m) on every page, written once all pages exist. */
function decoratePages(doc: Doc, header: string, lang: Lang): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const saved = doc.page.margins;
    // Writing in the margins: with zero margins pdfkit does not start a new page for it.
    doc.page.margins = { top: 0, bottom: 0, left: 0, right: 0 };
    const w = doc.page.width - MARGIN.left - MARGIN.right;
    doc.font('cjk').fontSize(8).fillColor(MUTED);
    doc.text(header, MARGIN.left, 30, { width: w, lineBreak: false, align: 'left' });
    doc
      .moveTo(MARGIN.left, 44)
      .lineTo(MARGIN.left + w, 44)
      .lineWidth(0.5)
      .strokeColor(RULE)
      .stroke();
    doc.text(t(lang, 'page', { n: i + 1 - range.start, total: range.count }), MARGIN.left, doc.page.height - 36, {
      width: w,
      lineBreak: false,
      align: 'center',
    });
    doc.page.margins = saved;
  }
}

/**
 * The report as a PDF: a cover with the key figures, then each section with its method, a chart
 * where one helps, and its tables; the CJK font embedded as a subset; the county's name and the
 * period in every page's header, page numbers in the footer.
 */
export async function writePdfReport(f: ReportFigures, fonts: CjkFonts, lang: Lang = 'zh'): Promise<Buffer> {
  // pdfkit is loaded with the first PDF, not with the package (see writeExcelReport).
  const { default: PDFDocument } = await import('pdfkit');
  const heading = reportHeading(f, lang);
  const doc = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    bufferPages: true,
    info: {
      Title: heading.header,
      Author: 'Anlian 安联网',
      Creator: 'Anlian reports',
      CreationDate: new Date(f.generatedAt),
    },
  });
  batchContent(doc);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });
  const faces = await fonts.faces();
  doc.registerFont('cjk', faces.regular as unknown as string);
  doc.registerFont('cjk-bold', faces.bold as unknown as string);

  const x0 = MARGIN.left;
  const width = doc.page.width - MARGIN.left - MARGIN.right;
  doc
    .font('cjk-bold')
    .fontSize(20)
    .fillColor(TEXT)
    .text(heading.title, x0, MARGIN.top + 20, { width, align: 'center' });
  doc.moveDown(1.2);
  doc.font('cjk').fontSize(10.5);
  for (const [label, value] of heading.lines) {
    doc.fillColor(MUTED).text(`${label}：`, x0, doc.y, { continued: true }).fillColor(TEXT).text(value, { width });
    doc.moveDown(0.3);
  }
  if (f.source.kind === 'simulation') {
    doc.moveDown(0.5);
    const y = doc.y;
    doc.rect(x0, y, width, 22).fill('#fff4e5');
    doc.font('cjk-bold').fontSize(9.5).fillColor('#a15c00');
    doc.text(
      lang === 'zh'
        ? '本报告由模拟数据生成，仅用于演示与测试。'
        : 'This report was computed from simulated data, for demonstration and testing only.',
      x0 + 8,
      y + 6,
      { lineBreak: false },
    );
    doc.y = y + 30;
  }
  const sections = reportSections(f, lang);
  doc.moveDown(1);
  doc.font('cjk-bold').fontSize(12).fillColor(TEXT).text(t(lang, 'keyFigures'), x0, doc.y);
  doc.moveDown(0.4);
  const colW = width / 2;
  let i = 0;
  for (const s of sections) {
    for (const item of s.summary) {
      const cx = x0 + (i % 2) * colW;
      if (i % 2 === 0) ensureSpace(doc, 30);
      const cy = doc.y;
      doc.rect(cx + 2, cy, colW - 4, 26).fill('#f3f6f9');
      doc
        .font('cjk')
        .fontSize(7.5)
        .fillColor(MUTED)
        .text(
          fit(doc, `${s.title.replace(/^[一二三四五六七八九十]+、|^\d+\. /, '')} · ${item.label}`, colW - 16),
          cx + 8,
          cy + 3,
          { lineBreak: false },
        );
      doc
        .font('cjk-bold')
        .fontSize(11)
        .fillColor(s.notAvailable ? MUTED : TEXT)
        .text(fit(doc, item.value, colW - 16), cx + 8, cy + 12, { lineBreak: false });
      doc.y = i % 2 === 0 ? cy : cy + 30;
      i++;
    }
  }
  if (i % 2 === 1) doc.y += 30;

  for (const s of sections) {
    doc.addPage();
    doc.font('cjk-bold').fontSize(14).fillColor(TEXT).text(s.title, x0, doc.y);
    doc.moveDown(0.3);
    doc
      .font('cjk')
      .fontSize(7.8)
      .fillColor(MUTED)
      .text(`${t(lang, 'method')}：${s.method}`, x0, doc.y, { width, lineGap: 1.5 });
    doc.moveDown(0.6);
    if (s.notAvailable) {
      doc.font('cjk-bold').fontSize(11).fillColor(MUTED).text(t(lang, 'notAvailable'), x0, doc.y);
      continue;
    }
    doc.font('cjk').fontSize(9).fillColor(TEXT);
    doc.text(s.summary.map((x) => `${x.label}：${x.value}`).join('　　'), x0, doc.y, { width });
    doc.moveDown(0.6);
    if (s.chart) drawChart(doc, s.chart);
    for (const table of s.tables) drawTable(doc, table, lang);
  }
  decoratePages(doc, heading.header, lang);
  doc.end();
  await done;
  return Buffer.concat(chunks);
}
