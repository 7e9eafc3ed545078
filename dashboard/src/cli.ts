import { Command, Option } from 'commander';
import { describeDashboardConfig } from './config.js';
import { ROLES } from './store/dashboard-schema.js';

function envHelp(): string {
  const rows = describeDashboardConfig();
  const width = Math.max(...rows.map((r) => r.name.length));
  return `\nEnvironment:\n${rows.map((r) => `  ${r.name.padEnd(width)}  ${r.description}`).join('\n')}\n`;
}

/** The subcommands this package contributes to `anlian`. Implementations load on use. */
export function dashboardCommands(): Command[] {
  const dashboard = new Command('dashboard')
    .description(
      'run a dashboard node of the production form: the wall screen, the institution, manager and admin views and their API, on the broker, alerting, PostgreSQL and (for several nodes) Redis',
    )
    .addHelpText('after', envHelp())
    .action(async () => {
      const { runDashboardCommand } = await import('./main.js');
      await runDashboardCommand();
    });

  const userAdd = new Command('user-add')
    .description('add a dashboard user (the first county admin, say); the password is read from ANLIAN_USER_PASSWORD')
    .requiredOption('--username <name>', 'login name')
    .requiredOption('--county <id>', 'county the user belongs to')
    .addOption(new Option('--role <role>', 'role').choices([...ROLES]).makeOptionMandatory())
    .option('--institution <id>', 'for institution_manager: their institution')
    .option('--display-name <name>', 'shown name (default: the username)')
    .addOption(new Option('--password <password>').env('ANLIAN_USER_PASSWORD').makeOptionMandatory().hideHelp())
    .action(
      async (opts: {
        username: string;
        county: string;
        role: (typeof ROLES)[number];
        institution?: string;
        displayName?: string;
        password: string;
      }) => {
        const { runUserAdd } = await import('./user-add-command.js');
        await runUserAdd(opts);
      },
    );

  return [dashboard, userAdd];
}
