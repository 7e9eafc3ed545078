import type { DurationStats, ReportFigures } from '../figures/report-figures.js';
import { methodNotes } from './method-notes.js';
import { type Lang, t } from './report-labels.js';

/** How a column's values are shown: Excel keeps numbers as numbers with a format; the PDF as text. */
export type ColumnKind = 'text' | 'int' | 'percent' | 'seconds' | 'date';

export interface ReportColumn {
  key: string;
  header: string;
  kind: ColumnKind;
  /** Relative width in the PDF (default by kind). */
  weight?: number;
}

export type CellValue = string | number | undefined;

export interface ReportTable {
  title?: string;
  columns: ReportColumn[];
  rows: Record<string, CellValue>[];
  /** Rows the PDF shows at most (the rest are in the Excel file, which the PDF says). */
  pdfLimit?: number;
}

export interface BarChart {
  title: string;
  /** `percent`: values are fractions 0–1; `count`: plain numbers. */
  unit: 'percent' | 'count';
  bars: { label: string; segments: { value: number; color: string; legend?: string }[] }[];
}

export interface ReportSection {
  id: string;
  /** Sheet name in Excel (≤ 31 characters). */
  sheet: string;
  title: string;
  method: string;
  /** Key figures shown above the tables. */
  summary: { label: string; value: string }[];
  tables: ReportTable[];
  chart?: BarChart;
  notAvailable?: boolean;
}

export const COLORS = {
  primary: '#1f6fb2',
  ok: '#2e9d5b',
  warn: '#e6a23c',
  bad: '#d9363e',
  grey: '#9aa5b1',
  violet: '#7b61c4',
};
const VERDICT_COLORS: Record<string, string> = {
  real_fire: COLORS.bad,
  false_alarm: COLORS.warn,
  test: COLORS.primary,
  device_fault: COLORS.violet,
  unverified: COLORS.grey,
};

export function formatPercent(rate: number | undefined): string {
  return rate === undefined ? '—' : `${(rate * 100).toFixed(2)}%`;
}

export function formatSeconds(s: number | undefined): string {
  return s === undefined ? '—' : s.toFixed(1);
}

/** `YYYY-MM-DD HH:mm` in the county's zone. */
export function formatDateTime(ms: number, timeZone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    })
      .formatToParts(new Date(ms))
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

function durationCols(lang: Lang, prefix: string, what: 'acknowledge' | 'verify' | 'close'): ReportColumn[] {
  return [
    { key: `${prefix}${what}N`, header: `${t(lang, what)} ${t(lang, 'count')}`, kind: 'int' },
    { key: `${prefix}${what}Mean`, header: `${t(lang, what)} ${t(lang, 'meanS')}`, kind: 'seconds' },
    { key: `${prefix}${what}P90`, header: `${t(lang, what)} ${t(lang, 'p90S')}`, kind: 'seconds' },
  ];
}

function durationCells(prefix: string, what: string, d: DurationStats): Record<string, CellValue> {
  return { [`${prefix}${what}N`]: d.n, [`${prefix}${what}Mean`]: d.meanS, [`${prefix}${what}P90`]: d.p90S };
}

/** The report's sections, in order, ready for the Excel and PDF writers. */
export function reportSections(f: ReportFigures, lang: Lang = 'zh'): ReportSection[] {
  const notes = methodNotes(f, lang);
  const instName = new Map(f.institutions.map((i) => [i.id, i.name]));
  const name = (id: string) => instName.get(id) ?? id;
  const tz = f.county.timezone;
  const sections: ReportSection[] = [];

  sections.push({
    id: 'online',
    sheet: t(lang, 'sheetOnline'),
    title: t(lang, 'online'),
    method: notes.online,
    summary: [
      { label: t(lang, 'onlineRate'), value: formatPercent(f.online.total.rate) },
      { label: t(lang, 'devices'), value: String(f.online.total.devices) },
    ],
    chart: {
      title: t(lang, 'onlineByKind'),
      unit: 'percent',
      bars: f.online.byKind
        .filter((k) => k.devices > 0)
        .map((k) => ({ label: t(lang, `kind_${k.kind}`), segments: [{ value: k.rate ?? 0, color: COLORS.primary }] })),
    },
    tables: [
      {
        title: t(lang, 'byKind'),
        columns: [
          { key: 'kind', header: t(lang, 'kind'), kind: 'text' },
          { key: 'devices', header: t(lang, 'devices'), kind: 'int' },
          { key: 'registeredH', header: t(lang, 'registeredH'), kind: 'int' },
          { key: 'onlineH', header: t(lang, 'onlineH'), kind: 'int' },
          { key: 'rate', header: t(lang, 'onlineRate'), kind: 'percent' },
        ],
        rows: [
          ...f.online.byKind.map((k) => ({
            kind: t(lang, `kind_${k.kind}`),
            devices: k.devices,
            registeredH: Math.round(k.registeredS / 3600),
            onlineH: Math.round(k.onlineS / 3600),
            rate: k.rate,
          })),
          {
            kind: t(lang, 'total'),
            devices: f.online.total.devices,
            registeredH: Math.round(f.online.total.registeredS / 3600),
            onlineH: Math.round(f.online.total.onlineS / 3600),
            rate: f.online.total.rate,
          },
        ],
      },
      ...(f.institution
        ? []
        : [
            {
              title: t(lang, 'byInstitution'),
              columns: [
                { key: 'institution', header: t(lang, 'institution'), kind: 'text', weight: 3 },
                { key: 'devices', header: t(lang, 'devices'), kind: 'int' },
                { key: 'rate', header: t(lang, 'onlineRate'), kind: 'percent' },
              ] satisfies ReportColumn[],
              rows: f.online.byInstitution.map((r) => ({
                institution: name(r.institution),
                devices: r.devices,
                rate: r.rate,
              })),
            },
          ]),
    ],
  });

  sections.push({
    id: 'alarms',
    sheet: t(lang, 'sheetAlarms'),
    title: t(lang, 'alarms'),
    method: notes.alarms,
    summary: [
      { label: t(lang, 'alarmsTotal'), value: String(f.alarms.total) },
      { label: t(lang, 'drillAlerts'), value: String(f.alarms.drillAlerts) },
    ],
    chart: {
      title: t(lang, 'alarmsByKind'),
      unit: 'count',
      bars: f.alarms.byKind.map((k) => ({
        label: t(lang, `kind_${k.kind}`),
        segments: (['real_fire', 'false_alarm', 'test', 'device_fault', 'unverified'] as const).map((v) => ({
          value: k[v],
          color: VERDICT_COLORS[v] ?? COLORS.grey,
          legend: t(lang, `verdict_${v}`),
        })),
      })),
    },
    tables: [
      {
        title: t(lang, 'byKindVerdict'),
        columns: [
          { key: 'kind', header: t(lang, 'kind'), kind: 'text' },
          { key: 'total', header: t(lang, 'total'), kind: 'int' },
          ...(['real_fire', 'false_alarm', 'test', 'device_fault', 'unverified'] as const).map(
            (v): ReportColumn => ({ key: v, header: t(lang, `verdict_${v}`), kind: 'int' }),
          ),
        ],
        rows: f.alarms.byKind.map((k) => ({ ...k, kind: t(lang, `kind_${k.kind}`) })),
      },
      {
        title: t(lang, 'bySeverity'),
        columns: [
          { key: 'severity', header: t(lang, 'severity'), kind: 'text' },
          { key: 'count', header: t(lang, 'count'), kind: 'int' },
        ],
        rows: f.alarms.bySeverity.map((s) => ({ severity: t(lang, `severity_${s.severity}`), count: s.count })),
      },
    ],
  });

  const fa = f.falseAlarms;
  const faTotal = fa.byInstitution.reduce((a, r) => a + r.falseAlarms, 0);
  const verTotal = fa.byInstitution.reduce((a, r) => a + r.verified, 0);
  sections.push({
    id: 'false-alarms',
    sheet: t(lang, 'sheetFalseAlarms'),
    title: t(lang, 'falseAlarms'),
    method: notes.falseAlarms,
    summary: [
      { label: t(lang, 'falseAlarmRate'), value: formatPercent(verTotal > 0 ? faTotal / verTotal : undefined) },
      {
        label: t(lang, 'overDailyLimit', { n: fa.dailyLimit }),
        value: String(new Set(fa.overDailyLimit.map((r) => `${r.gateway}/${r.device}`)).size),
      },
    ],
    ...(f.institution
      ? {}
      : {
          chart: {
            title: t(lang, 'falseAlarmTop'),
            unit: 'percent' as const,
            bars: fa.byInstitution
              .filter((r) => r.rate !== undefined && r.falseAlarms > 0)
              .sort((a, b) => (b.rate ?? 0) - (a.rate ?? 0))
              .slice(0, 12)
              .map((r) => ({ label: name(r.institution), segments: [{ value: r.rate ?? 0, color: COLORS.warn }] })),
          },
        }),
    tables: [
      {
        title: t(lang, 'byInstitution'),
        columns: [
          { key: 'institution', header: t(lang, 'institution'), kind: 'text', weight: 3 },
          { key: 'alarms', header: t(lang, 'alarmsTotal'), kind: 'int' },
          { key: 'verified', header: t(lang, 'verified'), kind: 'int' },
          { key: 'falseAlarms', header: t(lang, 'verdict_false_alarm'), kind: 'int' },
          { key: 'rate', header: t(lang, 'falseAlarmRate'), kind: 'percent' },
        ],
        rows: fa.byInstitution.map((r) => ({ ...r, institution: name(r.institution) })),
      },
      {
        title: t(lang, 'byDetector'),
        pdfLimit: 40,
        columns: [
          { key: 'institution', header: t(lang, 'institution'), kind: 'text', weight: 3 },
          { key: 'device', header: t(lang, 'device'), kind: 'text', weight: 2 },
          { key: 'name', header: t(lang, 'deviceName'), kind: 'text', weight: 2.5 },
          { key: 'verified', header: t(lang, 'verified'), kind: 'int' },
          { key: 'falseAlarms', header: t(lang, 'verdict_false_alarm'), kind: 'int' },
          { key: 'rate', header: t(lang, 'falseAlarmRate'), kind: 'percent' },
        ],
        rows: fa.byDetector.map((r) => ({ ...r, institution: name(r.institution) })),
      },
      {
        title: t(lang, 'overDailyLimitTable', { n: fa.dailyLimit }),
        pdfLimit: 40,
        columns: [
          { key: 'day', header: t(lang, 'day'), kind: 'text', weight: 1.5 },
          { key: 'institution', header: t(lang, 'institution'), kind: 'text', weight: 3 },
          { key: 'device', header: t(lang, 'device'), kind: 'text', weight: 2 },
          { key: 'name', header: t(lang, 'deviceName'), kind: 'text', weight: 2.5 },
          { key: 'count', header: t(lang, 'fireAlarms'), kind: 'int' },
        ],
        rows: fa.overDailyLimit.map((r) => ({ ...r, institution: name(r.institution) })),
      },
    ],
  });

  const all = f.response.bySeverity.find((r) => r.severity === 'all');
  sections.push({
    id: 'response',
    sheet: t(lang, 'sheetResponse'),
    title: t(lang, 'response'),
    method: notes.response,
    summary: [
      { label: `${t(lang, 'acknowledge')} ${t(lang, 'meanS')}`, value: formatSeconds(all?.acknowledge.meanS) },
      { label: `${t(lang, 'acknowledge')} ${t(lang, 'p90S')}`, value: formatSeconds(all?.acknowledge.p90S) },
    ],
    tables: [
      {
        title: t(lang, 'bySeverity'),
        columns: [
          { key: 'severity', header: t(lang, 'severity'), kind: 'text' },
          ...durationCols(lang, '', 'acknowledge'),
          ...durationCols(lang, '', 'verify'),
          ...durationCols(lang, '', 'close'),
        ],
        rows: f.response.bySeverity.map((r) => ({
          severity: r.severity === 'all' ? t(lang, 'total') : t(lang, `severity_${r.severity}`),
          ...durationCells('', 'acknowledge', r.acknowledge),
          ...durationCells('', 'verify', r.verify),
          ...durationCells('', 'close', r.close),
        })),
      },
      ...(f.institution
        ? []
        : [
            {
              title: t(lang, 'byInstitution'),
              columns: [
                { key: 'institution', header: t(lang, 'institution'), kind: 'text', weight: 3 },
                ...durationCols(lang, '', 'acknowledge'),
                { key: 'verifyMean', header: `${t(lang, 'verify')} ${t(lang, 'meanS')}`, kind: 'seconds' },
                { key: 'closeMean', header: `${t(lang, 'close')} ${t(lang, 'meanS')}`, kind: 'seconds' },
              ] satisfies ReportColumn[],
              rows: f.response.byInstitution.map((r) => ({
                institution: name(r.institution),
                ...durationCells('', 'acknowledge', r.acknowledge),
                verifyMean: r.verify.meanS,
                closeMean: r.close.meanS,
              })),
            },
          ]),
    ],
  });

  sections.push({
    id: 'escalations',
    sheet: t(lang, 'sheetEscalations'),
    title: t(lang, 'escalations'),
    method: notes.escalations,
    summary: [
      { label: t(lang, 'escalated'), value: String(f.escalations.escalated) },
      { label: t(lang, 'alarmsTotal'), value: String(f.escalations.alerts) },
    ],
    tables: [
      {
        title: t(lang, 'byLevel'),
        columns: [
          { key: 'level', header: t(lang, 'level'), kind: 'text' },
          { key: 'count', header: t(lang, 'count'), kind: 'int' },
        ],
        rows: f.escalations.byLevel.map((l) => ({ level: t(lang, 'levelN', { n: l.level }), count: l.count })),
      },
      ...(f.institution
        ? []
        : [
            {
              title: t(lang, 'byInstitution'),
              columns: [
                { key: 'institution', header: t(lang, 'institution'), kind: 'text', weight: 3 },
                { key: 'alerts', header: t(lang, 'alarmsTotal'), kind: 'int' },
                { key: 'escalated', header: t(lang, 'escalated'), kind: 'int' },
              ] satisfies ReportColumn[],
              rows: f.escalations.byInstitution.map((r) => ({ ...r, institution: name(r.institution) })),
            },
          ]),
    ],
  });

  sections.push({
    id: 'pushes',
    sheet: t(lang, 'sheetPushes'),
    title: t(lang, 'pushes'),
    method: notes.pushes,
    summary: [
      { label: t(lang, 'sent'), value: String(f.pushes.byChannel.reduce((a, c) => a + c.sent, 0)) },
      { label: t(lang, 'failed'), value: String(f.pushes.byChannel.reduce((a, c) => a + c.failed, 0)) },
    ],
    tables: [
      {
        columns: [
          { key: 'channel', header: t(lang, 'channel'), kind: 'text', weight: 2 },
          { key: 'deliveries', header: t(lang, 'deliveries'), kind: 'int' },
          { key: 'sent', header: t(lang, 'sent'), kind: 'int' },
          { key: 'failed', header: t(lang, 'failed'), kind: 'int' },
          { key: 'pending', header: t(lang, 'pending'), kind: 'int' },
          { key: 'attempts', header: t(lang, 'attempts'), kind: 'int' },
          { key: 'skipped', header: t(lang, 'skipped'), kind: 'int' },
        ],
        rows: f.pushes.byChannel.map((c) => ({ ...c, channel: t(lang, `channel_${c.channelType}`) })),
      },
    ],
  });

  sections.push({
    id: 'drills',
    sheet: t(lang, 'sheetDrills'),
    title: t(lang, 'drills'),
    method: notes.drills,
    summary: [
      { label: t(lang, 'drillsHeld'), value: String(f.drills.drills.length) },
      {
        label: t(lang, 'institutionsWithDrill'),
        value: `${f.drills.institutionsWithDrill} / ${f.institutions.length}`,
      },
    ],
    tables: [
      {
        columns: [
          { key: 'startsAt', header: t(lang, 'startedAt'), kind: 'text', weight: 2 },
          { key: 'name', header: t(lang, 'drillName'), kind: 'text', weight: 3 },
          { key: 'institutions', header: t(lang, 'institutions'), kind: 'int' },
          { key: 'alerts', header: t(lang, 'alarmsTotal'), kind: 'int' },
          { key: 'acknowledged', header: t(lang, 'acknowledged'), kind: 'int' },
          { key: 'meanToAcknowledgeS', header: `${t(lang, 'acknowledge')} ${t(lang, 'meanS')}`, kind: 'seconds' },
          { key: 'silentInstitutions', header: t(lang, 'silent'), kind: 'int' },
          { key: 'score', header: t(lang, 'score'), kind: 'int' },
        ],
        rows: f.drills.drills.map((d) => ({ ...d, startsAt: formatDateTime(d.startsAt, tz) })),
      },
    ],
  });

  const sup = f.supervision;
  const counts = [
    { key: 'opened', header: t(lang, 'hazardsOpened'), kind: 'int' },
    { key: 'closed', header: t(lang, 'hazardsClosed'), kind: 'int' },
    { key: 'overdue', header: t(lang, 'hazardsOverdue'), kind: 'int' },
    { key: 'open', header: t(lang, 'hazardsOpen'), kind: 'int' },
  ] satisfies ReportColumn[];
  const gradeName = (g: string | undefined) =>
    g === undefined ? t(lang, 'ungraded') : t(lang, `grade_${g}`, undefined, g);
  sections.push({
    id: 'hazards',
    sheet: t(lang, 'sheetHazards'),
    title: t(lang, 'hazards'),
    method: notes.hazards,
    notAvailable: !sup.available,
    summary: sup.available
      ? [
          { label: t(lang, 'hazardsOpened'), value: String(sup.hazards.opened) },
          { label: t(lang, 'hazardsClosed'), value: String(sup.hazards.closed) },
          { label: t(lang, 'hazardsOverdue'), value: String(sup.hazards.overdue) },
          { label: t(lang, 'hazardsOpen'), value: String(sup.hazards.open) },
        ]
      : [{ label: t(lang, 'status'), value: t(lang, 'notAvailable') }],
    tables: sup.available
      ? [
          {
            columns: [
              { key: 'severity', header: t(lang, 'hazardSeverity'), kind: 'text' },
              ...counts,
              { key: 'closedOnTime', header: t(lang, 'hazardsClosedOnTime'), kind: 'int' },
              { key: 'becameOverdue', header: t(lang, 'hazardsBecameOverdue'), kind: 'int' },
              { key: 'meanDays', header: t(lang, 'hazardsMeanDays'), kind: 'text' },
            ],
            rows: [
              ...sup.bySeverity.map((r) => ({ ...r, severity: t(lang, `hazardSeverity_${r.severity}`) })),
              {
                ...sup.hazards,
                severity: t(lang, 'total'),
                meanDays:
                  sup.hazards.meanDaysToClose === undefined ? undefined : sup.hazards.meanDaysToClose.toFixed(1),
              },
            ],
          },
          {
            title: t(lang, 'riskGrades'),
            columns: [
              { key: 'grade', header: t(lang, 'riskGrade'), kind: 'text' },
              { key: 'institutions', header: t(lang, 'institutions'), kind: 'int' },
            ],
            rows: sup.grades.map((g) => ({ grade: gradeName(g.grade), institutions: g.institutions })),
          },
          {
            title: t(lang, 'hazardsByInstitution'),
            columns: [
              { key: 'institution', header: t(lang, 'institution'), kind: 'text', weight: 3 },
              { key: 'grade', header: t(lang, 'riskGrade'), kind: 'text' },
              ...counts,
            ],
            // Most overdue first: what a county follows up.
            rows: [...sup.byInstitution]
              .sort((x, y) => y.overdue - x.overdue || y.open - x.open || x.institution.localeCompare(y.institution))
              .map((r) => ({ ...r, institution: name(r.institution), grade: gradeName(r.grade) })),
            pdfLimit: 40,
          },
        ]
      : [],
  });

  sections.push({
    id: 'cameras',
    sheet: t(lang, 'sheetCameras'),
    title: t(lang, 'cameras'),
    method: notes.cameras,
    summary: [
      { label: t(lang, 'cameraAvailability'), value: formatPercent(f.cameras.rate) },
      { label: t(lang, 'cameraCount'), value: String(f.cameras.cameras) },
    ],
    tables: [
      {
        columns: [
          { key: 'institution', header: t(lang, 'institution'), kind: 'text', weight: 3 },
          { key: 'cameras', header: t(lang, 'cameraCount'), kind: 'int' },
          { key: 'rate', header: t(lang, 'cameraAvailability'), kind: 'percent' },
        ],
        rows: f.cameras.byInstitution.map((r) => ({ ...r, institution: name(r.institution) })),
      },
    ],
  });
  return sections;
}
