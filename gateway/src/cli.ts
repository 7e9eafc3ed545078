import { Command } from 'commander';

/** `anlian gateway`. The implementation loads only when the command runs, so `anlian --help` stays fast. */
export function gatewayCommands(): Command[] {
  const gateway = new Command('gateway')
    .description(
      'run an institution’s edge gateway: local device adapters, durable store-and-forward to the county, local alarm',
    )
    .requiredOption('--config <file>', 'gateway configuration (YAML or JSON; see gateway/README.md)')
    .action(async (opts: { config: string }) => {
      const { runGatewayCommand } = await import('./main.js');
      await runGatewayCommand(opts);
    });
  return [gateway];
}
