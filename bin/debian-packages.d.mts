// Types of bin/debian-packages.mjs (plain JavaScript: it runs before anything is installed or compiled).
export type PackageUse = 'up' | 'test';
export const LIST_FILE: string;
export function readPackageList(root: string): { name: string; uses: PackageUse[] }[];
export function packagesFor(root: string, command: PackageUse): string[];
export function missingPackages(names: string[]): string[] | undefined;
export function ensurePackages(root: string, command: PackageUse, log?: (line: string) => void): number;
