import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonErrorPosition } from '../src/json-error-position.js';
import { CountyFileError, readCountyFile, seedCounty } from '../src/seed-command.js';
import { smallCounty } from './registry-suite.js';

describe('seedCounty', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'anlian-seed-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('imports a county file into a new SQLite store, and a second run changes nothing', async () => {
    const file = join(dir, 'county.json');
    await writeFile(file, JSON.stringify(smallCounty(), null, 2));
    const db = { sqlitePath: join(dir, 'data', 'anlian.db') };
    const first = await seedCounty({ file, db });
    expect(first.devices.created).toBe(5);
    expect(first.changes).toBeGreaterThan(0);
    const second = await seedCounty({ file, db });
    expect(second.changes).toBe(0);
  });

  it('prints every schema problem with its path and throws ANL_ERR_COUNTY_INVALID', async () => {
    const county = smallCounty() as unknown as {
      institutions: { gateways: { devices: { kind: string }[] }[]; beds: number }[];
    };
    const inst = county.institutions[0];
    const device = inst?.gateways[0]?.devices[1];
    if (!inst || !device) throw new Error('fixture changed');
    device.kind = 'toaster';
    inst.beds = -1;
    const file = join(dir, 'bad.json');
    await writeFile(file, JSON.stringify(county));
    const printed: string[] = [];
    const err = await seedCounty({
      file,
      db: { sqlitePath: join(dir, 'never.db') },
      print: (l) => printed.push(l),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CountyFileError);
    expect((err as CountyFileError).code).toBe('ANL_ERR_COUNTY_INVALID');
    expect(printed).toHaveLength(2);
    expect(printed.some((l) => l.includes('institutions.0.gateways.0.devices.1.kind: Invalid option'))).toBe(true);
    expect(printed.some((l) => l.includes('institutions.0.beds:'))).toBe(true);
    expect((err as Error).message).toContain('institutions.0.gateways.0.devices.1.kind');
  });

  it('reports duplicate ids from the schema', async () => {
    const county = smallCounty();
    const second = county.institutions[1];
    if (!second) throw new Error('fixture changed');
    second.id = 'inst-a';
    const file = join(dir, 'dup.json');
    await writeFile(file, JSON.stringify(county));
    await expect(readCountyFile(file)).rejects.toMatchObject({
      code: 'ANL_ERR_COUNTY_INVALID',
      problems: [expect.stringMatching(/^institutions\.1\.id: duplicate institution id "inst-a"/)],
    });
  });

  it('reports the line and column of a JSON syntax error', async () => {
    const file = join(dir, 'syntax.json');
    await writeFile(file, '{\n  "county": {\n    "id": "x",\n  },\n}\n');
    const printed: string[] = [];
    const err = (await readCountyFile(file, (l) => printed.push(l)).catch((e: unknown) => e)) as CountyFileError;
    expect(err.code).toBe('ANL_ERR_COUNTY_INVALID');
    expect(err.problems[0]).toMatch(/^line 4, column 3: not valid JSON/);
    expect(printed[0]).toContain(`${file}:4:3`);
  });

  it('accepts a UTF-8 byte order mark, and says when the file cannot be read', async () => {
    const file = join(dir, 'bom.json');
    await writeFile(file, `\uFEFF${JSON.stringify(smallCounty())}`);
    expect((await readCountyFile(file)).county.id).toBe('testcounty');
    await expect(readCountyFile(join(dir, 'missing.json'))).rejects.toMatchObject({
      code: 'ANL_ERR_COUNTY_UNREADABLE',
    });
  });
});

describe('jsonErrorPosition', () => {
  it.each([
    ['{"a": 1}', undefined],
    ['[1, 2.5e3, "x\\u00e9", true, false, null, {}]', undefined],
    ['{"a": 1,}', { line: 1, column: 9 }],
    ['[1,2,,3]', { line: 1, column: 6 }],
    ['{"a": tru}', { line: 1, column: 10 }],
    ['{\n"a": 1\n"b": 2}', { line: 3, column: 1 }],
    ['{"a": "x\ny"}', { line: 1, column: 9 }],
    ['', { line: 1, column: 1 }],
    ['{"a": 1} x', { line: 1, column: 10 }],
    ['{"a": 01}', { line: 1, column: 8 }],
  ])('%j → %j', (text, expected) => {
    const at = jsonErrorPosition(text);
    if (expected === undefined) {
      expect(at).toBeUndefined();
      expect(() => JSON.parse(text)).not.toThrow();
    } else {
      expect(at).toMatchObject(expected);
      expect(() => JSON.parse(text)).toThrow();
    }
  });
});
