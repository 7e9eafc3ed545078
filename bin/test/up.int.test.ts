import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

async function poll<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

describe('anlian up', () => {
  const children: ChildProcess[] = [];
  let dataDir = '';
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('brings up the demo county, stores its data, stops cleanly, and reuses the data on a second start', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'anlian-up-'));
    const [mqttPort, httpPort, influxPort, dashboardPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    // No INFLUX_URL: `up` starts its own influxd.
    const { INFLUX_URL: _none, ...inherited } = process.env;
    const env = {
      ...inherited,
      ANLIAN_MQTT_HOST: '127.0.0.1',
      ANLIAN_MQTT_PORT: String(mqttPort),
      ANLIAN_HTTP_PORT: String(httpPort),
      ANLIAN_DASHBOARD_HOST: '127.0.0.1',
      ANLIAN_DASHBOARD_PORT: String(dashboardPort),
    };
    const start = async () => {
      const child = spawn(
        process.execPath,
        ['bin/anlian.js', 'up', '--demo', '--speed', '60', '--data-dir', dataDir, '--influx-port', String(influxPort)],
        { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(child);
      const out = { text: '' };
      child.stdout?.on('data', (d: Buffer) => {
        out.text += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        out.text += d.toString();
      });
      // The first start also generates the demo county's supervision history (seconds).
      const banner = await poll(async () => (out.text.includes('Ctrl-C stops everything') ? true : undefined), 150_000);
      if (!banner) throw new Error(`anlian up did not start:\n${out.text}`);
      return { child, out };
    };
    const kitchenPoints = async () => {
      const url = new URL(`http://127.0.0.1:${influxPort}/query`);
      url.searchParams.set('db', 'anlian');
      url.searchParams.set('q', 'SELECT count(temperature) FROM kitchen');
      const body = (await (await fetch(url)).json()) as { results: { series?: { values: [string, number][] }[] }[] };
      return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
    };

    const first = await start();
    expect(first.out.text).toContain('seeded from');
    expect(first.out.text).toContain(`mqtt://127.0.0.1:${mqttPort}`);
    expect(first.out.text).toContain(`http://127.0.0.1:${influxPort}`);
    // Supervision runs, with the demo county's history generated from the simulator's seed.
    expect(first.out.text).toMatch(/supervision\s+\d+ open hazards \(\d+ overdue\); grades 红 \d+/);
    expect(first.out.text).toContain('days of history generated from seed 1');
    const grades = await fetch(`http://127.0.0.1:${dashboardPort}/api/grades`);
    expect(grades.status).toBe(401);
    // The demo county's data flows into InfluxDB.
    const stored = await poll(async () => ((await kitchenPoints()) > 0 ? kitchenPoints() : undefined), 60_000);
    expect(stored).toBeGreaterThan(0);
    const health = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(health.status).toBe(200);

    // Issue 17: the demo county's report for the last 30 days, from its generated month of history.
    expect(first.out.text).toMatch(/demo history: simulation run demo-history-\d{8}-s1 .*alerts written now/);
    const dash = `http://127.0.0.1:${dashboardPort}`;
    const login = await fetch(`${dash}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'operator', password: 'anlian-operator-demo' }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const sources = (await (await fetch(`${dash}/api/reports/sources`, { headers: { cookie } })).json()) as {
      defaultSource: { kind: string; runId?: string };
    };
    expect(sources.defaultSource.kind).toBe('simulation');
    const made = await fetch(`${dash}/api/reports`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ period: { lastDays: 30 }, source: sources.defaultSource }),
    });
    expect(made.status).toBe(200);
    const report = (await made.json()) as {
      id: string;
      summary: { alarms: number; onlineRate: number; drills: number };
    };
    expect(report.summary.alarms).toBeGreaterThan(50);
    expect(report.summary.drills).toBeGreaterThan(0);
    expect(report.summary.onlineRate).toBeGreaterThan(0.9);
    expect(report.summary.onlineRate).toBeLessThan(1);
    const pdf = Buffer.from(
      await (await fetch(`${dash}/api/reports/${report.id}/pdf`, { headers: { cookie } })).arrayBuffer(),
    );
    const pdfFile = path.join(dataDir, 'demo-report.pdf');
    await writeFile(pdfFile, pdf);
    const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
    expect(text).toContain('酉阳土家族苗族自治县');
    expect(text).toContain('近30天');
    expect(text).toContain(sources.defaultSource.runId ?? 'no run');
    expect(text).toContain('模拟数据');

    first.child.kill('SIGINT');
    await once(first.child, 'exit');
    expect(first.child.exitCode).toBe(0);
    expect(first.out.text).toContain('stopped; data kept in');
    expect(first.out.text).toMatch(/messages\s+[\d,]+ sent, [\d,]+ acknowledged, 0 failed/);

    // A second start reuses the store and InfluxDB's data: no new seeding, nothing lost.
    const second = await start();
    expect(second.out.text).not.toContain('seeded from');
    // The history was written once; the second start reuses it.
    expect(second.out.text).toMatch(
      /demo history: simulation run demo-history-\d{8}-s1 \(the 30 days before the first start\)/,
    );
    expect(second.out.text).not.toContain('days of history generated');
    expect(second.out.text).toMatch(/supervision\s+\d+ open hazards/);
    expect(await kitchenPoints()).toBeGreaterThanOrEqual(stored ?? 0);
    second.child.kill('SIGINT');
    await once(second.child, 'exit');
    expect(second.child.exitCode).toBe(0);
  }, 360_000);
});
