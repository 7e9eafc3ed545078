import { Worker } from 'node:worker_threads';
import type { ReportFigures } from '../figures/report-figures.js';
import type { CjkFonts } from './cjk-font.js';
import { writeExcelReport } from './excel-report.js';
import { writePdfReport } from './pdf-report.js';
import type { Lang } from './report-labels.js';

/** Turns figures into the report's files. */
export interface ReportRenderer {
  render(f: ReportFigures, lang: Lang): Promise<{ xlsx: Buffer; pdf: Buffer }>;
  close(): Promise<void>;
}

/** On the calling thread: for tools, tests and a process that does nothing else. */
export class InProcessRenderer implements ReportRenderer {
  constructor(private readonly fonts: () => CjkFonts) {}

  async render(f: ReportFigures, lang: Lang): Promise<{ xlsx: Buffer; pdf: Buffer }> {
    return { xlsx: await writeExcelReport(f, lang), pdf: await writePdfReport(f, this.fonts(), lang) };
  }

  async close(): Promise<void> {}
}

interface Job {
  resolve: (r: { xlsx: Buffer; pdf: Buffer }) => void;
  reject: (err: Error) => void;
}

// From src/render (vitest) and from dist/render alike, this is the compiled worker.
const WORKER_URL = new URL('../../dist/render/render-worker.js', import.meta.url);

/**
 * On a worker thread: laying out a county's PDF holds a CPU for a second or more, and in
 * `anlian up` the alarm path shares the event loop with the dashboard — a report must never delay
 * a fire alarm. The worker loads the CJK font once and renders one report at a time.
 */
export class WorkerRenderer implements ReportRenderer {
  #worker: Worker | undefined;
  #next = 0;
  readonly #jobs = new Map<number, Job>();

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(WORKER_URL);
    w.on('message', (m: { id: number; xlsx?: Uint8Array; pdf?: Uint8Array; error?: string }) => {
      const job = this.#jobs.get(m.id);
      if (!job) return;
      this.#jobs.delete(m.id);
      if (m.error !== undefined || !m.xlsx || !m.pdf)
        job.reject(new Error(m.error ?? 'the report worker sent no files'));
      else job.resolve({ xlsx: Buffer.from(m.xlsx), pdf: Buffer.from(m.pdf) });
    });
    const failAll = (err: Error) => {
      for (const job of this.#jobs.values()) job.reject(err);
      this.#jobs.clear();
      this.#worker = undefined;
    };
    w.on('error', failAll);
    w.on('exit', (code) => failAll(new Error(`the report worker exited (${code})`)));
    w.unref();
    this.#worker = w;
    return w;
  }

  render(f: ReportFigures, lang: Lang): Promise<{ xlsx: Buffer; pdf: Buffer }> {
    const id = ++this.#next;
    const w = this.#start();
    w.ref();
    return new Promise<{ xlsx: Buffer; pdf: Buffer }>((resolve, reject) => {
      this.#jobs.set(id, { resolve, reject });
      w.postMessage({ id, figures: f, lang });
    }).finally(() => {
      if (this.#jobs.size === 0) this.#worker?.unref();
    });
  }

  async close(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    await w?.terminate();
  }
}
