// The gateway as a process of its own: `node gateway/dist/gateway-entry.js --config FILE`.
// What `anlian gateway` runs, without the rest of the command line (small boxes, tests).
import { Command } from 'commander';
import { gatewayCommands } from './cli.js';

const [command] = gatewayCommands();
if (!command) throw new Error('no gateway command');
await new Command('anlian-gateway').addCommand(command, { isDefault: true }).parseAsync(process.argv);
