import { readFile } from 'node:fs/promises';
import { CountyConfig } from '@anlian/protocol';
import type { Logger } from 'pino';
import type { ImportSummary } from './county-import.js';
import { type OpenDatabaseOptions, openDatabase } from './database.js';
import { StoreError, StoreErrorCode } from './errors.js';
import { jsonErrorPosition } from './json-error-position.js';
import { migrateToLatest } from './migrate.js';
import { Registry } from './registry.js';

/** A county file that cannot be imported; `problems` are `path: message` lines, one per issue. */
export class CountyFileError extends StoreError {
  readonly file: string;
  readonly problems: readonly string[];

  constructor(file: string, problems: readonly string[], options?: ErrorOptions) {
    super(
      StoreErrorCode.COUNTY_INVALID,
      `${file}: ${problems.length === 1 ? 'invalid county file' : `${problems.length} problems`}:\n  ${problems.join('\n  ')}`,
      options,
    );
    this.name = 'CountyFileError';
    this.file = file;
    this.problems = problems;
  }
}

export interface SeedOptions {
  /** Path of a county JSON file (protocol `CountyConfig`). */
  file: string;
  db: OpenDatabaseOptions;
  logger?: Logger;
  /** Where problems with the file are printed, one line each; stderr by default. */
  print?: (line: string) => void;
}

/** Reads and parses a county file: the parsed config, or a `CountyFileError` listing every problem. */
export async function readCountyFile(file: string, print?: (line: string) => void): Promise<CountyConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new StoreError(
      StoreErrorCode.COUNTY_UNREADABLE,
      `cannot read county file ${file}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  // Editors on Windows save UTF-8 with a byte order mark, which JSON.parse refuses.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const at = jsonErrorPosition(text);
    const where = at ? `line ${at.line}, column ${at.column}` : 'unknown position';
    const problem = `${where}: not valid JSON (${(err as Error).message})`;
    print?.(`${file}:${at ? `${at.line}:${at.column}` : ''} ${problem}`);
    throw new CountyFileError(file, [problem], { cause: err });
  }
  const parsed = CountyConfig.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`,
    );
    for (const p of problems) print?.(`${file}: ${p}`);
    throw new CountyFileError(file, problems, { cause: parsed.error });
  }
  return parsed.data;
}

/**
 * `anlian seed FILE`: validates a county file, migrates the store and imports the file.
 * Re-running it with the same file changes nothing.
 */
export async function seedCounty(opts: SeedOptions): Promise<ImportSummary> {
  const print = opts.print ?? ((line: string) => process.stderr.write(`${line}\n`));
  const config = await readCountyFile(opts.file, print);
  const store = openDatabase({ ...opts.db, ...(opts.logger ? { logger: opts.logger } : {}) });
  try {
    await migrateToLatest(store.db, opts.logger);
    const registry = new Registry(store.db, opts.logger ? { logger: opts.logger } : {});
    return await registry.importCounty(config);
  } finally {
    await store.close();
  }
}
