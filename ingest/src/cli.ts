import { Command, InvalidArgumentError, Option } from 'commander';
import { describeIngestConfig } from './config.js';

/** Lists the environment variables a command reads, for `--help`. */
function envHelp(): string {
  const rows = describeIngestConfig();
  const width = Math.max(...rows.map((r) => r.name.length));
  return `\nEnvironment:\n${rows.map((r) => `  ${r.name.padEnd(width)}  ${r.description}`).join('\n')}\n`;
}

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'data directory (SQLite database, spool)').env('ANLIAN_DATA_DIR').default('.anlian');
const dbUrlOption = () => new Option('--db-url <url>', 'PostgreSQL URL instead of SQLite').env('ANLIAN_DB_URL');

interface BrokerConfigCliOptions {
  out: string;
  dataDir: string;
  dbUrl?: string;
  listener?: { host?: string; port: number };
  tlsListener?: { host?: string; port: number };
  tlsCert?: string;
  tlsKey?: string;
  ingestUser: string;
  ingestPassword?: string;
  alertingUser: string;
  alertingPassword?: string;
  dashboardUser: string;
  dashboardPassword?: string;
}

/** `8883`, `127.0.0.1:1883` or `[::1]:1883`. */
function listenerArg(value: string): { host?: string; port: number } {
  const m = /^(?:(\[[^\]]+\]|[^:\s]+):)?(\d{1,5})$/.exec(value);
  const port = Number(m?.[2]);
  if (!m || port < 1 || port > 65_535)
    throw new InvalidArgumentError('expected [host:]port, e.g. 8883 or 10.0.0.5:1883');
  const host = m[1]?.replace(/^\[|\]$/g, '');
  return host ? { host, port } : { port };
}

/** The subcommands this package contributes to `anlian`. Implementations load on use. */
export function ingestCommands(): Command[] {
  const ingest = new Command('ingest')
    .description('run the county ingest service: MQTT broker (or shared subscription), validation, InfluxDB writer')
    .addHelpText('after', envHelp())
    .action(async () => {
      const { runIngestCommand } = await import('./main.js');
      await runIngestCommand();
    });

  const seed = new Command('seed')
    .description(
      'import a county file (institutions, gateways, devices, contacts) into the operational store; idempotent',
    )
    .argument('<file>', 'county JSON file, e.g. deploy/counties/youyang-demo.json')
    .addOption(dataDirOption())
    .addOption(dbUrlOption())
    .action(async (file: string, opts: { dataDir: string; dbUrl?: string }) => {
      const { runSeedCommand } = await import('./registry-commands.js');
      await runSeedCommand(file, opts);
    });

  const brokerConfig = new Command('broker-config')
    .description(
      'write mosquitto password and ACL files from the registry (gateways and the county services’ accounts) and a mosquitto.conf snippet with the listeners',
    )
    .requiredOption('--out <dir>', 'directory for passwd, acl and mosquitto-anlian.conf')
    .addOption(dataDirOption())
    .addOption(dbUrlOption())
    .option('--listener <[host:]port>', 'a plain MQTT listener for the county services (private network)', listenerArg)
    .option('--tls-listener <[host:]port>', 'an MQTT over TLS listener for gateways, e.g. 8883', listenerArg)
    .option('--tls-cert <file>', 'PEM certificate (chain) of the TLS listener')
    .option('--tls-key <file>', 'PEM private key of the TLS listener');
  for (const role of ['ingest', 'alerting', 'dashboard'] as const) {
    brokerConfig
      .option(`--${role}-user <name>`, `username the ${role} service connects with`, role)
      .addOption(
        new Option(
          `--${role}-password <password>`,
          `password of the ${role} account (prefer the environment variable)`,
        ).env(`ANLIAN_${role.toUpperCase()}_BROKER_PASSWORD`),
      );
  }
  brokerConfig.action(async (opts: BrokerConfigCliOptions) => {
    if (opts.tlsListener && !(opts.tlsCert && opts.tlsKey)) {
      brokerConfig.error('--tls-listener needs --tls-cert and --tls-key');
    }
    const { runBrokerConfigCommand } = await import('./registry-commands.js');
    await runBrokerConfigCommand({
      out: opts.out,
      dataDir: opts.dataDir,
      ...(opts.dbUrl ? { dbUrl: opts.dbUrl } : {}),
      accounts: [
        { role: 'ingest', username: opts.ingestUser, password: opts.ingestPassword },
        { role: 'alerting', username: opts.alertingUser, password: opts.alertingPassword },
        { role: 'dashboard', username: opts.dashboardUser, password: opts.dashboardPassword },
      ],
      listeners: [
        ...(opts.listener ? [opts.listener] : []),
        ...(opts.tlsListener && opts.tlsCert && opts.tlsKey
          ? [{ ...opts.tlsListener, tls: { certFile: opts.tlsCert, keyFile: opts.tlsKey } }]
          : []),
      ],
    });
  });

  return [ingest, seed, brokerConfig];
}
