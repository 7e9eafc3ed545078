import { spawn } from 'node:child_process';
import {
  type CameraSimFault,
  isPictureFault,
  type PictureFormat,
  SNAPSHOT_LOOP_S,
  snapshotFramesArgs,
  splitJpegs,
} from './camera-picture.js';

/**
 * The JPEGs simulated cameras serve at their snapshot URI, rendered once per look (a picture fault,
 * or the normal picture) and shared by the cameras of a fleet: a snapshot is then a lookup, as
 * fast as a camera's own, and the simulator's CPU stays out of what a video review measures.
 */
export class SnapshotFrames {
  readonly #picture: PictureFormat;
  readonly #ffmpeg: string;
  readonly #looks = new Map<string, Promise<Buffer[]>>();

  constructor(opts: { picture: PictureFormat; ffmpeg?: string }) {
    this.#picture = opts.picture;
    this.#ffmpeg = opts.ffmpeg ?? 'ffmpeg';
  }

  /** The picture a camera showing `fault` serves at `atMs` (frozen: always the same one). */
  async frame(fault: CameraSimFault, atMs: number): Promise<Buffer> {
    const frames = await this.#frames(isPictureFault(fault) ? fault : 'none');
    return frames[Math.floor(atMs / 1000) % frames.length] as Buffer;
  }

  /** Renders a look ahead of the first snapshot (a fleet warms the normal picture at start). */
  async warm(fault: CameraSimFault = 'none'): Promise<void> {
    await this.#frames(fault);
  }

  #frames(look: CameraSimFault): Promise<Buffer[]> {
    let p = this.#looks.get(look);
    if (!p) {
      p = this.#render(look);
      // A failed render is tried again by the next snapshot rather than remembered.
      p.catch(() => this.#looks.delete(look));
      this.#looks.set(look, p);
    }
    return p;
  }

  #render(look: CameraSimFault): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.#ffmpeg, snapshotFramesArgs(look, this.#picture), { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let err = '';
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => {
        err += b.toString();
      });
      child.once('error', reject);
      child.once('close', (code) => {
        const frames = splitJpegs(Buffer.concat(out));
        const wanted = look === 'frozen' ? 1 : SNAPSHOT_LOOP_S;
        if (code === 0 && frames.length === wanted) resolve(frames);
        else reject(new Error(`ffmpeg snapshot frames (${look}): ${frames.length}/${wanted} pictures; ${err.trim()}`));
      });
    });
  }
}
