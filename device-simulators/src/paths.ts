import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// This file sits at the top of src/ (and of dist/ once built), one level below the package and
// two below the repository root, so the same relative URLs work from source and from the build.

/** The repository root, where `deploy/` lives. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Drill scenarios shipped with the simulators. */
export const SCENARIOS_DIR = fileURLToPath(new URL('../scenarios/', import.meta.url));

/** The demo county, generated from `store/src/demo-county.ts`. */
export const DEMO_COUNTY_FILE = resolve(REPO_ROOT, 'deploy/counties/youyang-demo.json');

/**
 * A scenario argument: a path (relative to the working directory), or the name of a shipped
 * scenario with or without `.yaml` (`kitchen-fire-lunchtime`).
 */
export function resolveScenarioPath(arg: string, cwd = process.cwd()): string {
  const direct = isAbsolute(arg) ? arg : resolve(cwd, arg);
  if (existsSync(direct)) return direct;
  for (const candidate of [resolve(SCENARIOS_DIR, arg), resolve(SCENARIOS_DIR, `${arg}.yaml`)]) {
    if (existsSync(candidate)) return candidate;
  }
  return direct;
}
