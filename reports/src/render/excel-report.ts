import { createRequire } from 'node:module';
// Formula-like text (a county or device named "=HYPERLINK(…)") is shown, never evaluated.
import { neutraliseFormula } from '@anlian/store';
import type ExcelJS from 'exceljs';
import type { ReportFigures } from '../figures/report-figures.js';
import { reportHeading } from './report-heading.js';
import { type Lang, t } from './report-labels.js';
import { type CellValue, type ReportColumn, type ReportSection, reportSections } from './report-sections.js';
import { sheetName } from './spreadsheet-text.js';

const NUM_FMT: Partial<Record<ReportColumn['kind'], string>> = { percent: '0.00%', seconds: '0.0', int: '0' };
const HEADER_FILL: ExcelJS.Fill = { type: 'pattern', pattern: 'solid', fgColor: { argb: 'FFE8EEF5' } };

let Workbook: typeof ExcelJS.Workbook | undefined;

/**
 * exceljs's Workbook, loaded with the first workbook, not with the package: a process that renders
 * on a worker thread (WorkerRenderer) or has not made a report yet never holds it. And only the
 * Workbook (~6 MB resident), not the package's index, which also loads its streaming reader and
 * writer and their zip and XML libraries (~15 MB more) that a report never uses.
 */
function workbookClass(): typeof ExcelJS.Workbook {
  Workbook ??= createRequire(import.meta.url)('exceljs/lib/doc/workbook.js') as typeof ExcelJS.Workbook;
  return Workbook;
}

function cell(value: CellValue, kind: ReportColumn['kind']): ExcelJS.CellValue {
  if (value === undefined) return null;
  if (typeof value === 'number') return kind === 'text' ? neutraliseFormula(String(value)) : value;
  return neutraliseFormula(value);
}

function writeSection(ws: ExcelJS.Worksheet, s: ReportSection, lang: Lang): void {
  const width = Math.max(2, ...s.tables.map((tb) => tb.columns.length));
  ws.addRow([neutraliseFormula(s.title)]).font = { bold: true, size: 14 };
  const method = ws.addRow([`${t(lang, 'method')}：${s.method}`]);
  ws.mergeCells(method.number, 1, method.number, width);
  method.alignment = { wrapText: true, vertical: 'top' };
  method.height = Math.min(160, 15 * Math.ceil(s.method.length / (width * 14)) + 6);
  for (const item of s.summary) ws.addRow([neutraliseFormula(item.label), neutraliseFormula(item.value)]);
  for (const table of s.tables) {
    ws.addRow([]);
    if (table.title) ws.addRow([neutraliseFormula(table.title)]).font = { bold: true };
    const header = ws.addRow(table.columns.map((c) => neutraliseFormula(c.header)));
    header.font = { bold: true };
    header.eachCell((c) => {
      c.fill = HEADER_FILL;
    });
    if (table.rows.length === 0) ws.addRow([t(lang, 'none')]);
    for (const row of table.rows) {
      const r = ws.addRow(table.columns.map((c) => cell(row[c.key], c.kind)));
      table.columns.forEach((c, i) => {
        const fmt = NUM_FMT[c.kind];
        if (fmt) r.getCell(i + 1).numFmt = fmt;
      });
    }
  }
  ws.columns.forEach((col, i) => {
    col.width = i === 0 ? 28 : 16;
  });
}

/** The report as an Excel workbook: a summary sheet, then one sheet per section. */
export async function writeExcelReport(f: ReportFigures, lang: Lang = 'zh'): Promise<Buffer> {
  const wb = new (workbookClass())();
  wb.creator = 'Anlian 安联网';
  wb.created = new Date(f.generatedAt);
  wb.modified = new Date(f.generatedAt);
  const sections = reportSections(f, lang);
  const heading = reportHeading(f, lang);

  const summary = wb.addWorksheet(sheetName(t(lang, 'sheetSummary')));
  summary.addRow([neutraliseFormula(heading.title)]).font = { bold: true, size: 16 };
  for (const [label, value] of heading.lines) summary.addRow([neutraliseFormula(label), neutraliseFormula(value)]);
  summary.addRow([]);
  summary.addRow([t(lang, 'keyFigures')]).font = { bold: true };
  for (const s of sections) {
    for (const item of s.summary) {
      summary.addRow([neutraliseFormula(`${s.title} · ${item.label}`), neutraliseFormula(item.value)]);
    }
  }
  summary.getColumn(1).width = 44;
  summary.getColumn(2).width = 60;

  for (const s of sections) writeSection(wb.addWorksheet(sheetName(s.sheet)), s, lang);
  return Buffer.from(await wb.xlsx.writeBuffer());
}
