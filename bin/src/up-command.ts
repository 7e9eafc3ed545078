import { Command, Option } from 'commander';

export interface UpOptions {
  demo: boolean;
  dataDir: string;
  county?: string;
  speed: string;
  seed: string;
  scenario?: string;
  influxPort: string;
}

/** `anlian up`: the all-in-one county. The implementation loads on use. */
export function upCommand(): Command {
  return new Command('up')
    .description(
      'the all-in-one county: embedded MQTT broker, ingest, SQLite and a local InfluxDB in one process; --demo adds the simulated demo county',
    )
    .option('--demo', 'run the simulated demo county (酉阳) alongside', false)
    .addOption(new Option('--data-dir <dir>', 'data directory').env('ANLIAN_DATA_DIR').default('.anlian'))
    .option('--county <file>', 'county file seeded on first start (default: the demo county)')
    .option('--speed <n>', 'demo: simulated seconds per real second', '1')
    .option('--seed <n>', 'demo: random seed', '1')
    .option('--scenario <file>', 'demo: a drill scenario to play (see device-simulators/scenarios)')
    .addOption(
      new Option('--influx-port <port>', 'port of the local influxd (when INFLUX_URL is unset)')
        .env('ANLIAN_INFLUX_PORT')
        .default('8086'),
    )
    .addHelpText(
      'after',
      '\nEvery variable of `anlian ingest --help` applies. With INFLUX_URL set, no local influxd is started.\n',
    )
    .action(async (opts: UpOptions) => {
      const { runUp } = await import('./up.js');
      await runUp(opts);
    });
}
