import { type ChildProcess, spawn } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PortReservation, reservePort } from '@anlian/timeseries';

export interface RedisOptions {
  /** Path of redis-server. Default `/usr/bin/redis-server` (Debian package `redis-server`). */
  binary?: string;
  /** Working directory (created when missing, kept by `stop()`); default a temp dir that `stop()` removes. */
  dataDir?: string;
  /** How long to wait for the server to accept TCP. Default 10 s. */
  startTimeoutMs?: number;
  /** Run redis-server in its own process group: Ctrl-C in a terminal then reaches only the parent, which stops it in order. */
  ownProcessGroup?: boolean;
}

export interface Redis {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  readonly pid: number | undefined;
  logTail(): string;
  /** SIGTERM and stays stopped (a Redis outage, its streams lost as in a real restart), until `resume()`. */
  halt(): Promise<void>;
  /** Starts it again after `halt()`, on the same port. */
  resume(): Promise<void>;
  /** SIGTERM (SIGKILL after 10 s), then removes the directory unless it was the given `dataDir`. */
  stop(): Promise<void>;
}

const LOG_TAIL_LINES = 60;
const BIND_ATTEMPTS = 3;

/**
 * A private redis-server on 127.0.0.1 at a free port, for socket.io's Redis Streams adapter
 * between dashboard nodes. Nothing is saved to disk: the adapter's stream holds seconds of
 * cross-node messages, which a restart may drop (the nodes' clients recover their state).
 */
export async function startRedis(opts: RedisOptions = {}): Promise<Redis> {
  const binary = opts.binary ?? '/usr/bin/redis-server';
  try {
    await access(binary, constants.X_OK);
  } catch {
    throw new Error(`redis-server not found at ${binary}: install it (Debian/Ubuntu: apt-get install redis-server)`);
  }
  const dir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'anlian-redis-')));
  if (opts.dataDir) await mkdir(dir, { recursive: true });
  const keep = opts.dataDir !== undefined;
  try {
    for (let attempt = 1; ; attempt++) {
      const reservation = await reservePort();
      const server = new RedisProcess(
        binary,
        dir,
        reservation,
        keep,
        opts.ownProcessGroup ?? false,
        opts.startTimeoutMs ?? 10_000,
      );
      try {
        await server.spawn(server.startTimeoutMs);
        return server;
      } catch (err) {
        reservation.release();
        // A process outside reservePort's scheme may have taken the port first.
        if (attempt < BIND_ATTEMPTS && /Address already in use/i.test(server.logTail())) continue;
        throw err;
      }
    }
  } catch (err) {
    if (!keep) await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

class RedisProcess implements Redis {
  readonly url: string;
  readonly port: number;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  readonly #tail: string[] = [];
  readonly #onExit = () => this.#child?.kill('SIGKILL');

  constructor(
    readonly binary: string,
    readonly dir: string,
    readonly reservation: PortReservation,
    readonly keepDir: boolean,
    readonly ownProcessGroup: boolean,
    readonly startTimeoutMs: number,
  ) {
    this.port = reservation.port;
    this.url = `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  logTail(): string {
    return this.#tail.join('\n');
  }

  async spawn(timeoutMs: number): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--logfile',
      '',
    ];
    const child = spawn(this.binary, args, {
      cwd: this.dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.ownProcessGroup,
    });
    this.#child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => this.#remember(chunk));
    }
    let exitInfo: string | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = `exit code ${code} signal ${signal}`;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `spawn error ${err.message}`;
        resolve();
      });
    });
    // A test runner that exits without calling stop() must not leave a server behind.
    process.once('exit', this.#onExit);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && exitInfo === undefined) {
      if (await accepts(this.port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.#halt();
    throw new Error(
      `redis-server did not start (${exitInfo ?? `not accepting within ${timeoutMs} ms`}). Log tail:\n${this.logTail()}`,
    );
  }

  #remember(text: string): void {
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      this.#tail.push(line);
      if (this.#tail.length > LOG_TAIL_LINES) this.#tail.shift();
    }
  }

  async #halt(): Promise<void> {
    const child = this.#child;
    process.removeListener('exit', this.#onExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.#exited;
      clearTimeout(timer);
    }
    this.#child = undefined;
  }

  halt(): Promise<void> {
    return this.#halt();
  }

  resume(): Promise<void> {
    return this.spawn(this.startTimeoutMs);
  }

  async stop(): Promise<void> {
    await this.#halt();
    this.reservation.release();
    if (!this.keepDir) await rm(this.dir, { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    // Refused while the server boots: poll again.
    socket.once('error', () => resolve(false));
  });
}
