import { Command, InvalidArgumentError, Option } from 'commander';

export interface ClusterUpOptions {
  dataDir: string;
  county?: string;
  sim: boolean;
  speed: string;
  seed: string;
  scenario?: string;
  ingest: number;
  alerting: number;
  dashboards: number;
}

const count = (what: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 8) throw new InvalidArgumentError(`${what} must be 1 to 8`);
  return n;
};

/** `anlian cluster up`: the production form on one machine. The implementation loads on use. */
export function clusterCommand(): Command {
  const up = new Command('up')
    .description(
      'the production form on one machine: mosquitto (TLS), PostgreSQL, Redis and influxd from the Debian packages, two of each Anlian service as separate processes, and the simulated county over TLS',
    )
    .addOption(
      new Option('--data-dir <dir>', 'engines’ and services’ data, logs and certificates')
        .env('ANLIAN_CLUSTER_DIR')
        .default('.anlian-cluster'),
    )
    .option('--county <file>', 'county file seeded into PostgreSQL (default: the demo county)')
    .option('--no-sim', 'no simulated county (gateways of your own connect to the TLS listener)')
    .option('--speed <n>', 'simulator: simulated seconds per real second', '1')
    .option('--seed <n>', 'simulator: random seed', '1')
    .option('--scenario <file>', 'simulator: a drill scenario to play (see device-simulators/scenarios)')
    .option('--ingest <n>', 'ingest replicas (shared subscription)', count('--ingest'), 2)
    .option('--alerting <n>', 'alerting nodes', count('--alerting'), 2)
    .option('--dashboards <n>', 'dashboard nodes (Redis Streams adapter)', count('--dashboards'), 2)
    .addHelpText(
      'after',
      '\nAs root, missing Debian packages (deploy/debian-packages.txt) are installed with apt-get first.\nCtrl-C stops everything it started, in order, and keeps the data for the next start.\n',
    )
    .action(async (opts: ClusterUpOptions) => {
      const { runClusterUp } = await import('./cluster-up.js');
      await runClusterUp(opts);
    });
  return new Command('cluster').description('the production form of a county on one machine').addCommand(up);
}
