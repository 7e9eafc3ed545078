// The one command-line entry: `anlian <subcommand>`. Each workspace contributes its
// subcommands; their implementations load only when used.
import { readFileSync } from 'node:fs';
import { alertingCommands } from '@anlian/alerting/cli';
import { dashboardCommands } from '@anlian/dashboard/cli';
import { simulatorCommands } from '@anlian/device-simulators/cli';
import { gatewayCommands } from '@anlian/gateway/cli';
import { ingestCommands } from '@anlian/ingest/cli';
import { Command } from 'commander';
import { upCommand } from './up-command.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('anlian')
  .description('安联网 Anlian — county IoT safety monitoring for elder-care institutions')
  .version(version)
  .showHelpAfterError()
  .enablePositionalOptions();

for (const command of [
  upCommand(),
  ...ingestCommands(),
  ...alertingCommands(),
  ...gatewayCommands(),
  ...dashboardCommands(),
  ...simulatorCommands(),
])
  program.addCommand(command);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Errors with a catalogue code are the user's to fix: say what, without a stack trace.
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ANL_')) {
    process.stderr.write(`anlian: ${(err as Error).message}\n`);
    process.exit(2);
  }
  throw err;
}
