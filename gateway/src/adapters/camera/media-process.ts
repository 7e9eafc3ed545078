import { spawn } from 'node:child_process';

export interface MediaProcessResult {
  code: number | null;
  stdout: Buffer;
  /** The last 16 KiB of stderr. */
  stderr: string;
  /** Killed by the time limit. */
  timedOut: boolean;
  elapsedMs: number;
}

const STDERR_KEEP = 16 * 1024;

/**
 * Runs Debian's ffmpeg or ffprobe directly (fluent-ffmpeg is archived): no shell, a hard time
 * limit (SIGKILL: a hung RTSP read must not hold a process slot), stdout kept up to `maxStdout`.
 */
export function runMediaProcess(
  command: string,
  args: readonly string[],
  opts: { timeoutMs: number; maxStdout?: number; signal?: AbortSignal; stdin?: Buffer },
): Promise<MediaProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    // ffmpeg reads commands (`q`) from stdin: give it the input, or an empty one.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin);
    const abort = () => child.kill('SIGKILL');
    opts.signal?.addEventListener('abort', abort, { once: true });
    const out: Buffer[] = [];
    let outBytes = 0;
    let err = '';
    let timedOut = false;
    const started = performance.now();
    const max = opts.maxStdout ?? 8 * 1024 * 1024;
    child.stdout.on('data', (b: Buffer) => {
      if (outBytes < max) out.push(b);
      outBytes += b.length;
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      err = (err + s).slice(-STDERR_KEEP);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      reject(e);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', abort);
      resolve({ code, stdout: Buffer.concat(out), stderr: err, timedOut, elapsedMs: performance.now() - started });
    });
  });
}
