import { type CountyConfig, CountyConfig as CountyConfigSchema } from '@anlian/protocol';
import { neutraliseFormula, restoreNeutralised } from '@anlian/store';
import ExcelJS from 'exceljs';
import { DashboardError, DashboardErrorCode } from '../errors.js';
import { formatCsv, parseCsv } from './csv-format.js';

/**
 * The registry as county staff keep it: one row per device with its institution and gateway, and
 * (in the workbook) a second sheet of contacts. Headers are Chinese with the English key last
 * (`机构编号 institution_id`); import reads the key, so either language's header works.
 */
const DEVICE_COLUMNS = [
  ['机构编号', 'institution_id'],
  ['机构名称', 'institution_name'],
  ['地址', 'address'],
  ['经度', 'lng'],
  ['纬度', 'lat'],
  ['床位', 'beds'],
  ['网关编号', 'gateway_id'],
  ['网关名称', 'gateway_name'],
  ['设备编号', 'device_id'],
  ['类型', 'kind'],
  ['设备名称', 'device_name'],
  ['介质', 'medium'],
  ['楼栋', 'building'],
  ['楼层', 'floor'],
  ['房间', 'room'],
  ['上报间隔秒', 'report_interval_s'],
] as const;
const CONTACT_COLUMNS = [
  ['机构编号', 'institution_id'],
  ['联系人编号', 'contact_id'],
  ['姓名', 'name'],
  ['角色', 'role'],
  ['手机', 'phone'],
  ['企业微信', 'wecom_user_id'],
  ['钉钉', 'dingtalk_user_id'],
] as const;
export const DEVICE_SHEET = '设备 devices';
export const CONTACT_SHEET = '联系人 contacts';

type Row = Record<string, string>;

function deviceRows(c: CountyConfig): (string | number)[][] {
  const out: (string | number)[][] = [];
  for (const i of c.institutions) {
    for (const g of i.gateways) {
      const base = [i.id, i.name, i.address, i.location.lng, i.location.lat, i.beds, g.id, g.name ?? ''];
      if (g.devices.length === 0) out.push([...base, '', '', '', '', '', '', '', '']);
      for (const d of g.devices) {
        out.push([
          ...base,
          d.id,
          d.kind,
          d.name,
          d.medium ?? '',
          d.location.building,
          d.location.floor,
          d.location.room,
          d.reportIntervalS ?? '',
        ]);
      }
    }
  }
  return out;
}

function contactRows(c: CountyConfig): string[][] {
  return c.institutions.flatMap((i) =>
    i.contacts.map((k) => [i.id, k.id, k.name, k.role, k.phone, k.wecomUserId ?? '', k.dingtalkUserId ?? '']),
  );
}

const header = (cols: readonly (readonly [string, string])[]) => cols.map(([zh, en]) => `${zh} ${en}`);

export function registryToCsv(c: CountyConfig): string {
  // A BOM so that Excel opens the Chinese text as UTF-8.
  return `\uFEFF${formatCsv([header(DEVICE_COLUMNS), ...deviceRows(c)])}`;
}

export async function registryToXlsx(c: CountyConfig): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  wb.creator = 'Anlian 安联网';
  const devices = wb.addWorksheet(DEVICE_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  devices.addRow(header(DEVICE_COLUMNS)).font = { bold: true };
  for (const r of deviceRows(c)) devices.addRow(r.map(safeCell));
  const contacts = wb.addWorksheet(CONTACT_SHEET, { views: [{ state: 'frozen', ySplit: 1 }] });
  contacts.addRow(header(CONTACT_COLUMNS)).font = { bold: true };
  for (const r of contactRows(c)) contacts.addRow(r.map(safeCell));
  for (const ws of [devices, contacts]) for (const col of ws.columns) col.width = 16;
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** A text cell a spreadsheet cannot run as a formula; numbers stay numbers. */
const safeCell = (v: string | number): string | number => (typeof v === 'string' ? neutraliseFormula(v) : v);

/** Rows keyed by the header's English key; cells neutralised on export are restored. */
function keyed(table: string[][]): Row[] {
  const [head, ...rows] = table;
  if (!head) return [];
  const keys = head.map((h) => h.trim().split(/\s+/).pop() ?? '');
  return rows.map((r) => Object.fromEntries(keys.map((k, i) => [k, restoreNeutralised(r[i] ?? '').trim()])));
}

function cellText(v: ExcelJS.CellValue): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') {
    if ('text' in v && typeof v.text === 'string') return v.text;
    if ('result' in v) return String(v.result ?? '');
    if ('richText' in v) return v.richText.map((t) => t.text).join('');
    if (v instanceof Date) return v.toISOString();
  }
  return String(v);
}

function sheetTable(ws: ExcelJS.Worksheet | undefined): string[][] {
  if (!ws) return [];
  const table: string[][] = [];
  ws.eachRow({ includeEmpty: false }, (row) => {
    const cells: string[] = [];
    for (let i = 1; i <= ws.columnCount; i++) cells.push(cellText(row.getCell(i).value));
    table.push(cells);
  });
  return table;
}

export async function readRegistryFile(
  body: Buffer,
  format: 'xlsx' | 'csv',
): Promise<{ devices: Row[]; contacts: Row[] | undefined }> {
  if (format === 'csv') return { devices: keyed(parseCsv(body.toString('utf8'))), contacts: undefined };
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(body as unknown as ArrayBuffer);
  } catch (err) {
    throw new DashboardError(DashboardErrorCode.IMPORT_INVALID, `not an Excel workbook: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const devices = wb.worksheets.find((w) => w.name === DEVICE_SHEET) ?? wb.worksheets[0];
  const contacts = wb.worksheets.find((w) => w.name === CONTACT_SHEET);
  return { devices: keyed(sheetTable(devices)), contacts: contacts ? keyed(sheetTable(contacts)) : undefined };
}

/**
 * Rows back into a county file for `Registry.importCounty` (an idempotent upsert: nothing is
 * deleted, gateways without a secret keep their credentials). Errors name the spreadsheet row.
 */
export function rowsToCounty(
  county: CountyConfig['county'],
  devices: Row[],
  contacts: Row[] | undefined,
): CountyConfig {
  const problems: string[] = [];
  const num = (r: Row, k: string, row: number): number => {
    const n = Number(r[k]);
    if (r[k] === '' || !Number.isFinite(n)) problems.push(`row ${row}: ${k} must be a number`);
    return n;
  };
  const institutions = new Map<
    string,
    Record<string, unknown> & {
      gateways: Map<string, { id: string; name?: string; devices: unknown[] }>;
      contacts: unknown[];
    }
  >();
  devices.forEach((r, idx) => {
    const row = idx + 2;
    const iid = r.institution_id ?? '';
    const gid = r.gateway_id ?? '';
    if (!iid || !gid) {
      problems.push(`row ${row}: institution_id and gateway_id are required`);
      return;
    }
    let inst = institutions.get(iid);
    if (!inst) {
      inst = {
        id: iid,
        name: r.institution_name ?? '',
        address: r.address ?? '',
        location: { lng: num(r, 'lng', row), lat: num(r, 'lat', row) },
        beds: num(r, 'beds', row),
        gateways: new Map(),
        contacts: [],
      };
      institutions.set(iid, inst);
    }
    let gw = inst.gateways.get(gid);
    if (!gw) {
      gw = { id: gid, ...(r.gateway_name ? { name: r.gateway_name } : {}), devices: [] };
      inst.gateways.set(gid, gw);
    }
    if (r.device_id) {
      gw.devices.push({
        id: r.device_id,
        kind: r.kind,
        name: r.device_name,
        ...(r.medium ? { medium: r.medium } : {}),
        location: { building: r.building, floor: r.floor, room: r.room },
        ...(r.report_interval_s ? { reportIntervalS: num(r, 'report_interval_s', row) } : {}),
      });
    }
  });
  contacts?.forEach((r, idx) => {
    const inst = institutions.get(r.institution_id ?? '');
    if (!inst) {
      problems.push(`contacts row ${idx + 2}: institution ${r.institution_id} has no device rows`);
      return;
    }
    inst.contacts.push({
      id: r.contact_id,
      name: r.name,
      role: r.role,
      phone: r.phone,
      ...(r.wecom_user_id ? { wecomUserId: r.wecom_user_id } : {}),
      ...(r.dingtalk_user_id ? { dingtalkUserId: r.dingtalk_user_id } : {}),
    });
  });
  if (problems.length > 0)
    throw new DashboardError(DashboardErrorCode.IMPORT_INVALID, problems.slice(0, 20).join('; '), {
      details: problems,
    });
  const candidate = {
    county,
    institutions: [...institutions.values()].map((i) => ({ ...i, gateways: [...i.gateways.values()] })),
  };
  const parsed = CountyConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new DashboardError(DashboardErrorCode.IMPORT_INVALID, issues.slice(0, 20).join('; '), { details: issues });
  }
  return parsed.data;
}
