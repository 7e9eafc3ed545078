/** Error codes of the reports package (CONVENTIONS.md §6). */
export const ReportErrorCode = {
  /** A period, scope or source that cannot be reported on. */
  BAD_REQUEST: 'ANL_REPORT_BAD_REQUEST',
  /** The county, institution or simulation run asked for does not exist. */
  NOT_FOUND: 'ANL_REPORT_NOT_FOUND',
  /** InfluxDB answered with an error. */
  INFLUX: 'ANL_REPORT_INFLUX',
  /** The CJK font for the PDF is missing or cannot be read. */
  FONT: 'ANL_REPORT_FONT',
  /** The archive's storage failed. */
  STORAGE: 'ANL_REPORT_STORAGE',
} as const;
export type ReportErrorCode = (typeof ReportErrorCode)[keyof typeof ReportErrorCode];

export class ReportError extends Error {
  readonly code: ReportErrorCode;

  constructor(code: ReportErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ReportError';
    this.code = code;
  }
}
