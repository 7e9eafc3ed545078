import { Command, Option } from 'commander';
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
    .description('write mosquitto password and ACL files from the registry, for an external broker')
    .requiredOption('--out <dir>', 'directory for passwd, acl and mosquitto-auth.conf')
    .option('--ingest-user <name>', 'username ingest connects with', 'ingest')
    .addOption(
      new Option('--ingest-password <password>', 'password ingest connects with')
        .env('ANLIAN_BROKER_PASSWORD')
        .makeOptionMandatory(),
    )
    .addOption(dataDirOption())
    .addOption(dbUrlOption())
    .action(
      async (opts: { out: string; ingestUser: string; ingestPassword: string; dataDir: string; dbUrl?: string }) => {
        const { runBrokerConfigCommand } = await import('./registry-commands.js');
        await runBrokerConfigCommand(opts);
      },
    );

  return [ingest, seed, brokerConfig];
}
