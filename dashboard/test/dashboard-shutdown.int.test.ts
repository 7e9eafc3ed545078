import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './dashboard-harness.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

describe('dashboard stop()', () => {
  it('is not held up by a client that stops reading in the middle of a response', async () => {
    const web = await mkdtemp(path.join(tmpdir(), 'anlian-web-'));
    cleanups.push(() => rm(web, { recursive: true, force: true }));
    await writeFile(path.join(web, 'index.html'), '<!doctype html><title>t</title>');
    // Far more than the socket buffers of both ends hold: the response cannot finish unread.
    await writeFile(path.join(web, 'big.bin'), Buffer.alloc(64 * 1024 * 1024, 1));
    const h: Harness = await startHarness({ deps: { webRoot: web, closeGraceMs: 500 } });
    let stopped = false;
    cleanups.push(async () => {
      if (!stopped) await h.close();
    });
    const url = new URL(await h.dashboard.listen({ host: '127.0.0.1', port: 0 }));

    const client = connect({ host: '127.0.0.1', port: Number(url.port) });
    cleanups.push(async () => client.destroy());
    client.write(`GET /big.bin HTTP/1.1\r\nHost: ${url.host}\r\n\r\n`);
    // The response has begun; then the client stalls, as a download on a dead line does.
    await once(client, 'data');
    client.pause();

    const t0 = Date.now();
    const result = await Promise.race([
      h.close().then(() => 'stopped' as const),
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 60_000).unref()),
    ]);
    stopped = result === 'stopped';
    expect(result).toBe('stopped');
    // Generous: the grace is half a second; without it, stop() never returns.
    expect(Date.now() - t0).toBeLessThan(30_000);
    client.resume();
    await once(client, 'close');
  }, 120_000);
});
