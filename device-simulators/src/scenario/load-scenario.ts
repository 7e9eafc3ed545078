import { readFile } from 'node:fs/promises';
import { formatIssues, issuesWithPositions, parseWithPositions } from '@anlian/protocol';
import { SimErrorCode, SimulatorError } from '../errors.js';
import { Scenario, type ScenarioInput } from './scenario-schema.js';

/** Where a scenario came from, so that a fault that selects nothing can be reported by line. */
export interface ScenarioSource {
  file: string;
  /** 1-based line of each fault, by index. */
  faultLines: readonly number[];
}

export type LoadedScenario = Scenario & { source?: ScenarioSource };

/**
 * Parses a scenario from YAML or JSON text. Every problem is reported with its line, column
 * and field path: `kitchen.yaml: line 12, column 11: faults.1.type: unknown value; expected one of: …`.
 */
export function parseScenario(text: string, file = 'scenario'): LoadedScenario {
  const parsed = parseWithPositions(text);
  if (!parsed.ok) {
    throw new SimulatorError(
      SimErrorCode.SCENARIO_INVALID,
      `scenario ${file} is not valid YAML/JSON:\n${formatIssues(file, parsed.issues)}`,
      parsed.issues,
    );
  }
  const result = Scenario.safeParse(parsed.value.doc.toJS());
  if (!result.success) {
    const issues = issuesWithPositions(result.error.issues, parsed.value);
    throw new SimulatorError(
      SimErrorCode.SCENARIO_INVALID,
      `scenario ${file} is invalid:\n${formatIssues(file, issues)}`,
      issues,
    );
  }
  const faults = parsed.value.doc.get('faults', true) as { items?: { range?: [number, number, number] }[] } | undefined;
  const faultLines = result.data.faults.map((_, i) => {
    const offset = faults?.items?.[i]?.range?.[0];
    return offset === undefined ? 0 : parsed.value.lines.linePos(offset).line;
  });
  return { ...result.data, source: { file, faultLines } };
}

/** Reads and parses a scenario file (`.yaml`, `.yml` or `.json`). */
export async function loadScenario(file: string): Promise<LoadedScenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SimulatorError(SimErrorCode.SCENARIO_INVALID, `cannot read scenario ${file}: ${(err as Error).message}`);
  }
  return parseScenario(text, file);
}

/** A scenario built in code (tests, `anlian up --demo`); the same checks as a file. */
export function defineScenario(input: ScenarioInput): Scenario {
  return Scenario.parse(input);
}
