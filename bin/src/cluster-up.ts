import { spawn } from 'node:child_process';
import { access, constants, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeProductionForm, type ProductionForm, startProductionForm } from '@anlian/county/production-form';
import { DEMO_COUNTY_FILE } from '@anlian/device-simulators';
import { createLogger, onShutdownSignal } from '@anlian/runtime';
import type { ClusterUpOptions } from './cluster-command.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** bin/anlian.js: what the services run as (`node bin/anlian.js <service>`). */
const CLI = path.resolve(here, '../anlian.js');
/** The one list of Debian packages (bin/debian-packages.mjs reads it for `up` and `test`). */
const PACKAGE_LIST = path.resolve(here, '../../deploy/debian-packages.txt');

const fail = (message: string): never => {
  process.stderr.write(`anlian cluster up: ${message}\n`);
  process.exit(2);
};

const executable = (file: string) =>
  access(file, constants.X_OK).then(
    () => true,
    () => false,
  );

async function onPath(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    if (dir && (await executable(path.join(dir, command)))) return true;
  }
  return false;
}

async function hasInitdb(): Promise<boolean> {
  if (process.env.PG_BIN) return executable(path.join(process.env.PG_BIN, 'initdb'));
  const versions = await readdir('/usr/lib/postgresql').catch(() => [] as string[]);
  for (const v of versions) if (await executable(path.join('/usr/lib/postgresql', v, 'bin', 'initdb'))) return true;
  return false;
}

/** The engines the production form runs on, and how to tell each is installed. */
const ENGINES: { name: string; present: () => Promise<boolean> }[] = [
  { name: 'mosquitto', present: () => executable('/usr/sbin/mosquitto') },
  { name: 'PostgreSQL (initdb)', present: hasInitdb },
  { name: 'redis-server', present: () => executable('/usr/bin/redis-server') },
  { name: 'influxd', present: () => executable('/usr/bin/influxd') },
  { name: 'openssl', present: () => onPath('openssl') },
];

function apt(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('apt-get', args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    child.once('error', () => resolve(-1));
    child.once('exit', (code) => resolve(code ?? -1));
  });
}

/** Installs the `cluster` packages of deploy/debian-packages.txt when an engine is missing and we are root. */
async function ensureEngines(): Promise<void> {
  const missing: string[] = [];
  for (const e of ENGINES) if (!(await e.present())) missing.push(e.name);
  if (missing.length === 0) return;
  const packages = (await readFile(PACKAGE_LIST, 'utf8'))
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim().split(/\s+/))
    .filter(([name, ...uses]) => name !== '' && uses.includes('cluster'))
    .map(([name]) => name as string);
  const command = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  if (process.getuid?.() !== 0 || !(await onPath('apt-get'))) {
    fail(`missing ${missing.join(', ')}. Install the Debian packages first:\n  sudo ${command}`);
  }
  process.stderr.write(`anlian cluster up: installing ${packages.join(' ')} (missing ${missing.join(', ')}) …\n`);
  const install = ['install', '-y', '-qq', '--no-install-recommends', ...packages];
  if ((await apt(install)) !== 0 && ((await apt(['update', '-qq'])) !== 0 || (await apt(install)) !== 0)) {
    fail(`apt-get could not install the packages; try: ${command}`);
  }
  for (const e of ENGINES) if (!(await e.present())) fail(`${e.name} is still missing after apt-get install`);
}

/** `anlian cluster up`. */
export async function runClusterUp(opts: ClusterUpOptions): Promise<void> {
  await ensureEngines();
  const countyFile = path.resolve(opts.county ?? DEMO_COUNTY_FILE);
  const progress = (line: string) => process.stderr.write(`  ${line}\n`);
  process.stderr.write(`anlian cluster up: the production form in ${path.resolve(opts.dataDir)}\n`);
  let form: ProductionForm;
  try {
    form = await startProductionForm({
      dataDir: opts.dataDir,
      cli: CLI,
      countyFile,
      replicas: { ingest: opts.ingest, alerting: opts.alerting, dashboard: opts.dashboards },
      ...(opts.sim
        ? {
            simulator: {
              speed: Number(opts.speed),
              seed: Number(opts.seed),
              ...(opts.scenario ? { scenario: opts.scenario } : {}),
            },
          }
        : {}),
      progress,
    });
  } catch (err) {
    return fail((err as Error).message);
  }
  process.stdout.write(describeProductionForm(form));

  let stopping = false;
  for (const s of [...form.ingest, ...form.alerting, ...form.dashboards, ...(form.simulator ? [form.simulator] : [])]) {
    void s.ended().then((how) => {
      if (!stopping)
        process.stderr.write(`anlian cluster up: ${s.name} (pid ${s.pid}) ended: ${how}; see ${s.logFile}\n`);
    });
  }
  const logger = createLogger({ level: 'warn', svc: 'cluster' });
  // Each service drains on SIGTERM (up to 30 s); the engines stop after them.
  onShutdownSignal(
    logger,
    async () => {
      stopping = true;
      process.stdout.write('\nstopping …\n');
      await form.stop();
      process.stdout.write(`stopped; data kept in ${form.dataDir}\n`);
    },
    300_000,
  );
}
