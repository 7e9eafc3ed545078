import type { ReportPeriod } from '@anlian/reports';
import type { PhaseResult } from './phase-meter.js';

/** What the report process measures: a county's report over a simulation run already written. */
export interface MeasureJob {
  storePath: string;
  influxUrl: string;
  database: string;
  county: string;
  runId: string;
  period: ReportPeriod;
  now: number;
  runs: number;
  /** Where to leave the PDF and the workbook of the last run (for a look). */
  outDir: string;
}

export type MeasureCommand = { type: 'measure'; job: MeasureJob } | { type: 'exit' };

export interface MeasureResult {
  /** This process's resident memory once its modules are loaded, before any report work, MB. */
  atRestRssMb: number;
  /** Each of the report's queries, alone, in the last baseline run (ms). */
  queryMs: Record<string, number>;
  phases: PhaseResult[];
  excelBytes: number;
  pdfBytes: number;
  pdfPages: number;
}

export type MeasureReport = { type: 'result'; result: MeasureResult } | { type: 'error'; message: string };
