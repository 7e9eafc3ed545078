import { parentPort } from 'node:worker_threads';
import type { ReportFigures } from '../figures/report-figures.js';
import { CjkFonts } from './cjk-font.js';
import { writeExcelReport } from './excel-report.js';
import { writePdfReport } from './pdf-report.js';
import type { Lang } from './report-labels.js';

// The report worker (WorkerRenderer): one report at a time, the font loaded once.
let fonts: CjkFonts | undefined;
parentPort?.on('message', (m: { id: number; figures: ReportFigures; lang: Lang }) => {
  void (async () => {
    try {
      fonts ??= CjkFonts.load();
      const xlsx = await writeExcelReport(m.figures, m.lang);
      const pdf = await writePdfReport(m.figures, fonts, m.lang);
      parentPort?.postMessage(
        { id: m.id, xlsx, pdf },
        [xlsx.buffer as ArrayBuffer, pdf.buffer as ArrayBuffer].filter((b, i, a) => a.indexOf(b) === i),
      );
    } catch (err) {
      parentPort?.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
    }
  })();
});
