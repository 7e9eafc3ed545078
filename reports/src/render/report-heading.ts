import type { ReportFigures } from '../figures/report-figures.js';
import { type Lang, t } from './report-labels.js';
import { formatDateTime } from './report-sections.js';

/** The title and the lines that say what the report covers and which data it was computed from. */
export function reportHeading(
  f: ReportFigures,
  lang: Lang,
): { title: string; lines: [string, string][]; header: string } {
  const tz = f.county.timezone;
  const period = lang === 'zh' ? f.period.labelZh : f.period.labelEn;
  const source =
    f.source.kind === 'live'
      ? t(lang, 'sourceLive')
      : t(lang, 'sourceSimulation', {
          run: f.source.runId,
          seed: f.source.seed,
          from: formatDateTime(f.source.startsAt, tz),
          to: formatDateTime(f.source.endsAt, tz),
        });
  const lines: [string, string][] = [
    [t(lang, 'county'), f.county.name],
    ...(f.institution ? ([[t(lang, 'institution'), f.institution.name]] as [string, string][]) : []),
    [t(lang, 'period'), `${period}（${formatDateTime(f.period.fromMs, tz)} — ${formatDateTime(f.period.toMs, tz)}）`],
    [t(lang, 'source'), source],
    [t(lang, 'generatedAt'), formatDateTime(f.generatedAt, tz)],
  ];
  const title = t(lang, f.institution ? 'titleInstitution' : 'title');
  const who = f.institution ? `${f.county.name} · ${f.institution.name}` : f.county.name;
  const simMark = f.source.kind === 'simulation' ? (lang === 'zh' ? ' · 模拟数据' : ' · SIMULATED') : '';
  return { title, lines, header: `${who} · ${title} · ${period}${simMark}` };
}
