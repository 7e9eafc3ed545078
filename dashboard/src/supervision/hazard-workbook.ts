import {
  categoryLabel,
  chinaDateTime,
  HAZARD_SEVERITY_ZH,
  HAZARD_SOURCE_ZH,
  HAZARD_STATUS_ZH,
  type Hazard,
  type RectificationRow,
} from '@anlian/supervision';
import ExcelJS from 'exceljs';

/** Which of the three lists (三个清单, seeds 001 and 004) to export; `all` puts each on a sheet. */
export type HazardListName = 'hazards' | 'measures' | 'responsibilities' | 'all';

export interface HazardWorkbookInput {
  hazards: readonly Hazard[];
  rectifications: readonly RectificationRow[];
  institutionName: (id: string) => string;
  contactPhone: (institution: string, contactId: string) => string | undefined;
  /** What the export was filtered by, written above each sheet's table. */
  filterNote: string;
  generatedAt: number;
}

/**
 * A spreadsheet cell must never be read as a formula (OWASP, "CSV injection"): text that starts
 * with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading apostrophe, which Excel and
 * WPS show as text. exceljs writes strings as text already; this also protects the cells after a
 * person edits and re-saves the file, and any CSV made from it.
 */
export function neutralise(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

const when = (ms: number | null) => (ms === null ? '' : chinaDateTime(ms));

const SHEETS = {
  hazards: {
    name: '隐患清单',
    columns: [
      ['编号', 24],
      ['机构', 22],
      ['类别', 14],
      ['等级', 10],
      ['来源', 14],
      ['隐患', 36],
      ['详情', 48],
      ['位置', 16],
      ['发现时间', 18],
      ['发现人', 12],
      ['状态', 10],
      ['整改期限', 18],
      ['是否逾期', 10],
      ['销号时间', 18],
    ],
  },
  measures: {
    name: '整改清单',
    columns: [
      ['隐患编号', 24],
      ['机构', 22],
      ['隐患', 36],
      ['等级', 10],
      ['整改措施', 48],
      ['提交人', 12],
      ['提交时间', 18],
      ['照片', 8],
      ['复查结果', 10],
      ['复查人', 12],
      ['复查时间', 18],
      ['复查意见', 36],
    ],
  },
  responsibilities: {
    name: '责任清单',
    columns: [
      ['隐患编号', 24],
      ['隐患', 36],
      ['等级', 10],
      ['责任单位', 22],
      ['整改责任人', 12],
      ['联系电话', 14],
      ['监管责任人', 12],
      ['整改期限', 18],
      ['状态', 10],
      ['是否逾期', 10],
      ['逾期通报次数', 12],
    ],
  },
} as const;

function rows(name: Exclude<HazardListName, 'all'>, input: HazardWorkbookInput): (string | number)[][] {
  switch (name) {
    case 'hazards':
      return input.hazards.map((h) => [
        h.id,
        input.institutionName(h.institution),
        categoryLabel(h.category).zh,
        HAZARD_SEVERITY_ZH[h.severity],
        HAZARD_SOURCE_ZH[h.source],
        h.title,
        h.description,
        h.location ?? '',
        when(h.foundAt),
        h.foundBy,
        HAZARD_STATUS_ZH[h.status],
        when(h.deadlineAt),
        h.overdue ? '是' : '否',
        when(h.closedAt),
      ]);
    case 'measures':
      return input.rectifications.map((r) => [
        r.hazardId,
        input.institutionName(r.institution),
        r.hazardTitle,
        HAZARD_SEVERITY_ZH[r.severity],
        r.measures,
        r.submittedBy,
        when(r.submittedAt),
        r.photos.length,
        r.review === 'accepted' ? '通过' : r.review === 'rejected' ? '退回' : '待复查',
        r.reviewedBy ?? '',
        when(r.reviewedAt),
        r.reviewNote ?? '',
      ]);
    case 'responsibilities':
      return input.hazards.map((h) => [
        h.id,
        h.title,
        HAZARD_SEVERITY_ZH[h.severity],
        input.institutionName(h.institution),
        h.owner?.name ?? '（未交办）',
        h.owner ? (input.contactPhone(h.institution, h.owner.contactId) ?? '') : '',
        h.supervisor ?? '',
        when(h.deadlineAt),
        HAZARD_STATUS_ZH[h.status],
        h.overdue ? '是' : '否',
        h.escalationCount,
      ]);
    default: {
      const unknown: never = name;
      throw new Error(`unknown list ${String(unknown)}`);
    }
  }
}

/** The lists as an Excel workbook: one sheet per list, a note of the filter and time on top. */
export async function hazardWorkbook(list: HazardListName, input: HazardWorkbookInput): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Anlian 安联网';
  wb.created = new Date(input.generatedAt);
  const names = list === 'all' ? (['hazards', 'measures', 'responsibilities'] as const) : ([list] as const);
  for (const name of names) {
    const sheet = SHEETS[name];
    const ws = wb.addWorksheet(sheet.name, { views: [{ state: 'frozen', ySplit: 2 }] });
    ws.addRow([neutralise(`${sheet.name}（${input.filterNote}；导出时间 ${chinaDateTime(input.generatedAt)}）`)]);
    ws.addRow(sheet.columns.map(([title]) => title)).font = { bold: true };
    for (const r of rows(name, input)) {
      ws.addRow(r.map((v) => (typeof v === 'string' ? neutralise(v) : v)));
    }
    sheet.columns.forEach(([, width], i) => {
      ws.getColumn(i + 1).width = width;
    });
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}
