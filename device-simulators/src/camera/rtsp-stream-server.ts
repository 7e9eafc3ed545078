import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { SimErrorCode, SimulatorError } from '../errors.js';

/** The launcher beside the package (device-simulators/rtsp/), from src/ and from dist/ alike. */
export const RTSP_LAUNCHER = fileURLToPath(new URL('../../rtsp/anlian-rtsp-server.py', import.meta.url));

export interface RtspStreamServerOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
  /**
   * Debian's interpreter, which has python3-gi; a pyenv or venv `python3` first on the PATH
   * usually has not.
   */
  python?: string;
}

/**
 * The simulated cameras' RTSP server: Debian's GStreamer RTSP server (gst-rtsp-server through
 * python3-gi) in one child process, driven over its stdin (see the launcher's header). A real
 * RTSP/RTP-over-TCP server, so the gateway's ffprobe and ffmpeg read it as they read a camera.
 */
export class RtspStreamServer {
  readonly #o: RtspStreamServerOptions;
  #child: ChildProcessWithoutNullStreams | undefined;
  #port: number | undefined;
  /** Waiters for `ok <cmd> <mount>` lines, in command order. */
  readonly #waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #stderr = '';

  constructor(opts: RtspStreamServerOptions = {}) {
    this.#o = opts;
  }

  get port(): number {
    if (this.#port === undefined) throw new SimulatorError(SimErrorCode.LIFECYCLE, 'RTSP server not started');
    return this.#port;
  }

  get host(): string {
    return this.#o.host ?? '127.0.0.1';
  }

  url(mount: string): string {
    return `rtsp://${this.host}:${this.port}/${mount}`;
  }

  async start(): Promise<void> {
    const child = spawn(this.#o.python ?? '/usr/bin/python3', [RTSP_LAUNCHER, this.host, String(this.#o.port ?? 0)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child = child;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      this.#stderr = (this.#stderr + s).slice(-2000);
    });
    const lines = createInterface({ input: child.stdout });
    this.#port = await new Promise<number>((resolve, reject) => {
      const fail = (why: string) =>
        reject(
          new SimulatorError(
            SimErrorCode.LIFECYCLE,
            `the RTSP server (GStreamer, ${RTSP_LAUNCHER}) did not start: ${why}${this.#stderr ? `; ${this.#stderr.trim()}` : ''}` +
              ' — it needs python3-gi, gir1.2-gst-rtsp-server-1.0 and gstreamer1.0-plugins-ugly/good/base',
          ),
        );
      child.once('error', (e) => fail(e.message));
      child.once('exit', (code) => fail(`exited with ${code}`));
      lines.on('line', (line) => {
        const [word, arg] = line.split(' ');
        if (word === 'listening') resolve(Number(arg));
        else if (word === 'ok') this.#waiting.shift()?.resolve();
        else if (word === 'error') {
          if (this.#port === undefined) fail(line);
          else this.#waiting.shift()?.reject(new SimulatorError(SimErrorCode.BAD_ARGUMENT, `RTSP server: ${line}`));
        }
      });
    });
    child.removeAllListeners('exit');
    child.removeAllListeners('error');
    child.on('exit', () => {
      for (const w of this.#waiting.splice(0))
        w.reject(new SimulatorError(SimErrorCode.LIFECYCLE, 'RTSP server exited'));
    });
  }

  /** Serves `pipeline` (gst-launch syntax ending in `rtph264pay name=pay0`) at `/<mount>` from the next client on. */
  set(mount: string, pipeline: string): Promise<void> {
    return this.#command(`set ${mount} ${pipeline}`);
  }

  /** Removes the mount: clients get 404 Not Found. */
  unset(mount: string): Promise<void> {
    return this.#command(`unset ${mount}`);
  }

  #command(line: string): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) {
      return Promise.reject(new SimulatorError(SimErrorCode.LIFECYCLE, 'RTSP server not running'));
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      child.stdin.write(`${line.replace(/\n/g, ' ')}\n`);
    });
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.stdin.end(); // the launcher quits when its stdin closes
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }
}
