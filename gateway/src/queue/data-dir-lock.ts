import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GatewayError } from '../errors.js';

/**
 * One gateway process per data directory: two writers would interleave records in the same
 * segment. The lock file holds the owner's pid; a lock left by a killed process (the pid no
 * longer runs) is taken over, which is what happens after SIGKILL or a power cut.
 */
export class DataDirLock {
  readonly #file: string;
  #held = false;

  constructor(dir: string) {
    this.#file = path.join(dir, 'gateway.lock');
  }

  acquire(): void {
    mkdirSync(path.dirname(this.#file), { recursive: true });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.#file, String(process.pid), { flag: 'wx' });
        this.#held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = Number(readFileSync(this.#file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isRunning(owner)) {
        throw new GatewayError('ANL_GW_QUEUE_LOCKED', `${path.dirname(this.#file)} is in use by process ${owner}`);
      }
      unlinkSync(this.#file);
    }
    throw new GatewayError('ANL_GW_QUEUE_LOCKED', `could not lock ${path.dirname(this.#file)}`);
  }

  release(): void {
    if (!this.#held) return;
    this.#held = false;
    try {
      unlinkSync(this.#file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
