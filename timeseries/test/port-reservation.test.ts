import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { reservablePortRange, reservePort } from '../src/port-reservation.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function lockDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'anlian-port-locks-test-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const listen = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });

describe('reservePort', () => {
  it('picks ports below the kernel ephemeral range, where listen(0) and outgoing connections never land', async () => {
    const range = reservablePortRange();
    const [low] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')).trim().split(/\s+/).map(Number);
    expect(range.max).toBeLessThan(low as number);
    const dir = await lockDir();
    const r = await reservePort({ lockDir: dir });
    cleanups.push(() => r.release());
    expect(r.port).toBeGreaterThanOrEqual(range.min);
    expect(r.port).toBeLessThanOrEqual(range.max);
    // The port is free for the child process that will bind it.
    const s = await listen(r.port);
    await new Promise((resolve) => s.close(resolve));
  });

  it('never hands a held port to another reserver, and hands it out again once released', async () => {
    const dir = await lockDir();
    const held = await listen(0);
    cleanups.push(() => new Promise((resolve) => held.close(resolve)));
    // A range of one free port.
    const probe = await listen(0);
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const range = { min: port, max: port };
    const first = await reservePort({ lockDir: dir, range });
    expect(first.port).toBe(port);
    await expect(reservePort({ lockDir: dir, range })).rejects.toThrow(/no free port/);
    first.release();
    first.release(); // idempotent
    const again = await reservePort({ lockDir: dir, range });
    expect(again.port).toBe(port);
    again.release();
    expect(await readdir(dir)).toEqual([]);
  });

  it('skips a port somebody outside the scheme listens on', async () => {
    const dir = await lockDir();
    const outsider = await listen(0);
    cleanups.push(() => new Promise((resolve) => outsider.close(resolve)));
    const port = (outsider.address() as { port: number }).port;
    await expect(reservePort({ lockDir: dir, range: { min: port, max: port } })).rejects.toThrow(/no free port/);
    expect(await readdir(dir)).toEqual([]);
  });

  it('removes a lock left by a process that died, so its port can be reserved again', async () => {
    const dir = await lockDir();
    const probe = await listen(0);
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');
    // The dead child's pid (not reused this fast), with a start time that cannot match a new holder.
    await writeFile(join(dir, `${port}.lock`), `${child.pid} 1\n`);
    const range = { min: port, max: port };
    const r = await reservePort({ lockDir: dir, range });
    expect(r.port).toBe(port);
    r.release();
    // A lock of a live process (this one) is respected.
    await writeFile(join(dir, `${port}.lock`), `${process.pid}\n`);
    await expect(reservePort({ lockDir: dir, range })).rejects.toThrow(/no free port/);
  });

  it('gives every one of many processes reserving at once a different port', async () => {
    const dir = await lockDir();
    const entry = fileURLToPath(new URL('../dist/port-reservation.js', import.meta.url));
    // Eight processes × 25 ports from a range of 400: with a probe-and-release pick, collisions
    // would be all but certain (birthday bound); reservations cannot collide.
    const script = `
      const { reservePort } = await import(${JSON.stringify(entry)});
      const ports = [];
      for (let i = 0; i < 25; i++) ports.push((await reservePort({ lockDir: ${JSON.stringify(dir)}, range: { min: 20000, max: 20399 } })).port);
      console.log(JSON.stringify(ports));
      process.stdin.resume(); // hold the locks until every process has reserved
    `;
    const children = Array.from({ length: 8 }, () =>
      spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['pipe', 'pipe', 'inherit'] }),
    );
    const runs = children.map(
      (c) =>
        new Promise<number[]>((resolve, reject) => {
          let out = '';
          c.stdout.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.endsWith('\n')) resolve(JSON.parse(out) as number[]);
          });
          c.once('exit', (code) => reject(new Error(`reserver exited with ${code} before reserving`)));
        }),
    );
    cleanups.push(() =>
      Promise.all(
        children.map((c) => {
          if (c.exitCode !== null) return null;
          c.stdin.end();
          return once(c, 'exit');
        }),
      ),
    );
    const all = (await Promise.all(runs)).flat();
    expect(all).toHaveLength(200);
    expect(new Set(all).size).toBe(200);
  });
});
