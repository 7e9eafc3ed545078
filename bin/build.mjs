#!/usr/bin/env node
// Brings a checkout up to date before anything runs from it: npm packages (npm ci), every
// TypeScript workspace (tsc -b) and the web app the dashboard serves (vite), each only when it is
// missing or older than its inputs. `./anlian` and `npm test` call it; it imports nothing but
// Node's own modules, because it runs before `npm ci` on a fresh clone.
//
//   node bin/build.mjs           build what is stale, saying why
//   node bin/build.mjs --check   only print what is stale (exit 1 if anything is)
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The web app's build, served by the dashboard (dashboard/src/dashboard.ts DEFAULT_WEB_ROOT). */
export const WEB_DIST = 'dashboard/web-dist';
/** Written by the vite config's `anlian-build-inputs` plugin: every file the last web build read. */
export const WEB_INPUTS_FILE = '.build-inputs.json';
const WEB_SOURCES = 'dashboard/web';
const NPM_STAMP = 'node_modules/.package-lock.json';
const LOCK = '.anlian-build.lock';

/** Newest modification time under `path` (files and directories, so that a deleted file counts), skipping `skip` names. */
export function newestMtime(path, skip = new Set(['node_modules', 'dist', 'web-dist', 'test', 'test-artifacts'])) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return 0;
  }
  let newest = st.mtimeMs;
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) {
      if (skip.has(name)) continue;
      newest = Math.max(newest, newestMtime(join(path, name), skip));
    }
  }
  return newest;
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** The TypeScript projects `tsc -b` builds: the root tsconfig's references. */
export function workspaces(root) {
  const config = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8'));
  return (config.references ?? []).map((r) => r.path.replace(/^\.\//, ''));
}

/**
 * What is stale and why: `{ npm, tsc, web }`, each a reason (string) or null when up to date.
 * A workspace is stale when any file or folder under its src/, its tsconfig.json or package.json,
 * the base tsconfig or the installed packages is newer than its dist/.tsbuildinfo; the web app when
 * any file its last build read (or anything under dashboard/web) is newer than its index.html.
 */
export function stalePlan(root) {
  const plan = { npm: null, tsc: null, web: null };
  const installed = mtime(join(root, NPM_STAMP));
  const lock = mtime(join(root, 'package-lock.json')) ?? 0;
  if (installed === undefined) plan.npm = 'no npm packages installed (node_modules)';
  else if (lock > installed) plan.npm = 'package-lock.json changed since the last npm ci';
  const packages = installed ?? Number.POSITIVE_INFINITY;

  const base = mtime(join(root, 'tsconfig.base.json')) ?? 0;
  for (const ws of workspaces(root)) {
    const dir = join(root, ws);
    const built = mtime(join(dir, 'dist', '.tsbuildinfo'));
    if (built === undefined) {
      plan.tsc ??= `${ws} is not built`;
      continue;
    }
    const inputs = Math.max(
      newestMtime(join(dir, 'src')),
      mtime(join(dir, 'tsconfig.json')) ?? 0,
      mtime(join(dir, 'package.json')) ?? 0,
      base,
      packages,
    );
    if (inputs > built) plan.tsc ??= `${ws} changed since its last build`;
  }

  const index = mtime(join(root, WEB_DIST, 'index.html'));
  let inputs;
  try {
    inputs = JSON.parse(readFileSync(join(root, WEB_DIST, WEB_INPUTS_FILE), 'utf8'));
  } catch {
    inputs = undefined;
  }
  if (index === undefined) plan.web = `the web app is not built (${WEB_DIST})`;
  else if (!Array.isArray(inputs)) plan.web = `${WEB_DIST} does not list its inputs`;
  else {
    if (Math.max(newestMtime(join(root, WEB_SOURCES)), packages) > index) {
      plan.web = `${WEB_SOURCES} changed since the last web build`;
    }
    for (const file of inputs) {
      if (plan.web) break;
      const t = mtime(join(root, file));
      if (t === undefined) plan.web = `${file} (read by the last web build) is gone`;
      else if (t > index) plan.web = `${file} changed since the last web build`;
    }
  }
  return plan;
}

function run(root, command, args, log) {
  const shown = [command === process.execPath ? 'node' : command, ...args].map((a) =>
    a.startsWith(`${root}/`) ? relative(root, a) : a,
  );
  log(`anlian: ${shown.join(' ')}`);
  const r = spawnSync(command, args, { cwd: root, stdio: ['ignore', 2, 2] });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
}

/**
 * Builds the web app into a fresh folder and swaps it in, so that a server or a test reading the
 * old build never sees a half-written one.
 */
function buildWeb(root, log) {
  const started = new Date();
  const dist = join(root, WEB_DIST);
  const fresh = `${dist}.new-${process.pid}`;
  const old = `${dist}.old-${process.pid}`;
  rmSync(fresh, { recursive: true, force: true });
  run(
    root,
    process.execPath,
    [
      join(root, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      join(root, WEB_SOURCES, 'vite.config.ts'),
      '--outDir',
      fresh,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    log,
  );
  // Dated at the start: a source edited while vite ran is newer, and builds again next time.
  utimesSync(join(fresh, 'index.html'), started, started);
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(fresh, dist);
  rmSync(old, { recursive: true, force: true });
}

/** One build at a time per checkout: `./anlian` in two terminals, or test files started together. */
function withLock(root, log, body) {
  const path = join(root, LOCK);
  const deadline = Date.now() + 15 * 60_000;
  let told = false;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number.parseInt(readFileSync(path, 'utf8') || '0', 10);
      let alive = false;
      try {
        process.kill(holder, 0);
        alive = holder > 0;
      } catch (e) {
        alive = e.code === 'EPERM';
      }
      if (!alive) {
        rmSync(path, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`another build (pid ${holder}) holds ${path}`);
      if (!told) log(`anlian: waiting for another build (pid ${holder}) …`);
      told = true;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    return body();
  } finally {
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

/**
 * Runs the stale steps in order (packages, TypeScript, web), or only those of `steps`; returns
 * the steps it ran.
 */
export function build(root, { log = (line) => process.stderr.write(`${line}\n`), steps = ['npm', 'tsc', 'web'] } = {}) {
  return withLock(root, log, () => {
    // Re-planned under the lock: a build that finished while this one waited leaves nothing to do.
    const plan = stalePlan(root);
    for (const step of Object.keys(plan)) if (!steps.includes(step)) plan[step] = null;
    const ran = [];
    if (plan.npm) {
      log(`anlian: installing npm packages: ${plan.npm}`);
      run(root, 'npm', ['ci', '--no-audit', '--no-fund'], log);
      ran.push('npm');
    }
    // New packages can change types and the bundle: check again after installing.
    const after = plan.npm ? { ...stalePlan(root), npm: null } : plan;
    for (const step of Object.keys(after)) if (!steps.includes(step)) after[step] = null;
    if (after.tsc) {
      log(`anlian: building TypeScript: ${after.tsc}`);
      const started = new Date();
      run(root, process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b'], log);
      // tsc -b leaves a project it finds up to date untouched, though new packages made it look
      // stale here; all are current now. Dated at the start, so that an edit made meanwhile counts.
      for (const ws of workspaces(root)) utimesSync(join(root, ws, 'dist', '.tsbuildinfo'), started, started);
      ran.push('tsc');
    }
    if (after.web) {
      log(`anlian: building the web app: ${after.web}`);
      buildWeb(root, log);
      ran.push('web');
    }
    return ran;
  });
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && resolve(process.argv[1]) === self) {
  const root = resolve(dirname(self), '..');
  if (process.argv.includes('--check')) {
    const plan = stalePlan(root);
    const stale = Object.entries(plan).filter(([, why]) => why);
    for (const [step, why] of stale) process.stdout.write(`${step}: ${why}\n`);
    process.exitCode = stale.length > 0 ? 1 : 0;
  } else {
    try {
      build(root);
    } catch (err) {
      process.stderr.write(`anlian: build failed: ${err.message}\n`);
      process.exitCode = 1;
    }
  }
}
