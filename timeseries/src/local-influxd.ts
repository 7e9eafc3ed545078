import { type ChildProcess, spawn } from 'node:child_process';
import { access, constants, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InfluxError } from './errors.js';
import { type PortReservation, reservePort } from './port-reservation.js';

export interface InfluxdOptions {
  /** Path of the influxd 1.x binary. Default `/usr/bin/influxd` (Debian package `influxdb`). */
  binary?: string;
  /** How long to wait for `/ping` to answer 204 after a spawn. Default 30 s. */
  startTimeoutMs?: number;
  /** `[http] auth-enabled`; the test then has to create an admin user first. Default false. */
  authEnabled?: boolean;
  /** influxd `[logging] level`. Default `warn`. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Where meta, data and wal live. Given: kept across runs and never removed (`anlian up`).
   * Absent: a fresh temporary directory that `stop()` removes (tests).
   */
  dataDir?: string;
  /** HTTP port on 127.0.0.1. Default: a port reserved for this influxd until `stop()` (see `reservePort`). */
  port?: number;
  /**
   * Run influxd in its own process group, so that Ctrl-C in a terminal (SIGINT to the whole
   * foreground group) reaches only the parent, which stops influxd after flushing to it.
   * Default false (tests: a dying test runner takes influxd with it).
   */
  ownProcessGroup?: boolean;
}

export interface Influxd {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** The directory holding config, meta, data and wal. */
  readonly dataDir: string;
  /** True while the child process is alive. */
  readonly running: boolean;
  /** The last lines influxd printed (stdout and stderr), for failure messages. */
  logTail(): string;
  /** Graceful stop (SIGTERM, then wait) that keeps the data: an outage the test can end with `restart()`. */
  halt(): Promise<void>;
  /** SIGKILL, keeping the data: a crash. `restart()` waits for the exit before spawning again. */
  kill(): void;
  /** Stops influxd if it runs, then starts it again on the same port and data directory. */
  restart(): Promise<void>;
  /**
   * Final teardown: stops influxd, gives its reserved ports back, and removes the data directory
   * if it was a temporary one (a given data directory is kept).
   */
  stop(): Promise<void>;
}

const LOG_TAIL_LINES = 60;
const PID_FILE = 'influxd.pid';

/**
 * An influxd left running on this data directory by a parent that was SIGKILLed holds the
 * directory's locks and its port: stop it before starting a new one.
 */
async function killStale(dataDir: string): Promise<void> {
  const pid = Number.parseInt(await readFile(join(dataDir, PID_FILE), 'utf8').catch(() => ''), 10);
  if (!Number.isInteger(pid) || pid <= 1) return;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!cmdline.includes('influxd') || !cmdline.includes(dataDir)) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 100 && (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')) !== ''; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts a private influxd 1.x as a child process: its own directory, 127.0.0.1 only, no
 * reporting, no UDP/graphite, no `_internal` monitor database. `anlian up` runs one with its
 * data under the data directory; integration tests run one in a temporary directory.
 */
export async function startInfluxd(opts: InfluxdOptions = {}): Promise<Influxd> {
  const binary = opts.binary ?? '/usr/bin/influxd';
  try {
    await access(binary, constants.X_OK);
  } catch {
    throw new InfluxError(
      'ANL_ERR_INFLUX_MISSING',
      `influxd not found at ${binary}. Install InfluxDB 1.x (Debian/Ubuntu: sudo apt-get install influxdb), or set INFLUX_URL to an InfluxDB you already run`,
    );
  }
  const temporary = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'anlian-influxd-')));
  if (!temporary) await mkdir(dataDir, { recursive: true });
  // Held until stop(): influxd binds them only after it has started, and a restart() binds them again.
  const reserved: PortReservation[] = [];
  try {
    const httpReservation = opts.port === undefined ? await reservePort() : undefined;
    if (httpReservation) reserved.push(httpReservation);
    const port = httpReservation?.port ?? (opts.port as number);
    const rpc = await reservePort();
    reserved.push(rpc);
    const rpcPort = rpc.port;
    const configPath = join(dataDir, 'influxd.conf');
    await writeFile(configPath, renderConfig(dataDir, port, rpcPort, opts), 'utf8');
    if (!temporary) await killStale(dataDir);
    const server = new InfluxdProcess(
      binary,
      configPath,
      dataDir,
      port,
      opts.startTimeoutMs ?? 30_000,
      temporary,
      opts.ownProcessGroup === true,
      reserved,
    );
    await server.spawn();
    return server;
  } catch (err) {
    for (const r of reserved) r.release();
    if (temporary) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

function renderConfig(dir: string, port: number, rpcPort: number, opts: InfluxdOptions): string {
  const q = (s: string) => JSON.stringify(s);
  return `# Generated by timeseries/src/local-influxd.ts at every start; edits are overwritten.
reporting-disabled = true
bind-address = ${q(`127.0.0.1:${rpcPort}`)}

[meta]
  dir = ${q(join(dir, 'meta'))}
  retention-autocreate = true
  logging-enabled = false

[data]
  dir = ${q(join(dir, 'data'))}
  wal-dir = ${q(join(dir, 'wal'))}
  query-log-enabled = false
  # Snapshot the in-memory cache to TSM files at 100 MB rather than 25 MB: fewer, larger files to
  # compact. Writing 10,000 points/s of ingest's shapes for 120 s this took influxd from 79 to
  # 53 µs of CPU per point; the cost is up to ~100 MB more resident memory and WAL to replay.
  cache-snapshot-memory-size = "100m"

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = ${q(`127.0.0.1:${port}`)}
  auth-enabled = ${opts.authEnabled === true}
  log-enabled = false
  pprof-enabled = false

[logging]
  level = ${q(opts.logLevel ?? 'warn')}
  suppress-logo = true

[continuous_queries]
  enabled = true
  log-enabled = false
`;
}

class InfluxdProcess implements Influxd {
  readonly url: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly tail: string[] = [];

  constructor(
    private readonly binary: string,
    private readonly configPath: string,
    readonly dataDir: string,
    readonly port: number,
    private readonly startTimeoutMs: number,
    private readonly temporary: boolean,
    private readonly ownProcessGroup: boolean,
    private readonly reserved: readonly PortReservation[],
  ) {
    this.url = `http://127.0.0.1:${port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  logTail(): string {
    return this.tail.join('\n');
  }

  async spawn(): Promise<void> {
    // influxd reads INFLUXDB_* variables over its config file; keep the test hermetic.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));
    const child = spawn(this.binary, ['-config', this.configPath], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.ownProcessGroup,
    });
    this.child = child;
    if (!this.temporary && child.pid !== undefined) {
      await writeFile(join(this.dataDir, PID_FILE), `${child.pid}\n`);
      // In its own group influxd would outlive a parent that exits without stopping it.
      const pid = child.pid;
      const reap = () => {
        if (this.child === child) process.kill(pid, 'SIGKILL');
      };
      process.once('exit', reap);
      child.once('exit', () => process.off('exit', reap));
    }
    const onData = (chunk: Buffer) => this.remember(chunk.toString('utf8'));
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    let exitInfo: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = `exit code ${code} signal ${signal}`;
        if (this.child === child) this.child = undefined;
        resolve();
      });
      child.once('error', (err) => {
        exitInfo = `spawn error ${err.message}`;
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });

    const deadline = Date.now() + this.startTimeoutMs;
    while (Date.now() < deadline) {
      if (exitInfo !== undefined) break;
      if (await this.ping()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    const why = exitInfo ?? `no 204 from ${this.url}/ping within ${this.startTimeoutMs} ms`;
    if (this.child === child) {
      child.kill('SIGKILL');
      await this.exited;
    }
    throw new Error(`influxd did not start (${why}). Log tail:\n${this.logTail()}`);
  }

  private async ping(): Promise<boolean> {
    try {
      const res = await fetch(`${this.url}/ping`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status === 204;
    } catch {
      // Not listening yet: connection refused is the expected answer while influxd boots.
      return false;
    }
  }

  private remember(text: string): void {
    for (const line of text.split('\n')) {
      if (line.length === 0) continue;
      this.tail.push(line);
      if (this.tail.length > LOG_TAIL_LINES) this.tail.shift();
    }
  }

  async halt(): Promise<void> {
    const child = this.child;
    if (child === undefined) {
      await this.exited;
      return;
    }
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    try {
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  kill(): void {
    this.child?.kill('SIGKILL');
  }

  async restart(): Promise<void> {
    await this.halt();
    await this.spawn();
  }

  async stop(): Promise<void> {
    try {
      await this.halt();
    } finally {
      for (const r of this.reserved) r.release();
      if (this.temporary) await rm(this.dataDir, { recursive: true, force: true });
    }
  }
}
