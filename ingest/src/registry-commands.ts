import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '@anlian/runtime';
import type { EntityChanges } from '@anlian/store';
import { migrateToLatest, mosquittoHash, openDatabase, Registry, seedCounty } from '@anlian/store';

interface StoreOptions {
  dataDir: string;
  dbUrl?: string;
}

const dbOptions = (o: StoreOptions) =>
  o.dbUrl ? { url: o.dbUrl } : { sqlitePath: path.join(path.resolve(o.dataDir), 'anlian.db') };

const row = (name: string, c: EntityChanges) =>
  `  ${name.padEnd(13)} ${String(c.created).padStart(6)} created ${String(c.updated).padStart(6)} updated ${String(c.unchanged).padStart(6)} unchanged${
    c.notInFile.length ? `  (${c.notInFile.length} registered but not in the file: kept)` : ''
  }`;

/** `anlian seed FILE`. */
export async function runSeedCommand(file: string, opts: StoreOptions): Promise<void> {
  const logger = createLogger({ level: 'warn', svc: 'seed' });
  // Problems are reported once, by the error the command line prints.
  const summary = await seedCounty({ file, db: dbOptions(opts), logger, print: () => {} });
  const out = [
    `seeded ${file} into ${opts.dbUrl ? 'PostgreSQL' : dbOptions(opts).sqlitePath}: county ${summary.county.id} ${summary.county.status}`,
    row('institutions', summary.institutions),
    row('gateways', summary.gateways),
    row('devices', summary.devices),
    row('contacts', summary.contacts),
    summary.gateways.credentialsChanged
      ? `  ${summary.gateways.credentialsChanged} gateway credentials set or changed`
      : '',
    summary.changes === 0 ? '  nothing changed: the store already matches the file' : `  ${summary.changes} changes`,
  ];
  process.stdout.write(`${out.filter(Boolean).join('\n')}\n`);
}

/** `anlian broker-config --out DIR`: mosquitto password and ACL files from the registry. */
export async function runBrokerConfigCommand(
  opts: StoreOptions & { out: string; ingestUser: string; ingestPassword: string },
): Promise<void> {
  const { writeMosquittoAuthFiles, mosquittoConfigSnippet } = await import('./broker/mosquitto-config.js');
  const logger = createLogger({ level: 'warn', svc: 'broker-config' });
  const store = openDatabase({ ...dbOptions(opts), logger });
  try {
    await migrateToLatest(store.db, logger);
    const registry = new Registry(store.db, { logger });
    const credentials = await registry.mosquittoCredentials();
    const out = path.resolve(opts.out);
    const report = await writeMosquittoAuthFiles({
      credentials,
      ingestUser: { username: opts.ingestUser, mosquittoHash: await mosquittoHash(opts.ingestPassword) },
      dir: out,
    });
    const snippetFile = path.join(out, 'mosquitto-auth.conf');
    await writeFile(snippetFile, `${mosquittoConfigSnippet(out)}\n`, { mode: 0o644 });
    const skipped = report.skipped.map((s) => `  skipped ${s.gatewayId}: ${s.reason}`);
    process.stdout.write(
      [
        `wrote ${report.passwordFile} and ${report.aclFile}: ${report.gateways} gateways and the ingest user ${opts.ingestUser}`,
        ...skipped,
        `add the settings in ${snippetFile} to mosquitto.conf, then reload mosquitto (SIGHUP) after every change of gateways`,
        '',
      ].join('\n'),
    );
  } finally {
    await store.close();
  }
}
