import { readFile, rename, writeFile } from 'node:fs/promises';
import type { LatestStateCache, LatestStateSnapshot } from '@anlian/bus';
import type { Logger } from '@anlian/runtime';
import { stringifyInSlices } from '@anlian/store';

/**
 * Keeps the latest-state cache across restarts in one JSON file: loaded at start, written every
 * `everyMs` and at stop (to a temporary file, then renamed, so a crash mid-write leaves the
 * previous one). Without it, a restarted county shows devices as unknown until each reports
 * again — an hour for a smoke detector.
 */
export class LatestStateFile {
  #timer: NodeJS.Timeout | undefined;
  #saving: Promise<void> | undefined;

  constructor(
    private readonly path: string,
    private readonly cache: LatestStateCache,
    private readonly logger: Logger,
    private readonly everyMs = 30_000,
  ) {}

  async start(): Promise<void> {
    try {
      const saved = JSON.parse(await readFile(this.path, 'utf8')) as LatestStateSnapshot;
      if (saved.version === 1 && Array.isArray(saved.devices) && Array.isArray(saved.gateways)) {
        this.cache.restore(saved);
        this.logger.info({ devices: saved.devices.length, gateways: saved.gateways.length }, 'latest state restored');
      } else {
        this.logger.warn({ path: this.path }, 'latest-state file of an unknown version; starting empty');
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn({ err, path: this.path }, 'latest-state file unreadable; starting empty');
      }
    }
    this.#timer = setInterval(() => void this.save(), this.everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.save();
  }

  save(): Promise<void> {
    this.#saving ??= (async () => {
      const tmp = `${this.path}.tmp`;
      try {
        const { version, devices, gateways } = this.cache.snapshot();
        await writeFile(tmp, await stringifyInSlices({ version }, { devices, gateways }));
        await rename(tmp, this.path);
      } catch (err) {
        this.logger.warn({ err, path: this.path }, 'latest state not saved');
      } finally {
        this.#saving = undefined;
      }
    })();
    return this.#saving;
  }
}
