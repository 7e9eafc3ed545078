import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isMediaKey, type MediaRecord, type MediaStore, mediaKey, type NewMedia } from './media-store.js';

/**
 * Pictures as files: `{root}/{institution}/{yyyymmdd}/{id}.jpg` with a `.json` record beside
 * each, written to a temporary name, fsync'd and renamed, so a crash leaves either the whole
 * picture or nothing. The id is a hash of (gateway, camera, cause, shot): a redelivered snapshot
 * overwrites itself. One directory per institution keeps its pictures apart (and easy to hand over).
 */
export class FilesystemMediaStore implements MediaStore {
  readonly #root: string;

  constructor(opts: { root: string }) {
    this.#root = opts.root;
  }

  async put(meta: NewMedia, data: Buffer, receivedAt = Date.now()): Promise<MediaRecord> {
    const key = mediaKey(meta);
    const record: MediaRecord = { ...meta, key, bytes: data.length, receivedAt };
    const file = this.#file(key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeDurably(file, data);
    await writeDurably(`${file}.json`, Buffer.from(JSON.stringify(record)));
    return record;
  }

  async get(key: string): Promise<{ record: MediaRecord; data: Buffer } | undefined> {
    if (!isMediaKey(key)) return undefined;
    const file = this.#file(key);
    try {
      const [data, json] = await Promise.all([readFile(file), readFile(`${file}.json`, 'utf8')]);
      return { record: JSON.parse(json) as MediaRecord, data };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async findByCause(institution: string, detector: string, fromTs: number, toTs: number): Promise<MediaRecord[]> {
    const out: MediaRecord[] = [];
    const days = new Set<string>();
    for (let t = fromTs; t <= toTs + 86_400_000; t += 86_400_000) {
      if (t > toTs) t = toTs;
      days.add(new Date(t).toISOString().slice(0, 10).replaceAll('-', ''));
      if (t === toTs) break;
    }
    for (const day of days) {
      const dir = path.join(this.#root, institution, day);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        continue; // no pictures that day
      }
      for (const n of names) {
        if (!n.endsWith('.jpg.json')) continue;
        const r = JSON.parse(await readFile(path.join(dir, n), 'utf8')) as MediaRecord;
        if (r.cause.device === detector && r.cause.ts >= fromTs && r.cause.ts <= toTs) out.push(r);
      }
    }
    return out.sort((a, b) => a.shot - b.shot || a.device.localeCompare(b.device));
  }

  async purge(beforeMs: number): Promise<number> {
    let removed = 0;
    const cutoff = new Date(beforeMs).toISOString().slice(0, 10).replaceAll('-', '');
    let institutions: string[];
    try {
      institutions = await readdir(this.#root);
    } catch {
      return 0;
    }
    for (const inst of institutions) {
      const instDir = path.join(this.#root, inst);
      if (!(await stat(instDir)).isDirectory()) continue;
      for (const day of await readdir(instDir)) {
        const dir = path.join(instDir, day);
        if (day < cutoff) {
          removed += (await readdir(dir)).filter((n) => n.endsWith('.jpg')).length;
          await rm(dir, { recursive: true, force: true });
        } else if (day === cutoff) {
          for (const n of (await readdir(dir)).filter((x) => x.endsWith('.jpg.json'))) {
            const r = JSON.parse(await readFile(path.join(dir, n), 'utf8')) as MediaRecord;
            if (r.receivedAt < beforeMs) {
              await rm(path.join(dir, n.slice(0, -5)), { force: true });
              await rm(path.join(dir, n), { force: true });
              removed++;
            }
          }
        }
      }
    }
    return removed;
  }

  #file(key: string): string {
    return path.join(this.#root, ...key.split('/'));
  }
}

async function writeDurably(file: string, data: Buffer): Promise<void> {
  // Unique per write: two deliveries of one snapshot stored at once must not share a temporary file.
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
}
