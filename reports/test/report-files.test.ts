import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CjkFonts } from '../src/render/cjk-font.js';
import { writeExcelReport } from '../src/render/excel-report.js';
import { writePdfReport } from '../src/render/pdf-report.js';
import { WorkerRenderer } from '../src/render/report-renderer.js';
import { figuresFixture } from './figures-fixture.js';

const run = promisify(execFile);
const ARTIFACTS = new URL('../test-artifacts/', import.meta.url).pathname;

/** Worksheet contents as rows of cell texts (numbers as numbers). */
function sheetRows(ws: ExcelJS.Worksheet): unknown[][] {
  const rows: unknown[][] = [];
  ws.eachRow((row) => {
    rows.push((row.values as unknown[]).slice(1));
  });
  return rows;
}

describe('report files', () => {
  let dir: string;
  let fonts: CjkFonts;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'anlian-report-files-'));
    fonts = CjkFonts.load();
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes an Excel workbook with one sheet per section, numbers as numbers and formula-like text neutralised', async () => {
    const buf = await writeExcelReport(figuresFixture());
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buf as unknown as ArrayBuffer);
    expect(wb.worksheets.map((w) => w.name)).toEqual([
      '概览',
      '设备在线率',
      '报警统计',
      '误报分析',
      '处置时效',
      '升级通知',
      '消息推送',
      '应急演练',
      '隐患与风险',
      '视频可用率',
    ]);
    const online = sheetRows(wb.getWorksheet('设备在线率') as ExcelJS.Worksheet);
    const fire = online.find((r) => r[0] === '火灾探测');
    expect(fire?.slice(1)).toEqual([10, 7200, 7100, 710 / 720]);
    const instRow = online.find((r) => typeof r[0] === 'string' && r[0].includes('HYPERLINK'));
    // The name is kept as text with a leading apostrophe: never a formula.
    expect(instRow?.[0]).toBe(`'=HYPERLINK("http://x")`);
    const rateCell = (wb.getWorksheet('设备在线率') as ExcelJS.Worksheet)
      .getRows(1, 40)
      ?.find((r) => r.getCell(1).value === '火灾探测')
      ?.getCell(5);
    expect(rateCell?.numFmt).toBe('0.00%');
    let formulas = 0;
    for (const ws of wb.worksheets) {
      ws.eachRow((row) =>
        row.eachCell((c) => {
          if (c.type === ExcelJS.ValueType.Formula) formulas++;
        }),
      );
    }
    expect(formulas).toBe(0);
    const alarms = sheetRows(wb.getWorksheet('报警统计') as ExcelJS.Worksheet);
    expect(alarms.find((r) => r[0] === '火灾探测')).toEqual(['火灾探测', 12, 1, 7, 2, 1, 1]);
    const hazards = sheetRows(wb.getWorksheet('隐患与风险') as ExcelJS.Worksheet);
    expect(hazards.flat().join(' ')).toContain('暂无数据');
    const summary = sheetRows(wb.getWorksheet('概览') as ExcelJS.Worksheet);
    expect(summary.find((r) => r[0] === '数据来源')?.[1]).toContain('实时运行数据');
  });

  it('writes a PDF with the CJK font embedded, the county and period on every page, and the figures as text', async () => {
    const pdf = await writePdfReport(figuresFixture(), fonts);
    const file = join(dir, 'county.pdf');
    await writeFile(file, pdf);
    const { stdout: fontsList } = await run('pdffonts', [file]);
    // Embedded (emb) and subset (sub): the 19 MB collection never goes into the file whole.
    expect(fontsList).toMatch(/NotoSansCJKsc-Regular\s+CID Type 0C\s+Identity-H\s+yes yes yes/);
    expect(pdf.length).toBeLessThan(400_000);
    const { stdout: text } = await run('pdftotext', ['-layout', file, '-']);
    const pages = text.split('\f').filter((p) => p.trim() !== '');
    expect(pages.length).toBeGreaterThanOrEqual(10);
    pages.forEach((p, i) => {
      expect(p).toContain('测试县');
      expect(p).toContain('2026年11月');
      expect(p).toContain(`第 ${i + 1} 页 / 共 ${pages.length} 页`);
    });
    for (const s of [
      '设备在线率',
      '报警统计',
      '误报率',
      '处置时效',
      '应急演练',
      '暂无数据',
      '视频监控可用率',
      'GB 50440',
    ]) {
      expect(text).toContain(s);
    }
    // Figures as printed: online rates, a drill's score, a p90, a false-alarm detector's day.
    expect(text).toContain(`${((12760 / 12960) * 100).toFixed(2)}%`);
    expect(text).toContain(`${((710 / 720) * 100).toFixed(2)}%`);
    expect(text).toMatch(/11月消防演练[\s\S]*87/);
    expect(text).toContain('180.3');
    expect(text).toContain('2026-11-12');
    expect(text).toContain('=HYPERLINK');

    await mkdir(ARTIFACTS, { recursive: true });
    await run('pdftoppm', [
      '-png',
      '-r',
      '60',
      '-f',
      '1',
      '-l',
      '1',
      '-singlefile',
      file,
      join(ARTIFACTS, 'county-report-page1'),
    ]);
    // A section page with a chart, for a look at the drawing.
    await run('pdftoppm', [
      '-png',
      '-r',
      '60',
      '-f',
      '3',
      '-l',
      '3',
      '-singlefile',
      file,
      join(ARTIFACTS, 'county-report-page3'),
    ]);
    const png = await readFile(join(ARTIFACTS, 'county-report-page1.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('says on every page when the figures come from a simulation run', async () => {
    const f = figuresFixture({
      source: {
        kind: 'simulation',
        runId: 'sim-test-1',
        seed: 7,
        runKind: 'history',
        startsAt: Date.UTC(2026, 9, 31, 16),
        endsAt: Date.UTC(2026, 10, 30, 16),
        description: 'test',
      },
    });
    const file = join(dir, 'sim.pdf');
    await writeFile(file, await writePdfReport(f, fonts));
    const { stdout: text } = await run('pdftotext', ['-layout', file, '-']);
    for (const p of text.split('\f').filter((x) => x.trim() !== '')) expect(p).toContain('模拟数据');
    expect(text).toContain('sim-test-1');
  });

  it("embeds the faces without subroutines (flattened charstrings): smaller, and every page draws the same pixels as with fontkit's own subset", async () => {
    const f = figuresFixture();
    const flat = await writePdfReport(f, fonts);
    const kept = await writePdfReport(f, CjkFonts.load(undefined, undefined, { flatten: false }));
    // fontkit's subset carries Noto's 45,206 local subroutines (one byte each when unused) per face.
    expect(flat.length).toBeLessThan(kept.length - 100_000);
    const flatFile = join(dir, 'flat.pdf');
    const keptFile = join(dir, 'kept.pdf');
    await writeFile(flatFile, flat);
    await writeFile(keptFile, kept);
    const { stdout: fontsList } = await run('pdffonts', [flatFile]);
    expect(fontsList).toMatch(/NotoSansCJKsc-Regular\s+CID Type 0C\s+Identity-H\s+yes yes yes/);
    expect(fontsList).toMatch(/NotoSansCJKsc-Bold\s+CID Type 0C\s+Identity-H\s+yes yes yes/);
    const { stdout: pageList } = await run('pdfinfo', [flatFile]);
    const pages = Number(/Pages:\s+(\d+)/.exec(pageList)?.[1]);
    expect(pages).toBeGreaterThan(3);
    // Every page at 100 dpi, as grey-scale PGM: byte-equal images mean the same outlines.
    for (const [file, prefix] of [
      [flatFile, join(dir, 'flat')],
      [keptFile, join(dir, 'kept')],
    ] as const) {
      await run('pdftoppm', ['-gray', '-r', '100', file, prefix]);
    }
    for (let p = 1; p <= pages; p++) {
      const n = String(p).padStart(String(pages).length, '0');
      const a = await readFile(join(dir, `flat-${n}.pgm`));
      const b = await readFile(join(dir, `kept-${n}.pgm`));
      expect(a.equals(b), `page ${p}`).toBe(true);
    }
  });

  it('renders on a worker thread the same files as on this one (the PDF byte for byte)', async () => {
    const renderer = new WorkerRenderer();
    try {
      const f = figuresFixture();
      const [a, b] = await Promise.all([renderer.render(f, 'zh'), renderer.render(f, 'en')]);
      expect(a.pdf.equals(await writePdfReport(f, fonts))).toBe(true);
      expect(a.xlsx.subarray(0, 2).toString()).toBe('PK');
      const file = join(dir, 'en.pdf');
      await writeFile(file, b.pdf);
      const { stdout } = await run('pdftotext', ['-layout', file, '-']);
      expect(stdout).toContain('Device online rate');
      expect(stdout).toContain('Page 1 of');
    } finally {
      await renderer.close();
    }
  });
});
