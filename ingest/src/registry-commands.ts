import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createLogger } from '@anlian/runtime';
import type { EntityChanges } from '@anlian/store';
import { migrateToLatest, mosquittoHash, openDatabase, Registry, seedCounty } from '@anlian/store';
import type { CountyServiceRole, MosquittoListener } from './broker/mosquitto-config.js';
import { IngestError } from './errors.js';

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

export interface BrokerConfigOptions extends StoreOptions {
  out: string;
  /** The service accounts to write: a role without a password is left out (and said so). */
  accounts: { role: CountyServiceRole; username: string; password: string | undefined }[];
  /** mosquitto listeners to add to the configuration snippet. */
  listeners: MosquittoListener[];
}

/** The snippet `anlian broker-config` writes next to `passwd` and `acl`: a mosquitto conf.d drop-in. */
export const BROKER_CONFIG_SNIPPET = 'mosquitto-anlian.conf';

/** `anlian broker-config --out DIR`: mosquitto password and ACL files from the registry, and the listeners. */
export async function runBrokerConfigCommand(opts: BrokerConfigOptions): Promise<void> {
  const { writeMosquittoAuthFiles, mosquittoConfigSnippet } = await import('./broker/mosquitto-config.js');
  const given = opts.accounts.filter((a) => a.password !== undefined && a.password !== '');
  if (given.length === 0) {
    throw new IngestError(
      'ANL_ERR_CONFIG',
      'no service account: give at least --ingest-password (or ANLIAN_INGEST_BROKER_PASSWORD)',
    );
  }
  const logger = createLogger({ level: 'warn', svc: 'broker-config' });
  const store = openDatabase({ ...dbOptions(opts), logger });
  try {
    await migrateToLatest(store.db, logger);
    const registry = new Registry(store.db, { logger });
    const credentials = await registry.mosquittoCredentials();
    const out = path.resolve(opts.out);
    const services = given.map((a) => ({
      role: a.role,
      username: a.username,
      mosquittoHash: mosquittoHash(a.password ?? ''),
    }));
    const report = await writeMosquittoAuthFiles({ credentials, services, dir: out });
    const snippetFile = path.join(out, BROKER_CONFIG_SNIPPET);
    await writeFile(snippetFile, mosquittoConfigSnippet(out, opts.listeners), { mode: 0o644 });
    const missing = opts.accounts.filter((a) => !given.includes(a));
    process.stdout.write(
      [
        `wrote ${report.passwordFile} and ${report.aclFile}: ${report.gateways} gateways; service accounts ${given.map((a) => `${a.username} (${a.role})`).join(', ')}`,
        ...missing.map(
          (a) => `  no password for the ${a.role} account: \`anlian ${a.role}\` cannot connect to this broker`,
        ),
        ...report.skipped.map((s) => `  skipped ${s.gatewayId}: ${s.reason}`),
        `wrote ${snippetFile}${opts.listeners.length ? ` with listeners ${opts.listeners.map((l) => `${l.tls ? 'mqtts' : 'mqtt'}://${l.host ?? '*'}:${l.port}`).join(', ')}` : ''}: include it in mosquitto.conf (Debian: copy it to /etc/mosquitto/conf.d/)`,
        'reload mosquitto (SIGHUP) after every change of gateways',
        '',
      ].join('\n'),
    );
  } finally {
    await store.close();
  }
}
