import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { topics } from '@anlian/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { GW_A, type Harness, payload, startHarness, waitFor } from './harness.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ingest resilience', () => {
  let h: Harness | undefined;
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    children.length = 0;
    await h?.close();
    h = undefined;
  });

  it('InfluxDB stopped for 30 s mid-stream and restarted: every point stored exactly once', async () => {
    h = await startHarness();
    const ingest = await h.startIngest();
    const a = await h.connect('gw-a');
    const base = Date.UTC(2026, 10, 23, 6, 0, 0);
    const total = 1500;
    let sawNotReady = false;
    for (let seq = 0; seq < total; seq++) {
      if (seq === 200) await h.influxd.halt();
      if (seq === 1300) await h.influxd.restart();
      // Acknowledged while InfluxDB is down: the spool holds it.
      await a.publishAsync(
        topics.telemetry(GW_A, 'kitchen-1'),
        payload({ ts: base + seq, seq, kind: 'kitchen', temperature: 25 }),
        { qos: 1 },
      );
      if (seq >= 200 && seq < 1300) {
        await sleep(27); // ~30 s of outage across these 1,100 messages
        if (!sawNotReady && seq % 100 === 0) {
          sawNotReady = (await ingest.service.http.inject({ url: '/readyz' })).statusCode === 503;
        }
      }
    }
    expect(sawNotReady).toBe(true);
    const where = `kitchen WHERE time >= ${base}ms AND time < ${base + total}ms`;
    expect(await waitFor(async () => (await h?.count(where)) === total, 90_000, 500)).toBe(true);
    const distinct = await h.query(`SELECT count(distinct(seq)) FROM ${where}`);
    expect(distinct[0]?.[1]).toBe(total);
  }, 180_000);

  it('ingest killed with SIGKILL mid-stream and restarted: nothing it accepted is lost', async () => {
    h = await startHarness({ ANLIAN_HTTP_PORT: '0' });
    const harness = h;
    // First `anlian ingest`; after the kill, the launcher a server runs (ingest/bin/anlian-ingest).
    const spawnIngest = async (how: 'anlian' | 'launcher') => {
      const [cmd, args] =
        how === 'anlian'
          ? [process.execPath, [path.join(repoRoot, 'bin/anlian.js'), 'ingest']]
          : [path.join(repoRoot, 'ingest/bin/anlian-ingest'), []];
      const child = spawn(cmd, args, {
        env: { ...process.env, ...harness.env, ANLIAN_LOG_LEVEL: 'info', NODE: process.execPath },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        out += d.toString();
      });
      const ready = await waitFor(async () => out.includes('ingest ready') || child.exitCode !== null, 30_000, 50);
      if (!ready || child.exitCode !== null) throw new Error(`ingest did not start:\n${out}`);
      return child;
    };
    let child = await spawnIngest('anlian');
    const a = await harness.connect('gw-a', { reconnectPeriod: 100 });
    const base = Date.UTC(2026, 10, 23, 7, 0, 0);
    const total = 3000;
    const acks: Promise<unknown>[] = [];
    for (let seq = 0; seq < total; seq++) {
      acks.push(
        a.publishAsync(
          topics.telemetry(GW_A, 'kitchen-1'),
          payload({ ts: base + seq, seq, kind: 'kitchen', temperature: 26 }),
          { qos: 1 },
        ),
      );
      if (seq % 100 === 99) await sleep(20);
      if (seq === 1200) {
        child.kill('SIGKILL');
        await once(child, 'exit');
        child = await spawnIngest('launcher');
        // The launcher execs node with ingest's memory flags: the process is ingest itself.
        const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
        expect(cmdline).toEqual(expect.arrayContaining(['--max-old-space-size=256', '--max-semi-space-size=8']));
        expect(cmdline.some((a) => a.endsWith('ingest/dist/ingest-entry.js'))).toBe(true);
      }
    }
    // Every publish is acknowledged in the end (the client resends what the killed process never acknowledged)…
    await Promise.all(acks);
    // …and every one of them is in InfluxDB, once.
    const where = `kitchen WHERE time >= ${base}ms AND time < ${base + total}ms`;
    const complete = await waitFor(async () => (await harness.count(where)) === total, 60_000, 250);
    if (!complete) {
      const stored = new Set((await harness.query(`SELECT seq FROM ${where}`)).map((r) => Number(r[1])));
      const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !stored.has(i));
      expect.fail(`${missing.length} of ${total} missing, e.g. ${missing.slice(0, 20).join(' ')}`);
    }
    child.kill('SIGTERM');
    await once(child, 'exit');
    expect(child.exitCode).toBe(0);
  }, 180_000);
});
