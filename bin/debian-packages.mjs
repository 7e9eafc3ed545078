#!/usr/bin/env node
// Installs the Debian packages that a command needs and the machine lacks, from the one list in
// deploy/debian-packages.txt: with apt-get as root, with sudo when it needs no password; otherwise
// it names them and how to install them. `./anlian up` and `./anlian test` call it first.
//
//   node bin/debian-packages.mjs up|test          install what is missing
//   node bin/debian-packages.mjs up|test --list   print the packages that command needs
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LIST_FILE = 'deploy/debian-packages.txt';

/** The list: `[{ name, uses: ['up', 'test'] }]`, in file order. */
export function readPackageList(root) {
  const packages = [];
  for (const raw of readFileSync(join(root, LIST_FILE), 'utf8').split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const [name, ...uses] = line.split(/\s+/);
    const bad = uses.filter((u) => u !== 'up' && u !== 'test' && u !== 'cluster');
    if (uses.length === 0 || bad.length > 0) {
      throw new Error(`${LIST_FILE}: "${raw.trim()}" must name the package, then "up", "test" and/or "cluster"`);
    }
    packages.push({ name, uses });
  }
  return packages;
}

/** The packages `command` needs. */
export function packagesFor(root, command) {
  return readPackageList(root)
    .filter((p) => p.uses.includes(command))
    .map((p) => p.name);
}

/** Those of `names` that dpkg does not have installed; undefined when there is no dpkg (not Debian). */
export function missingPackages(names) {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax, not a JS template.
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\\n', ...names], { encoding: 'utf8' });
  if (r.error) return undefined;
  const installed = new Set(
    r.stdout
      .split('\n')
      .filter((l) => l.endsWith(' installed'))
      .map((l) => l.split(' ')[0].replace(/:.*$/, '')),
  );
  return names.filter((n) => !installed.has(n));
}

function aptGet(prefix, args) {
  const [cmd, ...rest] = [...prefix, 'apt-get', ...args];
  const r = spawnSync(cmd, rest, {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return r.status === 0;
}

/** Installs what `command` needs and lacks; returns the exit code. */
export function ensurePackages(root, command, log = (line) => process.stderr.write(`${line}\n`)) {
  const wanted = packagesFor(root, command);
  const missing = missingPackages(wanted);
  if (missing === undefined) {
    log(`anlian: not a Debian system (no dpkg-query); \`${command}\` needs: ${wanted.join(' ')}`);
    return 0;
  }
  if (missing.length === 0) return 0;
  const asRoot = process.getuid?.() === 0;
  const sudo = !asRoot && spawnSync('sudo', ['-n', 'true']).status === 0;
  if (!asRoot && !sudo) {
    log(
      `anlian: \`${command}\` needs these Debian packages: ${missing.join(' ')}\n` +
        `  install them as root: apt-get install --no-install-recommends ${missing.join(' ')}`,
    );
    return command === 'test' ? 1 : 0;
  }
  const prefix = sudo ? ['sudo', '-n'] : [];
  log(`anlian: installing Debian packages: ${missing.join(' ')} …`);
  const install = ['install', '-y', '-qq', '--no-install-recommends', ...missing];
  // A fresh machine's package index may be missing or old: update once, then try again.
  if (!aptGet(prefix, install) && !(aptGet(prefix, ['update', '-qq']) && aptGet(prefix, install))) {
    log(`anlian: apt-get could not install ${missing.join(' ')}`);
    return 1;
  }
  const still = missingPackages(missing) ?? [];
  if (still.length > 0) {
    log(`anlian: still missing after apt-get: ${still.join(' ')}`);
    return 1;
  }
  return 0;
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && resolve(process.argv[1]) === self) {
  const root = resolve(dirname(self), '..');
  const command = process.argv[2];
  if (command !== 'up' && command !== 'test') {
    process.stderr.write('usage: node bin/debian-packages.mjs up|test [--list]\n');
    process.exitCode = 2;
  } else if (process.argv.includes('--list')) {
    process.stdout.write(`${packagesFor(root, command).join('\n')}\n`);
  } else {
    process.exitCode = ensurePackages(root, command);
  }
}
