import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ReportError, ReportErrorCode } from '../errors.js';

/**
 * Where report files live, behind a small interface: a directory here; an object store or a
 * shared volume when several dashboard nodes serve the archive (they share the index table).
 */
export interface ReportStorage {
  put(key: string, data: Buffer): Promise<void>;
  /** Undefined when there is no such file. */
  get(key: string): Promise<Buffer | undefined>;
  delete(key: string): Promise<void>;
}

/** Keys are `/`-separated segments of `A–Z a–z 0–9 _ - .` (no `..`): never a path outside the root. */
const KEY = /^(?:[A-Za-z0-9_-][A-Za-z0-9_.-]*\/)*[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

export class FileReportStorage implements ReportStorage {
  constructor(private readonly root: string) {}

  #path(key: string): string {
    if (!KEY.test(key) || key.split('/').some((s) => s === '..' || s === '.')) {
      throw new ReportError(ReportErrorCode.STORAGE, `not a report file key: ${key}`);
    }
    return join(this.root, key);
  }

  async put(key: string, data: Buffer): Promise<void> {
    const path = this.#path(key);
    await mkdir(dirname(path), { recursive: true });
    // Written whole, then renamed: a reader never sees half a file.
    const tmp = `${path}.${process.pid}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, path);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.#path(key));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new ReportError(ReportErrorCode.STORAGE, `cannot read report file ${key}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }
}
