import { readFile } from 'node:fs/promises';
import { CountyConfig, formatIssues, issuesWithPositions, parseWithPositions } from '@anlian/protocol';
import { SimErrorCode, SimulatorError } from '../errors.js';

/**
 * Parses a county file (`CountyConfig`). The happy path is `JSON.parse` (a demo county is
 * ~600 kB); only on failure is the text parsed again with positions, so errors name the line.
 */
export function parseCounty(text: string, file = 'county'): CountyConfig {
  let json: unknown;
  let jsonOk = true;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: a YAML county file, or broken JSON; the positioned parse below says which.
    jsonOk = false;
  }
  if (jsonOk) {
    const quick = CountyConfig.safeParse(json);
    if (quick.success) return quick.data;
  }
  const parsed = parseWithPositions(text);
  if (!parsed.ok) {
    throw new SimulatorError(
      SimErrorCode.COUNTY_INVALID,
      `county ${file} does not parse:\n${formatIssues(file, parsed.issues)}`,
      parsed.issues,
    );
  }
  const result = CountyConfig.safeParse(parsed.value.doc.toJS());
  if (result.success) return result.data;
  const issues = issuesWithPositions(result.error.issues, parsed.value);
  throw new SimulatorError(
    SimErrorCode.COUNTY_INVALID,
    `county ${file} is invalid:\n${formatIssues(file, issues.slice(0, 20))}`,
    issues,
  );
}

export async function loadCountyFile(file: string): Promise<CountyConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SimulatorError(SimErrorCode.COUNTY_INVALID, `cannot read county ${file}: ${(err as Error).message}`);
  }
  return parseCounty(text, file);
}

/**
 * The first `count` institutions of the county (file order), plus any listed in `include`
 * (a scenario's targets), so that `--institutions 3` never cuts away the drill's institution.
 */
export function selectInstitutions(
  county: CountyConfig,
  count: number | undefined,
  include: Iterable<string> = [],
): CountyConfig {
  if (count === undefined) return county;
  const keep = new Set(include);
  const institutions = county.institutions.filter((inst, i) => i < count || keep.has(inst.id));
  return { ...county, institutions };
}
