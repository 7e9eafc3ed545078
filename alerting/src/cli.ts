import { Command } from 'commander';
import { describeAlertingServiceConfig } from './service-config.js';

function envHelp(): string {
  const rows = describeAlertingServiceConfig();
  const width = Math.max(...rows.map((r) => r.name.length));
  return `\nEnvironment:\n${rows.map((r) => `  ${r.name.padEnd(width)}  ${r.description}`).join('\n')}\n`;
}

/** The subcommands this package contributes to `anlian`. Implementations load on use. */
export function alertingCommands(): Command[] {
  return [
    new Command('alerting')
      .description(
        'run an alerting node of the production form: rules, alerts, pushes and escalation on the broker’s gateway messages, with an HTTP API for the dashboards',
      )
      .addHelpText('after', envHelp())
      .action(async () => {
        const { runAlertingCommand } = await import('./service-main.js');
        await runAlertingCommand();
      }),
  ];
}
