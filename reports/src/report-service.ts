import { randomBytes } from 'node:crypto';
import type { Database } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { ArchivedReport, ArchiveEntry } from './archive/report-archive.js';
import { ReportArchive } from './archive/report-archive.js';
import type { ReportStorage } from './archive/report-storage.js';
import { ReportError, ReportErrorCode } from './errors.js';
import { computeFigures, type FigureOptions } from './figures/compute-figures.js';
import type { ReportFigures } from './figures/report-figures.js';
import { type PeriodRequest, resolvePeriod } from './period.js';
import { type InfluxPolicies, type InfluxQuery, InfluxReader } from './read/influx-reader.js';
import { type ReportSource, sourceKey } from './read/report-source.js';
import type { ReportReadDatabase } from './read/report-tables.js';
import { type CountyRow, type SimRunRow, StoreReader } from './read/store-reader.js';
import { StoreSupervisionSource, type SupervisionSource } from './read/supervision-source.js';
import type { CjkFonts } from './render/cjk-font.js';
import type { Lang } from './render/report-labels.js';
import { InProcessRenderer, type ReportRenderer } from './render/report-renderer.js';

export interface ReportServiceDeps {
  /** The operational store (registry, alerting's tables, the reports' own; migrated). */
  db: Kysely<Database>;
  queryInflux: InfluxQuery;
  storage: ReportStorage;
  /** The PDF's CJK font, loaded on first use (`CjkFonts.load`); used by the default renderer. */
  fonts: () => CjkFonts;
  /** Default: on this thread. `anlian up` renders on a worker (`WorkerRenderer`). */
  renderer?: ReportRenderer;
  logger: Logger;
  clock?: () => number;
  supervision?: SupervisionSource;
  figureOptions?: FigureOptions;
  influxPolicies?: InfluxPolicies;
}

export interface ReportRequest {
  /** Default: the store's county. */
  county?: string | undefined;
  institution?: string | undefined;
  period: PeriodRequest;
  source: ReportSource;
  lang?: Lang;
  /** Who asked: a user name, or `schedule`. */
  by: string;
  /** Scheduled reports: one per key (county, scope, month). */
  scheduleKey?: string;
}

export interface ReportFile {
  bytes: Buffer;
  filename: string;
  contentType: string;
}

const CONTENT_TYPES = {
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  pdf: 'application/pdf',
} as const;

/** Key figures kept in the archive's index, for its list. */
function summaryOf(f: ReportFigures): Record<string, number | null> {
  const verified = f.falseAlarms.byInstitution.reduce((a, r) => a + r.verified, 0);
  const falseAlarms = f.falseAlarms.byInstitution.reduce((a, r) => a + r.falseAlarms, 0);
  return {
    onlineRate: f.online.total.rate ?? null,
    devices: f.online.total.devices,
    alarms: f.alarms.total,
    falseAlarmRate: verified > 0 ? falseAlarms / verified : null,
    meanToAcknowledgeS: f.response.bySeverity.find((r) => r.severity === 'all')?.acknowledge.meanS ?? null,
    drills: f.drills.drills.length,
    cameraAvailability: f.cameras.rate ?? null,
  };
}

/**
 * Supervision reports on demand and for the schedule: figures → Excel and PDF → the archive
 * (files in `storage`, index in the store). One instance per process; stateless between calls.
 */
export class ReportService {
  readonly reader: StoreReader;
  readonly archive: ReportArchive;
  readonly #influx: InfluxReader;
  readonly #d: ReportServiceDeps;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #supervision: SupervisionSource;
  readonly #renderer: ReportRenderer;

  constructor(deps: ReportServiceDeps) {
    this.#d = deps;
    this.reader = new StoreReader(deps.db as unknown as Kysely<ReportReadDatabase>);
    this.archive = new ReportArchive(deps.db);
    this.#influx = new InfluxReader(deps.queryInflux, deps.influxPolicies);
    this.#log = deps.logger.child({ module: 'reports' });
    this.#clock = deps.clock ?? Date.now;
    this.#supervision = deps.supervision ?? new StoreSupervisionSource(deps.db, this.reader);
    this.#renderer = deps.renderer ?? new InProcessRenderer(deps.fonts);
  }

  /** Stops the renderer's worker, if any. */
  close(): Promise<void> {
    return this.#renderer.close();
  }

  async county(id?: string): Promise<CountyRow> {
    if (id !== undefined) return this.reader.county(id);
    const only = await this.reader.onlyCounty();
    if (!only) throw new ReportError(ReportErrorCode.NOT_FOUND, 'the store holds no county');
    return only;
  }

  /** Completed simulation runs of the county a report can be computed from. */
  simulationRuns(county: string): Promise<SimRunRow[]> {
    return this.reader.simRuns(county);
  }

  async figures(req: Omit<ReportRequest, 'by' | 'lang' | 'scheduleKey'>): Promise<ReportFigures> {
    const county = await this.county(req.county);
    const now = this.#clock();
    const period = resolvePeriod(req.period, county.timezone, now);
    if (req.source.kind === 'simulation') {
      const run = await this.reader.simRun(req.source.runId);
      if (!run || run.county !== county.id || run.completedAt === null) {
        throw new ReportError(
          ReportErrorCode.NOT_FOUND,
          `no completed simulation run ${req.source.runId} of ${county.id}`,
        );
      }
    }
    return computeFigures(
      { store: this.reader, influx: this.#influx, supervision: this.#supervision },
      { county: county.id, institution: req.institution, period, source: req.source, now },
      this.#d.figureOptions,
    );
  }

  /** Computes, writes both files, archives them; returns the archive entry. */
  async generate(req: ReportRequest): Promise<ArchivedReport> {
    const started = performance.now();
    const lang = req.lang ?? 'zh';
    const f = await this.figures(req);
    const { xlsx, pdf } = await this.#renderer.render(f, lang);
    const id = `rp-${f.generatedAt.toString(36)}-${randomBytes(4).toString('hex')}`;
    const base = `${f.county.id}/${f.period.key.replace(/[^A-Za-z0-9_.-]/g, '_')}/${id}`;
    const entry: ArchiveEntry = {
      id,
      county: f.county.id,
      institution: f.institution?.id ?? null,
      periodKey: f.period.key,
      periodFrom: f.period.fromMs,
      periodTo: f.period.toMs,
      periodLabel: lang === 'zh' ? f.period.labelZh : f.period.labelEn,
      sourceKey: sourceKey(req.source),
      lang,
      generatedAt: f.generatedAt,
      generatedBy: req.by,
      scheduled: req.scheduleKey !== undefined,
      scheduleKey: req.scheduleKey ?? null,
      xlsxKey: `${base}.xlsx`,
      xlsxBytes: xlsx.length,
      pdfKey: `${base}.pdf`,
      pdfBytes: pdf.length,
      summary: summaryOf(f),
    };
    await this.#d.storage.put(entry.xlsxKey, xlsx);
    await this.#d.storage.put(entry.pdfKey, pdf);
    try {
      await this.archive.add(entry);
    } catch (err) {
      // The index refused it (a scheduled report another node archived first): drop the files.
      await this.#d.storage.delete(entry.xlsxKey);
      await this.#d.storage.delete(entry.pdfKey);
      throw err;
    }
    this.#log.info(
      {
        report: id,
        county: entry.county,
        institution: entry.institution,
        period: entry.periodKey,
        source: entry.sourceKey,
        by: req.by,
        ms: Math.round(performance.now() - started),
      },
      'report generated',
    );
    const { xlsxKey: _x, pdfKey: _p, scheduleKey: _s, ...archived } = entry;
    return archived;
  }

  async file(id: string, format: 'xlsx' | 'pdf'): Promise<ReportFile | undefined> {
    const e = await this.archive.get(id);
    if (!e) return undefined;
    const bytes = await this.#d.storage.get(format === 'xlsx' ? e.xlsxKey : e.pdfKey);
    if (!bytes) return undefined;
    const scope = e.institution ?? e.county;
    const sim = e.sourceKey === 'live' ? '' : '-simulated';
    return {
      bytes,
      filename: `anlian-report-${scope}-${e.periodKey.replace(/[^A-Za-z0-9_-]/g, '_')}${sim}.${format}`,
      contentType: CONTENT_TYPES[format],
    };
  }
}
