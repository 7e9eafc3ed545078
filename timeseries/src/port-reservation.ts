import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A TCP port held for a child process that binds it later (influxd, mosquitto, PostgreSQL take a
 * port number, not a listening socket). Release it once that process has stopped.
 */
export interface PortReservation {
  readonly port: number;
  /** Gives the port back to other reservers. Idempotent. */
  release(): void;
}

export interface ReservePortOptions {
  /** Address the port must be free on. Default 127.0.0.1. */
  host?: string;
  /** Folder of the lock files, shared by every process on the machine. Default `$ANLIAN_PORT_LOCK_DIR` or `<tmpdir>/anlian-port-locks`. */
  lockDir?: string;
  /** Ports to pick from; default: below the kernel's ephemeral range (see `reservablePortRange`). */
  range?: { min: number; max: number };
}

const ATTEMPTS = 200;

/**
 * Reserves a free TCP port that no other reserver on this machine can pick until it is released.
 *
 * Handing over a port the OS picked for a probe (listen on 0, close, pass the number on) races:
 * before the child binds it, any other process may get the same number, because the kernel hands
 * out ports of its ephemeral range to every `listen(0)` and every outgoing connection. Two fixes:
 *  - ports come from BELOW the ephemeral range (`/proc/sys/net/ipv4/ip_local_port_range`), which
 *    the kernel never hands out by itself, so `listen(0)` and `connect()` elsewhere cannot take one;
 *  - a lock file per port (`open(O_CREAT | O_EXCL)`, holding pid and process start time) makes the
 *    pick exclusive among every process using this function: test workers, parallel test runs,
 *    `anlian up`. A lock whose process has died (its pid gone or reused) is stale and removed.
 * A probe bind still checks that nothing outside the scheme listens on the port right now.
 */
export async function reservePort(opts: ReservePortOptions = {}): Promise<PortReservation> {
  const host = opts.host ?? '127.0.0.1';
  const lockDir = opts.lockDir ?? defaultLockDir();
  const range = opts.range ?? reservablePortRange();
  ensureLockDir(lockDir);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = range.min + Math.floor(Math.random() * (range.max - range.min + 1));
    const lock = join(lockDir, `${port}.lock`);
    if (!takeLock(lock)) continue;
    if (await canBind(port, host)) return new HeldPort(port, lock);
    // Something outside the scheme listens there: leave the port to it.
    removeLock(lock);
  }
  throw new Error(
    `no free port to reserve in ${range.min}–${range.max} after ${ATTEMPTS} attempts (locks in ${lockDir})`,
  );
}

/**
 * Ports the kernel never assigns on its own: those below its ephemeral range (Linux default
 * 32768–60999, so 10000–32767), or above it when the range starts too low to leave room.
 */
export function reservablePortRange(): { min: number; max: number } {
  let low = 32_768;
  let high = 60_999;
  try {
    const [a, b] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(a) && Number.isInteger(b)) [low, high] = [a as number, b as number];
  } catch {
    // Not Linux: keep the Linux and IANA-like default (IANA's dynamic range starts at 49152 anyway).
  }
  if (low - 1 - 10_000 >= 1000) return { min: 10_000, max: low - 1 };
  if (65_535 - (high + 1) >= 1000) return { min: high + 1, max: 65_535 };
  // The whole range is ephemeral: locks still make the pick exclusive among reservers.
  return { min: 10_000, max: 65_535 };
}

function defaultLockDir(): string {
  return process.env.ANLIAN_PORT_LOCK_DIR ?? join(tmpdir(), 'anlian-port-locks');
}

function ensureLockDir(dir: string): void {
  // Sticky and world-writable like /tmp itself: several users on one machine share the ports.
  if (mkdirSync(dir, { recursive: true }) !== undefined) chmodSync(dir, 0o1777);
}

/** This process's identity for a lock: pid and start time, so that a reused pid is not mistaken for the holder. */
function identity(pid: number): string | undefined {
  try {
    // /proc/PID/stat: field 22 is the start time in clock ticks since boot; the command name
    // (field 2) is in parentheses and may contain spaces, so count from its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${pid} ${fields[19]}`;
  } catch {
    return processAlive(pid) ? `${pid}` : undefined;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, owned by another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function takeLock(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // Held, or left by a process that died: a stale lock is removed, and the caller moves on to
    // another port (taking this one now could race another process that removes it too).
    if (isStale(path)) removeLock(path);
    return false;
  }
  try {
    writeSync(fd, `${identity(process.pid) ?? process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

function isStale(path: string): boolean {
  let content: string;
  let ageMs: number;
  try {
    content = readFileSync(path, 'utf8').trim();
    ageMs = Date.now() - statSync(path).mtimeMs;
  } catch {
    return false; // released meanwhile
  }
  // Empty: being written by its holder (open, then write), or its holder died in between.
  if (content === '') return ageMs > 10_000;
  const pid = Number.parseInt(content, 10);
  if (!Number.isInteger(pid) || pid <= 0) return true;
  const now = identity(pid);
  if (now === undefined) return true;
  // Same pid, different start time: the holder died and its pid was reused.
  return content.includes(' ') && now.includes(' ') && now !== content;
}

function removeLock(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function canBind(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    // EADDRINUSE (or EACCES): someone outside the scheme has it.
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

class HeldPort implements PortReservation {
  #released = false;

  constructor(
    readonly port: number,
    readonly lockPath: string,
  ) {}

  release(): void {
    if (this.#released) return;
    this.#released = true;
    removeLock(this.lockPath);
  }
}
