import type { Kysely } from 'kysely';
import { historyEventLines, type PolicyLine, telemetryLine } from './history-lines.js';
import type { SimulatedHistory } from './history-model.js';
import { historyTelemetry } from './history-telemetry.js';
import {
  completeHistoryRun,
  type InfluxLineTarget,
  writeHistoryLines,
  writeHistoryToStore,
} from './history-writers.js';

export interface RecordHistoryOptions<DB> {
  history: SimulatedHistory;
  /** The operational store, migrated (store, alerting). */
  db: Kysely<DB>;
  influx: InfluxLineTarget;
  /**
   * `events` (default): status changes, device events and alert events only — what the reports
   * read, a few thousand points for a county's month. `full`: also every telemetry report
   * (`historyTelemetry`), for small counties and tests.
   */
  telemetry?: 'events' | 'full';
  now?: number;
}

/**
 * Writes a simulated history: the store records, then the InfluxDB points, then marks the run
 * complete — so a reader never trusts a half-written run, and a writer interrupted half-way
 * starts it again. Returns what was written; nothing when the run is already complete.
 */
export async function recordHistory<DB>(
  o: RecordHistoryOptions<DB>,
): Promise<{ written: boolean; alerts: number; lines: number }> {
  const now = o.now ?? Date.now();
  const h = o.history;
  if (!(await writeHistoryToStore(o.db, h, now))) return { written: false, alerts: 0, lines: 0 };
  const lines = function* (): Generator<PolicyLine> {
    yield* historyEventLines(h);
    if (o.telemetry === 'full') for (const r of historyTelemetry(h)) yield { rp: 'raw', line: telemetryLine(h, r) };
  };
  const n = await writeHistoryLines(o.influx, lines());
  await completeHistoryRun(o.db, h.runId, now);
  return { written: true, alerts: h.alerts.length, lines: n };
}
