import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PortReservation, reservePort } from '@anlian/testing';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** What a clone does not have: installed packages, build output, local data. */
const NOT_IN_A_CLONE = new Set([
  '.git',
  'node_modules',
  'dist',
  'web-dist',
  '.anlian',
  'test-artifacts',
  'coverage',
  'results',
  '.anlian-build.lock',
]);

/**
 * A copy of this checkout as a fresh clone has it — no build output, no web app — whose
 * node_modules reuses this checkout's installed packages (links, to save the npm ci), except the
 * workspaces' own links, which point into the copy as npm ci would make them.
 */
async function freshCopy(dir: string): Promise<void> {
  await cp(repoRoot, dir, {
    recursive: true,
    filter: (src) => {
      const name = path.basename(src);
      return !NOT_IN_A_CLONE.has(name) && !name.endsWith('.tsbuildinfo') && !/^web-dist\./.test(name);
    },
  });
  const modules = path.join(dir, 'node_modules');
  await mkdir(path.join(modules, '@anlian'), { recursive: true });
  for (const name of await readdir(path.join(repoRoot, 'node_modules'))) {
    if (name === '@anlian' || name === '.package-lock.json' || name.startsWith('.vite')) continue;
    await symlink(path.join(repoRoot, 'node_modules', name), path.join(modules, name));
  }
  for (const name of await readdir(path.join(repoRoot, 'node_modules/@anlian'))) {
    await symlink(path.join('../..', name), path.join(modules, '@anlian', name));
  }
  // Written after package-lock.json was copied: the packages count as installed from it.
  await writeFile(
    path.join(modules, '.package-lock.json'),
    await readFile(path.join(repoRoot, 'node_modules/.package-lock.json')),
  );
}

async function poll<T>(fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  return undefined;
}

const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('./anlian up --demo from a fresh clone', () => {
  const children: ChildProcess[] = [];
  const ports: PortReservation[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const p of ports) p.release();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('builds everything it serves, serves the wall screen and the API, stops cleanly, and starts again without rebuilding', async () => {
    const tree = await mkdtemp(path.join(tmpdir(), 'anlian-fresh-'));
    const dataDir = await mkdtemp(path.join(tmpdir(), 'anlian-up-data-'));
    dirs.push(tree, dataDir);
    await freshCopy(tree);
    // Held for the whole test: `anlian up` binds them in another process, twice.
    for (let i = 0; i < 4; i++) ports.push(await reservePort());
    const [mqttPort, httpPort, dashboardPort, influxPort] = ports.map((p) => p.port) as [
      number,
      number,
      number,
      number,
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
        path.join(tree, 'anlian'),
        ['up', '--demo', '--data-dir', dataDir, '--influx-port', String(influxPort)],
        { cwd: tree, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(child);
      const out = { text: '' };
      child.stdout?.on('data', (d: Buffer) => {
        out.text += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        out.text += d.toString();
      });
      // The first start compiles every workspace and the web app on a shared, busy machine,
      // and generates the demo county's supervision history.
      const banner = await poll(async () => (out.text.includes('Ctrl-C stops everything') ? true : undefined), 480_000);
      if (!banner) throw new Error(`anlian up did not start:\n${out.text}`);
      return { child, out };
    };
    const stop = async (child: ChildProcess, signal: NodeJS.Signals) => {
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    };
    /** What went wrong, for a failure message: the terminal output and the end of the log file. */
    const explain = async (out: { text: string }) => {
      const log = await readFile(path.join(dataDir, 'logs', 'anlian.log'), 'utf8').catch(() => '');
      return `${out.text}\n--- anlian.log (last lines) ---\n${log.split('\n').slice(-40).join('\n')}`;
    };
    const gatewaysOnline = async () => {
      const body = (await (await fetch(`http://127.0.0.1:${httpPort}/v1/state/gateways`)).json()) as {
        gateways: { state: string }[];
      };
      return body.gateways.filter((g) => g.state === 'online').length;
    };
    const storedStatusPoints = async () => {
      const url = new URL(`http://127.0.0.1:${influxPort}/query`);
      url.searchParams.set('db', 'anlian');
      url.searchParams.set('q', 'SELECT count(state) FROM "events_1y"."gateway"');
      const body = (await (await fetch(url)).json()) as { results: { series?: { values: [string, number][] }[] }[] };
      return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
    };

    const first = await start();
    // Built from nothing: every workspace and the web app; the packages were already there.
    expect(first.out.text).toContain('anlian: building TypeScript: ');
    expect(first.out.text).toContain('anlian: building the web app: the web app is not built');
    expect(first.out.text).not.toContain('installing npm packages');
    expect(first.out.text).toContain('seeded from');
    expect(first.out.text).toContain(`mqtt://127.0.0.1:${mqttPort}`);
    expect(first.out.text).toContain(`http://127.0.0.1:${influxPort}`);
    // Supervision runs, with the demo county's history generated from the simulator's seed.
    expect(first.out.text).toMatch(/supervision\s+\d+ open hazards \(\d+ overdue\); grades 红 \d+/);
    expect(first.out.text).toContain('days of history generated from seed 1');
    expect((await fetch(`http://127.0.0.1:${dashboardPort}/api/grades`)).status).toBe(401);
    const kiosk = /#\/wall\?kiosk=([A-Za-z0-9_-]+)/.exec(first.out.text)?.[1];
    expect(kiosk).toBeDefined();

    // The wall screen's page and its script, as a browser would fetch them.
    const dashboard = `http://127.0.0.1:${dashboardPort}`;
    const page = await fetch(`${dashboard}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const script = /<script[^>]+src="([^"]+)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(`${dashboard}${script}`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await js.text()).length).toBeGreaterThan(1000);
    // The API the wall screen uses: sign in with the kiosk link's token, read the county.
    const login = await fetch(`${dashboard}/api/auth/kiosk`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: kiosk }),
    });
    expect(login.status).toBe(200);
    const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
    const county = await fetch(`${dashboard}/api/county`, { headers: { cookie } });
    expect(county.status).toBe(200);
    expect(JSON.stringify(await county.json())).toContain('yy-');

    // Every one of the demo county's gateways is online (none refused by the broker's limits on
    // CONNECTs, which once turned away a third of them), and their data is stored.
    const gatewayCount = Number(/(\d+) gateways/.exec(first.out.text)?.[1]);
    expect(gatewayCount).toBeGreaterThan(20);
    let online = 0;
    const allOnline = await poll(async () => {
      online = await gatewaysOnline();
      return online === gatewayCount ? true : undefined;
    }, 60_000);
    expect(allOnline, `${online} of ${gatewayCount} gateways online\n${await explain(first.out)}`).toBe(true);
    const stored = await poll(
      async () => ((await storedStatusPoints()) > 0 ? storedStatusPoints() : undefined),
      60_000,
    );
    expect(stored).toBeGreaterThan(0);
    expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status).toBe(200);

    // Issue 17: the demo county's report for the last 30 days, from its generated month of history.
    expect(first.out.text).toMatch(/demo history: simulation run demo-history-\d{8}-s1 .*alerts written now/);
    const operator = await fetch(`${dashboard}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'operator', password: 'anlian-operator-demo' }),
    });
    expect(operator.status).toBe(200);
    const operatorCookie = (operator.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const sources = (await (
      await fetch(`${dashboard}/api/reports/sources`, { headers: { cookie: operatorCookie } })
    ).json()) as { defaultSource: { kind: string; runId?: string } };
    expect(sources.defaultSource.kind).toBe('simulation');
    const made = await fetch(`${dashboard}/api/reports`, {
      method: 'POST',
      headers: { cookie: operatorCookie, 'content-type': 'application/json' },
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
      await (
        await fetch(`${dashboard}/api/reports/${report.id}/pdf`, { headers: { cookie: operatorCookie } })
      ).arrayBuffer(),
    );
    const pdfFile = path.join(dataDir, 'demo-report.pdf');
    await writeFile(pdfFile, pdf);
    const text = execFileSync('pdftotext', ['-layout', pdfFile, '-'], { encoding: 'utf8' });
    expect(text).toContain('酉阳土家族苗族自治县');
    expect(text).toContain('近30天');
    expect(text).toContain(sources.defaultSource.runId ?? 'no run');
    expect(text).toContain('模拟数据');

    const influxdPid = Number.parseInt(await readFile(path.join(dataDir, 'influxdb', 'influxd.pid'), 'utf8'), 10);
    expect(processAlive(influxdPid)).toBe(true);

    // SIGTERM, as systemd or `kill` sends it: a clean stop, influxd with it.
    expect(await stop(first.child, 'SIGTERM'), await explain(first.out)).toBe(0);
    expect(first.out.text).toContain('stopped; data kept in');
    expect(first.out.text).toMatch(/messages\s+[\d,]+ sent, [\d,]+ acknowledged, 0 failed/);
    expect(processAlive(influxdPid)).toBe(false);
    await expect(fetch(`${dashboard}/`)).rejects.toThrow();

    // A second start: nothing to build, no new seeding, nothing lost; Ctrl-C stops it.
    const second = await start();
    expect(second.out.text).not.toContain('anlian: building');
    expect(second.out.text).not.toContain('seeded from');
    // The history was written once; the second start reuses it.
    expect(second.out.text).toMatch(
      /demo history: simulation run demo-history-\d{8}-s1 \(the 30 days before the first start\)/,
    );
    expect(second.out.text).not.toContain('days of history generated');
    expect(second.out.text).toMatch(/supervision\s+\d+ open hazards/);
    expect(await storedStatusPoints()).toBeGreaterThanOrEqual(stored ?? 0);
    expect(await stop(second.child, 'SIGINT'), await explain(second.out)).toBe(0);
  }, 900_000);
});
