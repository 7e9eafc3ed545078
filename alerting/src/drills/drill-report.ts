import { neutraliseFormula } from '@anlian/store';
import type { Alert } from '../lifecycle/alert.js';
import type { Drill } from './drill.js';

export interface DrillAlertScore {
  alertId: string;
  institution: string;
  rule: string;
  nameZh: string;
  severity: string;
  device?: string;
  openedAt: number;
  /** Seconds from opening to acknowledgement / verification / closing; absent when not done. */
  toAcknowledgeS?: number;
  toVerifyS?: number;
  toCloseS?: number;
  verdict?: string;
  status: string;
}

export interface DrillReport {
  drill: Drill;
  generatedAt: number;
  alerts: DrillAlertScore[];
  summary: {
    alerts: number;
    acknowledged: number;
    verified: number;
    closed: number;
    meanToAcknowledgeS?: number;
    maxToAcknowledgeS?: number;
    meanToVerifyS?: number;
    meanToCloseS?: number;
    /** Institutions in scope that raised no alert during the drill. */
    silentInstitutions: string[];
  };
}

const seconds = (from: number, to: number | undefined): number | undefined =>
  to === undefined ? undefined : Math.round((to - from) / 100) / 10;

const mean = (xs: number[]): number | undefined =>
  xs.length === 0 ? undefined : Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10;

/** Scores a drill: time to acknowledge, verify and close each of its alerts. */
export function buildDrillReport(drill: Drill, alerts: readonly Alert[], now: number): DrillReport {
  const scores: DrillAlertScore[] = alerts
    .slice()
    .sort((a, b) => a.openedAt - b.openedAt)
    .map((a) => {
      const s: DrillAlertScore = {
        alertId: a.id,
        institution: a.institution,
        rule: a.rule,
        nameZh: a.name.zh,
        severity: a.severity,
        openedAt: a.openedAt,
        status: a.status,
      };
      if (a.device !== undefined) s.device = a.device;
      const ack = seconds(a.openedAt, a.acknowledgedAt);
      const ver = seconds(a.openedAt, a.verifiedAt);
      const close = seconds(a.openedAt, a.closedAt);
      if (ack !== undefined) s.toAcknowledgeS = ack;
      if (ver !== undefined) s.toVerifyS = ver;
      if (close !== undefined) s.toCloseS = close;
      if (a.verdict !== undefined) s.verdict = a.verdict;
      return s;
    });
  const acks = scores.flatMap((s) => (s.toAcknowledgeS === undefined ? [] : [s.toAcknowledgeS]));
  const vers = scores.flatMap((s) => (s.toVerifyS === undefined ? [] : [s.toVerifyS]));
  const closes = scores.flatMap((s) => (s.toCloseS === undefined ? [] : [s.toCloseS]));
  const raised = new Set(scores.map((s) => s.institution));
  const summary: DrillReport['summary'] = {
    alerts: scores.length,
    acknowledged: acks.length,
    verified: vers.length,
    closed: closes.length,
    silentInstitutions: drill.institutions.filter((i) => !raised.has(i)),
  };
  const meanAck = mean(acks);
  if (meanAck !== undefined) summary.meanToAcknowledgeS = meanAck;
  if (acks.length > 0) summary.maxToAcknowledgeS = Math.max(...acks);
  const meanVer = mean(vers);
  if (meanVer !== undefined) summary.meanToVerifyS = meanVer;
  const meanClose = mean(closes);
  if (meanClose !== undefined) summary.meanToCloseS = meanClose;
  return { drill, generatedAt: now, alerts: scores, summary };
}

const CSV_COLUMNS: readonly (keyof DrillAlertScore)[] = [
  'alertId',
  'institution',
  'rule',
  'nameZh',
  'severity',
  'device',
  'openedAt',
  'toAcknowledgeS',
  'toVerifyS',
  'toCloseS',
  'verdict',
  'status',
];

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  // A text cell a spreadsheet would run as a formula is neutralised; numbers stay numbers.
  const safe = typeof value === 'string' ? neutraliseFormula(value) : String(value);
  // RFC 4180 quoting.
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The report's rows as CSV (UTF-8 with a BOM, so Excel shows the Chinese names). */
export function drillReportCsv(report: DrillReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const row of report.alerts) {
    lines.push(
      CSV_COLUMNS.map((c) => (c === 'openedAt' ? new Date(row.openedAt).toISOString() : csvCell(row[c]))).join(','),
    );
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}
