/**
 * @anlian/reports — supervision reports (Excel, PDF) per institution and per county, computed
 * from InfluxDB and the operational store, their archive and monthly schedule; Grafana
 * dashboards as code — those from `@anlian/reports/grafana`, so that a process making reports
 * does not load the Grafana SDK (~6 MB resident).
 */

export { MonthlyReportScheduler, type MonthlyReportSchedulerOptions } from './archive/monthly-report-scheduler.js';
export { type ArchivedReport, type ArchiveEntry, ReportArchive, StoreLease } from './archive/report-archive.js';
export { FileReportStorage, type ReportStorage } from './archive/report-storage.js';
export { migrateReports, REPORTS_MIGRATIONS } from './archive/reports-migrations.js';
export { ReportError, ReportErrorCode } from './errors.js';
export {
  computeFigures,
  drillResponseScore,
  type FigureOptions,
  type FigureRequest,
} from './figures/compute-figures.js';
export { downIntervals, type Interval, totalLength, unionClipped } from './figures/intervals.js';
export * from './figures/report-figures.js';
export { mean, nearestRank } from './figures/stats.js';
export { Condition, call, field, ident, oneOf, Select, simRunCondition, str, where } from './influxql/influxql.js';
export { PeriodRequest, previousMonth, type ReportPeriod, resolvePeriod } from './period.js';
export { type InfluxQuery, InfluxReader, type InfluxSeries } from './read/influx-reader.js';
export { LIVE_SOURCE, ReportSource, simRunOf, sourceKey } from './read/report-source.js';
export type { ReportReadDatabase } from './read/report-tables.js';
export type { SimRunRow } from './read/store-reader.js';
export { StoreReader } from './read/store-reader.js';
export { StoreSupervisionSource, type SupervisionSource } from './read/supervision-source.js';
export { type CjkFaces, CjkFonts, type FontFace, NOTO_CJK_BOLD, NOTO_CJK_REGULAR } from './render/cjk-font.js';
export { writeExcelReport } from './render/excel-report.js';
export { writePdfReport } from './render/pdf-report.js';
export type { Lang } from './render/report-labels.js';
export { InProcessRenderer, type ReportRenderer, WorkerRenderer } from './render/report-renderer.js';
export { reportSections } from './render/report-sections.js';
export { type ReportFile, type ReportRequest, ReportService, type ReportServiceDeps } from './report-service.js';
