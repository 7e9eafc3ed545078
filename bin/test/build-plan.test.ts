import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { stalePlan, WEB_DIST, WEB_INPUTS_FILE, workspaces } from '../build.mjs';
import { packagesFor, readPackageList } from '../debian-packages.mjs';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let root = '';
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const T0 = new Date('2026-01-01T00:00:00Z');
const later = (s: number) => new Date(T0.getTime() + s * 1000);

/** A minimal checkout: two workspaces, installed packages, a built web app; every file dated `T0`. */
async function fakeTree(): Promise<void> {
  root = await mkdtemp(path.join(tmpdir(), 'anlian-build-plan-'));
  const files: Record<string, string> = {
    'tsconfig.json': JSON.stringify({ files: [], references: [{ path: 'protocol' }, { path: 'bench' }] }),
    'tsconfig.base.json': '{}',
    'package-lock.json': '{}',
    'node_modules/.package-lock.json': '{}',
    'protocol/src/ids.ts': '',
    'protocol/src/deep/topics.ts': '',
    'protocol/tsconfig.json': '{}',
    'protocol/package.json': '{}',
    'protocol/dist/.tsbuildinfo': '',
    'protocol/test/ids.test.ts': '',
    'bench/src/run.ts': '',
    'bench/tsconfig.json': '{}',
    'bench/dist/.tsbuildinfo': '',
    'dashboard/web/index.html': '',
    'dashboard/web/src/App.vue': '',
    'dashboard/src/alerts/alert-level.ts': '',
    [`${WEB_DIST}/index.html`]: '',
    [`${WEB_DIST}/${WEB_INPUTS_FILE}`]: JSON.stringify([
      'dashboard/web/src/App.vue',
      'dashboard/src/alerts/alert-level.ts',
    ]),
  };
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  }
  // Sources and folders at T0, build outputs a minute later.
  const dirs = new Set<string>();
  for (const file of Object.keys(files)) {
    for (let d = path.dirname(file); d !== '.'; d = path.dirname(d)) dirs.add(d);
  }
  for (const p of [...Object.keys(files), ...dirs]) await utimes(path.join(root, p), T0, T0);
  for (const built of ['protocol/dist/.tsbuildinfo', 'bench/dist/.tsbuildinfo', `${WEB_DIST}/index.html`]) {
    await utimes(path.join(root, built), later(60), later(60));
  }
}

const touch = (file: string, at: Date) => utimes(path.join(root, file), at, at);

describe('bin/build.mjs: what is stale', () => {
  it('builds every TypeScript project of the root tsconfig, bin and bench included', () => {
    expect(workspaces(repoRoot).sort()).toEqual(
      [
        'alerting',
        'bench',
        'bin',
        'bus',
        'county',
        'dashboard',
        'device-simulators',
        'gateway',
        'gb26875',
        'ingest',
        'protocol',
        'reports',
        'runtime',
        'store',
        'supervision',
        'testing',
        'timeseries',
      ].sort(),
    );
  });

  it('finds nothing to do in an up-to-date tree', async () => {
    await fakeTree();
    expect(stalePlan(root)).toEqual({ npm: null, tsc: null, web: null });
  });

  it('sees a changed source of any workspace, however deep, but not its tests', async () => {
    await fakeTree();
    await touch('protocol/test/ids.test.ts', later(120));
    expect(stalePlan(root).tsc).toBeNull();
    await touch('bench/src/run.ts', later(120));
    expect(stalePlan(root).tsc).toMatch(/bench/);
    await touch('bench/src/run.ts', T0);
    await touch('protocol/src/deep/topics.ts', later(120));
    expect(stalePlan(root).tsc).toMatch(/protocol/);
  });

  it('sees a deleted source (its folder changes), a tsconfig, and a missing build', async () => {
    await fakeTree();
    await rm(path.join(root, 'protocol/src/deep/topics.ts'));
    await touch('protocol/src/deep', later(120));
    expect(stalePlan(root).tsc).toMatch(/protocol/);
    await touch('protocol/src/deep', T0);
    await touch('tsconfig.base.json', later(120));
    expect(stalePlan(root).tsc).toMatch(/changed/);
    await touch('tsconfig.base.json', T0);
    await rm(path.join(root, 'bench/dist'), { recursive: true });
    expect(stalePlan(root).tsc).toBe('bench is not built');
  });

  it('installs packages when node_modules is missing or the lock file changed, and then rebuilds', async () => {
    await fakeTree();
    await touch('package-lock.json', later(120));
    expect(stalePlan(root).npm).toMatch(/package-lock/);
    await touch('package-lock.json', T0);
    await touch('node_modules/.package-lock.json', later(120));
    expect(stalePlan(root)).toMatchObject({ npm: null, tsc: expect.any(String), web: expect.any(String) });
    await rm(path.join(root, 'node_modules'), { recursive: true });
    expect(stalePlan(root).npm).toMatch(/no npm packages/);
  });

  it('builds the web app when it is missing, or when a file it was built from changed', async () => {
    await fakeTree();
    // A server file the app bundles (not under dashboard/web).
    await touch('dashboard/src/alerts/alert-level.ts', later(120));
    expect(stalePlan(root).web).toMatch(/alert-level/);
    await touch('dashboard/src/alerts/alert-level.ts', T0);
    // A new file under dashboard/web (its folder changes).
    await writeFile(path.join(root, 'dashboard/web/src/New.vue'), '');
    expect(stalePlan(root).web).toMatch(/dashboard\/web/);
    await rm(path.join(root, 'dashboard/web/src/New.vue'));
    await touch('dashboard/web/src', T0);
    expect(stalePlan(root).web).toBeNull();
    await rm(path.join(root, WEB_DIST, WEB_INPUTS_FILE));
    expect(stalePlan(root).web).toMatch(/inputs/);
    await rm(path.join(root, WEB_DIST), { recursive: true });
    expect(stalePlan(root).web).toMatch(/not built/);
  });
});

describe('deploy/debian-packages.txt', () => {
  it('is the one list: up needs InfluxDB only, the tests need every real server they start', () => {
    expect(packagesFor(repoRoot, 'up')).toEqual(['influxdb']);
    const test = packagesFor(repoRoot, 'test');
    for (const name of ['influxdb', 'influxdb-client', 'mosquitto', 'postgresql', 'redis-server', 'chromium']) {
      expect(test).toContain(name);
    }
    expect(new Set(readPackageList(repoRoot).map((p) => p.name)).size).toBe(readPackageList(repoRoot).length);
  });
});
