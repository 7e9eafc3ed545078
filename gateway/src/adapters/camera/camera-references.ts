import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../../logger.js';

/** One camera's reference picture measure, and what it was taken of (a re-pointed camera starts afresh). */
const Reference = z
  .object({
    /** Luma entropy (bits) of its first healthy picture. */
    entropy: z.number().min(0).max(16),
    /** The ONVIF address and media profile it was measured on. */
    url: z.string(),
    profile: z.string().optional(),
    at: z.number().int(),
  })
  .strict();

const ReferenceFile = z.object({ v: z.literal(1), cameras: z.record(z.string(), Reference) }).strict();

/**
 * The cameras' reference entropies, kept in the gateway's data directory
 * (`{dataDir}/adapter-state/{adapter}.json`): occlusion is judged against a camera's own healthy
 * picture, and a gateway that restarts while a lens is covered must not take the covered picture
 * as the new normal. Written to a temporary name and renamed, so a crash leaves the old file or
 * the new one. To start a camera's reference afresh (it was re-aimed on purpose), remove its entry
 * or change its URL or profile.
 */
export class CameraReferences {
  readonly #file: string | undefined;
  readonly #log: Logger;
  #data: z.infer<typeof ReferenceFile> = { v: 1, cameras: {} };
  #writing: Promise<void> = Promise.resolve();

  /** `file` undefined: kept in memory only (an adapter built without a state directory). */
  constructor(file: string | undefined, logger: Logger) {
    this.#file = file;
    this.#log = logger;
  }

  async load(): Promise<void> {
    if (!this.#file) return;
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const parsed = ReferenceFile.safeParse(safeJson(text));
    if (parsed.success) this.#data = parsed.data;
    // A damaged file costs the references (they are measured again), never the gateway.
    else this.#log.warn({ file: this.#file }, 'camera reference file unreadable; measuring references afresh');
  }

  /** The reference of this camera as it is configured now, if one was measured. */
  get(device: string, url: string, profile: string | undefined): number | undefined {
    const r = this.#data.cameras[device];
    return r && r.url === url && r.profile === profile ? r.entropy : undefined;
  }

  /** Records a camera's reference; resolves once it is on disk (never rejects: failures are logged). */
  set(device: string, url: string, profile: string | undefined, entropy: number, at: number): Promise<void> {
    this.#data.cameras[device] = { entropy, url, ...(profile === undefined ? {} : { profile }), at };
    const file = this.#file;
    if (!file) return Promise.resolve();
    const body = `${JSON.stringify(this.#data)}\n`;
    this.#writing = this.#writing.then(async () => {
      try {
        await mkdir(path.dirname(file), { recursive: true });
        const tmp = `${file}.tmp-${process.pid}`;
        await writeFile(tmp, body);
        await rename(tmp, file);
      } catch (err) {
        this.#log.warn({ err, file }, 'camera reference not saved');
      }
    });
    return this.#writing;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
