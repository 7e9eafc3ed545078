// Types of bin/build.mjs (plain JavaScript: it runs before anything is installed or compiled).
export type BuildStep = 'npm' | 'tsc' | 'web';
/** Each step's reason to run, or null when it is up to date. */
export type StalePlan = Record<BuildStep, string | null>;
export const WEB_DIST: string;
export const WEB_INPUTS_FILE: string;
export function newestMtime(path: string, skip?: Set<string>): number;
export function workspaces(root: string): string[];
export function stalePlan(root: string): StalePlan;
export function build(root: string, opts?: { log?: (line: string) => void; steps?: BuildStep[] }): BuildStep[];
