/** What the grading child process reports to bench:supervision. */
export interface GradingRun {
  type: 'grading';
  mode: 'grade' | 'baseline';
  /** Wall time of each run: the first is cold (caches empty), the next warm. */
  timesMs: number[];
  institutions: number;
  /** Rows the baseline's queries returned. */
  rows: number;
  rssAtStartMb: number;
  /** Peak resident set of the whole process. */
  maxRssMb: number;
}
