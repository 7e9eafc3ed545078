import { Command, InvalidArgumentError, Option } from 'commander';
import { DEMO_COUNTY_FILE } from './paths.js';

/** Options of `anlian sim` and `anlian drill`, as commander hands them to the action. */
export interface SimCliOptions {
  county: string;
  broker: string;
  seed?: number;
  speed?: number;
  scenario?: string;
  duration?: string;
  load?: string;
  institutions?: number;
  start?: string;
  settle?: string;
  username?: string;
  password?: string;
  caFile?: string;
  naturalFaults: boolean;
  logLevel: string;
  /** The simulation run's id when not in real time (default `sim-<start>`). */
  simRun?: string;
  /** Device mode: simulated sensors talk to a real gateway over its local protocols. */
  deviceMode?: boolean;
  gateway?: string;
  lan?: string;
  modbusListen?: string;
  cameraListen?: string;
  cameraDiscovery?: boolean;
  printGatewayConfig?: boolean;
  /** `drill`: the county's dashboard, where the drill is registered. */
  dashboard?: string;
  /** `drill`: an operator (or admin) of the county's dashboard. */
  user?: string;
  dashboardPassword?: string;
  /** `drill`: false with `--no-register` (a test broker with no county behind it). */
  register?: boolean;
}

const positiveNumber = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${what} must be a positive number`);
  return n;
};
const positiveInt = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${what} must be a whole number ≥ 1`);
  return n;
};
const nonNegativeInt = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${what} must be a whole number ≥ 0`);
  return n;
};

function commonOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--county <file>', 'county file to simulate (CountyConfig JSON)').default(
        DEMO_COUNTY_FILE,
        'deploy/counties/youyang-demo.json',
      ),
    )
    .addOption(
      new Option('--broker <url>', 'MQTT broker URL').env('ANLIAN_BROKER_URL').default('mqtt://127.0.0.1:1883'),
    )
    .option(
      '--seed <n>',
      'random seed: the same seed replays the same county (default: the scenario’s, else 1)',
      nonNegativeInt('--seed'),
    )
    .option(
      '--speed <n>',
      'simulated seconds per real second; 60 = a day in 24 min (default: the scenario’s, else 1)',
      positiveNumber('--speed'),
    )
    .option(
      '--institutions <n>',
      'simulate only the first N institutions (plus any a scenario targets)',
      positiveInt('--institutions'),
    )
    .option(
      '--start <time>',
      'simulated start: now, 2026-11-23T11:00+08:00, or a local time such as 11:00 (its latest occurrence); default: the scenario’s, else now',
    )
    .option(
      '--sim-run <id>',
      'name this simulation run (a speed other than 1 or a start other than now marks every message with it; the county keeps it apart); default sim-<start>',
    )
    .option('--load <IxDxINTERVAL>', 'synthetic load county instead of --county, e.g. 250x200x10s')
    .option('--username <name>', 'MQTT username for every gateway (default: the gateway id)')
    .addOption(
      new Option('--password <password>', 'MQTT password for every gateway (default: the gateway’s demo secret)').env(
        'ANLIAN_SIM_PASSWORD',
      ),
    )
    .option(
      '--ca-file <file>',
      'PEM of the CA that signed the broker’s certificate (mqtts://), as a gateway’s county.caFile',
    )
    .option('--no-natural-faults', 'no random slow leaks or camera drop-outs, only the scenario’s faults')
    .addOption(
      new Option('--log-level <level>', 'log level (logs go to stderr)')
        .default('warn')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
    );
}

/**
 * `anlian sim` and `anlian drill`. The implementations (MQTT, the generator) load only when a
 * command runs, so `anlian --help` stays fast.
 */
export function simulatorCommands(): Command[] {
  const sim = commonOptions(new Command('sim'))
    .description('simulate a county of gateways and devices over MQTT (the demo county by default)')
    .option('--scenario <file>', 'scenario file (YAML/JSON) or the name of a shipped one, e.g. kitchen-fire-lunchtime')
    .option('--duration <time>', 'simulated time to run, e.g. 10m, 1d (default: until interrupted)')
    .option('--device-mode', 'simulate the devices of one gateway talking to a real gateway (LAN MQTT, Modbus TCP)')
    .option('--gateway <id>', 'device mode: whose devices (default: the county’s first gateway)')
    .option('--lan <url>', 'device mode: the gateway’s LAN MQTT broker', 'mqtt://127.0.0.1:1884')
    .option('--modbus-listen <host:port>', 'device mode: serve the extinguisher gauges as Modbus TCP transmitters here')
    .option(
      '--camera-listen <host:port>',
      'device mode: simulate the gateway’s cameras (ONVIF + RTSP); the first answers ONVIF on this port, the next on port + 1, …',
    )
    .option(
      '--camera-discovery',
      'device mode: the simulated cameras answer WS-Discovery on port 3702 (multicast on the --camera-listen host’s interface, and unicast); the printed configuration then finds them by it',
    )
    .option('--print-gateway-config', 'device mode: print a matching gateway configuration (JSON) and exit')
    .action(async (opts: SimCliOptions) => {
      if (opts.deviceMode || opts.printGatewayConfig) {
        const { runDeviceModeCommand } = await import('./device-mode/device-mode-command.js');
        process.exitCode = await runDeviceModeCommand(opts);
        return;
      }
      const { runSimCommand } = await import('./sim-command.js');
      process.exitCode = await runSimCommand(opts, 'sim');
    });

  const drill = commonOptions(new Command('drill'))
    .description('run a drill scenario against the county; ends when its last fault has played out plus a settle time')
    .requiredOption(
      '--scenario <file>',
      'scenario file (YAML/JSON) or the name of a shipped one, e.g. kitchen-fire-lunchtime',
    )
    .option('--settle <time>', 'how long to keep running after the last fault (default: the scenario’s settle, 2m)')
    .addOption(
      new Option('--dashboard <url>', 'the county’s dashboard, where the drill is registered')
        .env('ANLIAN_DASHBOARD_URL')
        .default('http://127.0.0.1:8080'),
    )
    .addOption(new Option('--user <name>', 'an operator of the county’s dashboard').env('ANLIAN_DASHBOARD_USER'))
    .addOption(
      new Option('--dashboard-password <password>', 'that operator’s password').env('ANLIAN_DASHBOARD_PASSWORD'),
    )
    .option(
      '--no-register',
      'do not register the drill with a county (a test broker only: a county would treat its alarms as real)',
    )
    .addHelpText(
      'after',
      '\nThe drill is registered with the county (its alarms are tagged, pushed with [演练] and scored) and drives\n' +
        'only the institutions its scenario names. It refuses to start while the county hears any of their gateways\n' +
        '(the simulator of `anlian up --demo`, or real gateways): it would take their connections over. Inside\n' +
        '`anlian up --demo`, play a drill with `anlian up --demo --scenario NAME` instead.\n',
    )
    .action(async (opts: SimCliOptions) => {
      const { runSimCommand } = await import('./sim-command.js');
      process.exitCode = await runSimCommand(opts, 'drill');
    });

  return [sim, drill];
}
