import { type ChildProcess, spawn } from 'node:child_process';
import { access, chown, constants, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PortReservation, reservePort } from '@anlian/timeseries';
import pg from 'pg';

export interface StartPostgresOptions {
  /** Folder with initdb and postgres. Default: `$PG_BIN`, else the newest `/usr/lib/postgresql/N/bin`. */
  binDir?: string;
  /** Name of the database created for the test. Default `anlian_test`. */
  database?: string;
  /** How long to wait for the server to accept connections. Default 60 s. */
  startTimeoutMs?: number;
  /**
   * Keep the cluster here (initdb on first use, reused afterwards, kept by `stop()`), durable
   * (fsync on), instead of a throwaway directory with durability off. As root the server runs as
   * `postgres`, which must be able to enter every parent directory.
   */
  dataDir?: string;
  /** Run the server in its own process group: Ctrl-C in a terminal then reaches only the parent, which stops it in order. */
  ownProcessGroup?: boolean;
}

export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:PORT/DATABASE` (trust authentication). */
  readonly url: string;
  readonly port: number;
  /** The postmaster's process id while it runs. */
  readonly pid: number | undefined;
  /** The last lines the server printed, for failure messages. */
  logTail(): string;
  /** Fast shutdown and stays stopped (a database outage), until `resume()`; keeps the data. */
  halt(): Promise<void>;
  /** Starts the server again after `halt()`, on the same port and data. */
  resume(): Promise<void>;
  /**
   * Freezes the server (SIGSTOP to the postmaster and every backend) until `thaw()`: a hung or
   * partitioned database server. Connections stay open and the kernel still accepts new ones,
   * but nothing answers — a client without timeouts waits for as long as it lasts.
   */
  freeze(): Promise<void>;
  /** SIGCONT to what `freeze()` stopped and to any process the postmaster has now. */
  thaw(): Promise<void>;
  /** Fast shutdown, then removes the data directory (unless it was the given `dataDir`). Safe to call twice. */
  stop(): Promise<void>;
}

const LOG_TAIL_LINES = 60;
const INSTALL_HINT = 'integration tests need the PostgreSQL server binaries (Debian: apt-get install postgresql)';

/**
 * A throwaway PostgreSQL cluster for integration tests: initdb into a temp dir, the server on a
 * free port bound to 127.0.0.1 with its socket in that dir, trust authentication, durability
 * switched off (a test database lives for seconds). When the process runs as root, the server
 * runs as the Debian `postgres` user, because postgres refuses to run as root.
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<TestPostgres> {
  const binDir = opts.binDir ?? (await findPostgresBinDir());
  const initdb = join(binDir, 'initdb');
  const postgres = join(binDir, 'postgres');
  for (const bin of [initdb, postgres]) {
    try {
      await access(bin, constants.X_OK);
    } catch {
      throw new Error(`${bin} is missing or not executable: ${INSTALL_HINT}`);
    }
  }
  const user = process.getuid?.() === 0 ? await systemUser('postgres') : undefined;
  const keep = opts.dataDir !== undefined;
  const dir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'anlian-pg-')));
  const log = new LogTail();
  let server: ServerProcess | undefined;
  // Held until stop(): no other test worker or process on this machine picks the same port.
  let reservation: PortReservation | undefined;
  try {
    if (keep) await mkdir(dir, { recursive: true, mode: 0o700 });
    if (user) await chown(dir, user.uid, user.gid);
    const dataDir = join(dir, 'data');
    const initialised = await access(join(dataDir, 'PG_VERSION')).then(
      () => true,
      () => false,
    );
    if (!initialised) {
      await run(
        initdb,
        [
          '-D',
          dataDir,
          '-U',
          'postgres',
          '--auth=trust',
          '--encoding=UTF8',
          '--locale=C',
          ...(keep ? [] : ['--no-sync']),
        ],
        { cwd: dir, user, log },
      );
    }
    const database = opts.database ?? 'anlian_test';
    // A reserved port is free of other reservers; a process outside the scheme binding it
    // meanwhile is still possible in principle, so a bind failure is retried on another.
    for (let attempt = 1; ; attempt++) {
      reservation = await reservePort();
      const candidate = new ServerProcess(postgres, dataDir, dir, reservation.port, user, log, {
        durable: keep,
        ownProcessGroup: opts.ownProcessGroup ?? false,
      });
      try {
        await candidate.start(opts.startTimeoutMs ?? 60_000);
        server = candidate;
        break;
      } catch (err) {
        await candidate.stop();
        reservation.release();
        if (attempt >= 3 || !/could not bind|address already in use/i.test(log.text())) throw err;
      }
    }
    const admin = new pg.Client({ host: '127.0.0.1', port: server.port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replaceAll('"', '""')}"`);
    } finally {
      await admin.end();
    }
    const running = server;
    const held = reservation;
    let stopped: Promise<void> | undefined;
    return {
      url: `postgres://postgres@127.0.0.1:${running.port}/${encodeURIComponent(database)}`,
      port: running.port,
      get pid() {
        return running.pid;
      },
      logTail: () => log.text(),
      halt: () => running.stop(),
      resume: () => running.start(opts.startTimeoutMs ?? 60_000),
      freeze: () => running.signalAll('SIGSTOP'),
      thaw: () => running.signalAll('SIGCONT'),
      stop: () => {
        stopped ??= (async () => {
          await running.stop();
          held.release();
          if (!keep) await rm(dir, { recursive: true, force: true });
        })();
        return stopped;
      },
    };
  } catch (err) {
    await server?.stop();
    reservation?.release();
    if (!keep) await rm(dir, { recursive: true, force: true });
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`PostgreSQL did not start: ${message}\n--- server log (last lines) ---\n${log.text()}`, {
      cause: err,
    });
  }
}

/** `$PG_BIN`, else the highest-numbered `/usr/lib/postgresql/N/bin` that has initdb. */
async function findPostgresBinDir(): Promise<string> {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  let versions: string[];
  try {
    versions = await readdir(root);
  } catch {
    throw new Error(`no PostgreSQL server under ${root} and PG_BIN is not set: ${INSTALL_HINT}`);
  }
  for (const v of versions.filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a))) {
    const bin = join(root, v, 'bin');
    try {
      await access(join(bin, 'initdb'), constants.X_OK);
      return bin;
    } catch {
      // This version has only client tools; try an older one.
    }
  }
  throw new Error(`no initdb under ${root}/*/bin and PG_BIN is not set: ${INSTALL_HINT}`);
}

interface SystemUser {
  name: string;
  uid: number;
  gid: number;
}

async function systemUser(name: string): Promise<SystemUser> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name) return { name, uid: Number(uid), gid: Number(gid) };
  }
  throw new Error(`running as root, and there is no "${name}" user to run the server as: ${INSTALL_HINT}`);
}

function childEnv(user: SystemUser | undefined): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LC_ALL: 'C',
    LANG: 'C',
    ...(user ? { HOME: tmpdir(), USER: user.name, LOGNAME: user.name } : { HOME: process.env.HOME ?? tmpdir() }),
  };
}

function spawnAs(
  bin: string,
  args: string[],
  cwd: string,
  user: SystemUser | undefined,
  ownProcessGroup = false,
): ChildProcess {
  return spawn(bin, args, {
    cwd,
    env: childEnv(user),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: ownProcessGroup,
    ...(user ? { uid: user.uid, gid: user.gid } : {}),
  });
}

async function run(
  bin: string,
  args: string[],
  opts: { cwd: string; user: SystemUser | undefined; log: LogTail },
): Promise<void> {
  const child = spawnAs(bin, args, opts.cwd, opts.user);
  opts.log.follow(child);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (c) => resolve(c));
  });
  if (code !== 0) throw new Error(`${bin} exited with code ${code}`);
}

class ServerProcess {
  #child: ChildProcess | undefined;
  #exited: Promise<void> | undefined;
  #onExit = () => this.#child?.kill('SIGKILL');

  constructor(
    readonly bin: string,
    readonly dataDir: string,
    readonly socketDir: string,
    readonly port: number,
    readonly user: SystemUser | undefined,
    readonly log: LogTail,
    readonly mode: { durable: boolean; ownProcessGroup: boolean },
  ) {}

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(timeoutMs: number): Promise<void> {
    const child = spawnAs(
      this.bin,
      [
        '-D',
        this.dataDir,
        '-p',
        String(this.port),
        '-k',
        this.socketDir,
        '-c',
        'listen_addresses=127.0.0.1',
        // A throwaway test cluster: durability buys nothing and costs seconds.
        ...(this.mode.durable ? [] : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
        '-c',
        'max_connections=50',
      ],
      this.socketDir,
      this.user,
      this.mode.ownProcessGroup,
    );
    this.#child = child;
    this.log.follow(child);
    let exitCode: number | null | undefined;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code) => {
        exitCode = code;
        resolve();
      });
      child.once('error', (err) => {
        this.log.push(`spawn error: ${err.message}`);
        exitCode = -1;
        resolve();
      });
    });
    // A test runner that exits without calling stop() must not leave a server behind.
    process.once('exit', this.#onExit);

    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (exitCode !== undefined) throw new Error(`postgres exited with code ${exitCode} during start-up`);
      const client = new pg.Client({
        host: '127.0.0.1',
        port: this.port,
        user: 'postgres',
        database: 'postgres',
        connectionTimeoutMillis: 1000,
      });
      try {
        await client.connect();
        await client.end();
        return;
      } catch (err) {
        // Not up yet (connection refused, or "the database system is starting up"): try again.
        await client.end().catch(() => undefined);
        if (Date.now() > deadline) {
          throw new Error(`postgres did not accept connections within ${timeoutMs} ms: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  /** Signals the postmaster and its children (the backends and background workers, from /proc). */
  async signalAll(signal: 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const pid = this.#child?.pid;
    if (pid === undefined) throw new Error('postgres is not running');
    const send = (p: number) => {
      try {
        process.kill(p, signal);
      } catch (err) {
        // A backend that exited between the listing and the signal.
        if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
      }
    };
    // The postmaster first when stopping (it forks no backend after that), last when continuing.
    if (signal === 'SIGSTOP') send(pid);
    for (const p of await childPids(pid)) send(p);
    if (signal === 'SIGCONT') send(pid);
  }

  /** SIGINT is PostgreSQL's fast shutdown: roll back open transactions, checkpoint, exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || !this.#exited) return;
    process.removeListener('exit', this.#onExit);
    if (child.exitCode === null && child.signalCode === null) {
      // A frozen server would ignore the shutdown until it is continued.
      await this.signalAll('SIGCONT');
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await this.#exited;
      clearTimeout(timer);
    }
  }
}

/** The process ids whose parent is `parent` (Linux /proc). */
async function childPids(parent: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses.
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[1]) === parent) out.push(Number(entry));
  }
  return out;
}

class LogTail {
  readonly #lines: string[] = [];

  follow(child: ChildProcess): void {
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        for (const line of chunk.split('\n')) if (line.trim() !== '') this.push(line);
      });
    }
  }

  push(line: string): void {
    this.#lines.push(line);
    if (this.#lines.length > LOG_TAIL_LINES) this.#lines.shift();
  }

  text(): string {
    return this.#lines.join('\n');
  }
}
