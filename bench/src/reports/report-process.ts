// bench/reports: the measured process. It does a county's report and nothing else — the history
// was written beforehand by the bench's main process — so its resident memory is the report's.
// Phases, each timed (wall and CPU) with its peak RSS: the report's queries alone (the baseline),
// the figures (queries + computation), the Excel file, the font, the PDF file.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CjkFonts,
  computeFigures,
  InfluxReader,
  type ReportReadDatabase,
  StoreReader,
  writeExcelReport,
  writePdfReport,
} from '@anlian/reports';
import { openDatabase } from '@anlian/store';
import { queryV1 } from '@anlian/timeseries';
import type { Kysely } from 'kysely';
import { measurePhase, PeakRss, type PhaseResult, rssNowMb } from './phase-meter.js';
import type { MeasureCommand, MeasureJob, MeasureReport, MeasureResult } from './report-messages.js';

const atRestRssMb = rssNowMb();

function send(r: MeasureReport): void {
  process.send?.(r);
}

async function measure(job: MeasureJob): Promise<MeasureResult> {
  const store = openDatabase({ sqlitePath: job.storePath });
  const peak = new PeakRss();
  try {
    const reader = new StoreReader(store.db as unknown as Kysely<ReportReadDatabase>);
    const influx = new InfluxReader((q) => queryV1({ url: job.influxUrl, generation: 1, database: job.database }, q));
    const scope = { county: job.county, simRun: job.runId };
    const { fromMs, toMs } = job.period;
    const phases: PhaseResult[] = [];

    // Baseline: the queries a report makes, as computeFigures makes them, and nothing else.
    const queryMs: Record<string, number> = {};
    const part = async <T>(name: string, p: Promise<T>): Promise<T> => {
      const t = performance.now();
      const v = await p;
      queryMs[name] = performance.now() - t;
      return v;
    };
    const queries = await measurePhase(peak, 'queries', job.runs, async () => {
      await part('county', reader.county(job.county));
      await part('simulation run', reader.simRun(job.runId));
      const institutions = await part('institutions', reader.institutions(scope));
      await Promise.all([
        part('gateway status (InfluxDB)', influx.gatewayStatus(scope, fromMs, toMs)),
        part('alerts opened', reader.alertsOpenedIn(scope, fromMs, toMs)),
        part(
          'offline conditions',
          reader.conditionsOverlapping(scope, ['device-offline', 'camera-offline', 'gateway-offline'], fromMs, toMs),
        ),
        part('deliveries', reader.deliveryOutcomes(scope, fromMs, toMs)),
        part('fire events (InfluxDB)', influx.deviceEvents(scope, 'fire', ['fire'], fromMs, toMs)),
        part(
          'camera events (InfluxDB)',
          influx.deviceEvents(
            scope,
            'camera',
            ['signal_loss', 'frozen', 'black', 'occlusion', 'fault', 'restore'],
            fromMs - 7 * 86_400_000,
            toMs,
          ),
        ),
      ]);
      const drills = await part('drills', reader.drills(scope, new Set(institutions.map((i) => i.id)), fromMs, toMs));
      await part(
        'drill alerts',
        reader.drillAlerts(
          scope,
          drills.map((d) => d.id),
        ),
      );
      // computeFigures reads the registry's devices last, and uses them at once.
      await part('devices', reader.devices(scope));
    });
    phases.push(queries.result);

    const figures = await measurePhase(peak, 'figures', job.runs, () =>
      computeFigures(
        { store: reader, influx },
        { county: job.county, period: job.period, source: { kind: 'simulation', runId: job.runId }, now: job.now },
      ),
    );
    phases.push(figures.result);

    const excel = await measurePhase(peak, 'excel', job.runs, () => writeExcelReport(figures.value));
    phases.push(excel.result);

    // The font is read once per process (the report worker keeps it): one run.
    const font = await measurePhase(peak, 'font', 1, async () => {
      const fonts = CjkFonts.load();
      await fonts.faces();
      return fonts;
    });
    phases.push(font.result);

    const pdf = await measurePhase(peak, 'pdf', job.runs, () => writePdfReport(figures.value, font.value));
    phases.push(pdf.result);

    await mkdir(job.outDir, { recursive: true });
    await writeFile(join(job.outDir, `${job.county}.xlsx`), excel.value);
    await writeFile(join(job.outDir, `${job.county}.pdf`), pdf.value);
    return {
      atRestRssMb,
      queryMs,
      phases,
      excelBytes: excel.value.length,
      pdfBytes: pdf.value.length,
      pdfPages: (pdf.value.toString('latin1').match(/\/Type \/Page\b(?!s)/g) ?? []).length,
    };
  } finally {
    peak.stop();
    await store.close();
  }
}

process.on('message', (m: MeasureCommand) => {
  switch (m.type) {
    case 'measure':
      measure(m.job).then(
        (result) => send({ type: 'result', result }),
        (err: unknown) =>
          send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
      return;
    case 'exit':
      process.exit(0);
      return;
    default: {
      const never: never = m;
      throw new Error(`unknown command ${JSON.stringify(never)}`);
    }
  }
});
process.on('disconnect', () => process.exit(0));
