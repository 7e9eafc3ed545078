import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '@anlian/runtime';
import { startPostgres, type TestPostgres } from '@anlian/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LeaseChange, PgAdvisoryLeases, partitionOf, SoleLeases } from '../src/partition-leases.js';

const until = async (check: () => boolean, timeoutMs = 10_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('partition leases on PostgreSQL advisory locks', () => {
  let postgres: TestPostgres;
  const started: PgAdvisoryLeases[] = [];
  beforeAll(async () => {
    postgres = await startPostgres();
  });
  afterAll(async () => {
    for (const l of started) await l.stop();
    await postgres?.stop();
  });

  const leases = (nodeId: string, name = 'test', partitions = 2) => {
    const l = new PgAdvisoryLeases({
      url: postgres.url,
      name,
      partitions,
      nodeId,
      logger: silentLogger(),
      pollMs: 100,
      settleMs: 300,
      reconnectGraceMs: 500,
    });
    started.push(l);
    return l;
  };

  it('a lone node takes every partition; a second node gets its share; the survivor takes all back when one dies', async () => {
    const a = leases('a', 'share');
    const changesA: LeaseChange[] = [];
    a.onChange((c) => changesA.push(c));
    await a.start();
    await until(() => a.held().length === 2);
    expect(changesA.flatMap((c) => c.acquired).sort()).toEqual([0, 1]);

    // b in a process of its own, so that it can die as a node dies: SIGKILL.
    const b = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { PgAdvisoryLeases } from '@anlian/store';
         import { pino } from 'pino';
         const l = new PgAdvisoryLeases({ url: process.env.PG_URL, name: 'share', partitions: 2, nodeId: 'b',
           logger: pino({ level: 'silent' }), pollMs: 100, settleMs: 300 });
         l.onChange(() => console.log(JSON.stringify(l.held())));
         await l.start();`,
      ],
      {
        env: { ...process.env, PG_URL: postgres.url },
        stdio: ['ignore', 'pipe', 'inherit'],
        cwd: fileURLToPath(new URL('..', import.meta.url)),
      },
    );
    let bHeld: number[] = [];
    b.stdout.on('data', (d: Buffer) => {
      const last = d.toString().trim().split('\n').at(-1);
      if (last) bHeld = JSON.parse(last) as number[];
    });
    try {
      await until(() => a.held().length === 1 && bHeld.length === 1);
      // Never both at once.
      expect([...a.held(), ...bHeld].sort()).toEqual([0, 1]);
      expect(changesA.flatMap((c) => c.lost)).toHaveLength(1);
      // b dies without giving anything up: PostgreSQL ends its session, a takes its partition.
      const t0 = Date.now();
      b.kill('SIGKILL');
      await until(() => a.held().length === 2, 5000);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      b.kill('SIGKILL');
    }
  });

  it('one partition is held by exactly one of two nodes, and moves when its holder stops', async () => {
    const x = leases('x', 'single', 1);
    const y = leases('y', 'single', 1);
    await Promise.all([x.start(), y.start()]);
    await until(() => x.held().length + y.held().length === 1);
    await new Promise((r) => setTimeout(r, 500));
    expect(x.held().length + y.held().length).toBe(1);
    const [holder, other] = x.held().length === 1 ? [x, y] : [y, x];
    await holder.stop();
    await until(() => other.held().length === 1, 5000);
  });

  it('keeps acting for its partitions while PostgreSQL is unreachable, and re-locks them when it is back', async () => {
    const n = leases('n', 'outage', 1);
    const changes: LeaseChange[] = [];
    n.onChange((c) => changes.push(c));
    await n.start();
    await until(() => n.held().length === 1);
    await killSessions(postgres.url, 'anlian-outage-leases-n');
    await new Promise((r) => setTimeout(r, 300));
    // Still acting: it cannot know whether it lost the lock, so it does not give up the work.
    expect(n.held()).toEqual([0]);
    await until(() => n.describe().connected === true, 5000);
    expect(n.held()).toEqual([0]);
    expect(changes.flatMap((c) => c.lost)).toEqual([]);
  });

  it('partitions are stable and spread; one node alone holds everything', () => {
    expect(partitionOf('yy-zhongduo', 4)).toBe(partitionOf('yy-zhongduo', 4));
    const spread = new Set(Array.from({ length: 64 }, (_, i) => partitionOf(`inst-${i}`, 4)));
    expect(spread.size).toBe(4);
    expect(partitionOf('anything', 1)).toBe(0);
    const sole = new SoleLeases(3);
    expect(sole.held()).toEqual([0, 1, 2]);
    expect(sole.holds(2)).toBe(true);
  });
});

/** Ends the sessions of an application name, as PostgreSQL does when the node's process dies. */
async function killSessions(url: string, applicationName: string): Promise<void> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const r = await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1', [
      applicationName,
    ]);
    if (r.rowCount === 0) throw new Error(`no session named ${applicationName}`);
  } finally {
    await admin.end();
  }
}
