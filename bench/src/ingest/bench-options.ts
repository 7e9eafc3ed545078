import { parseArgs } from 'node:util';

export interface BenchOptions {
  /** Offered rates, one step each, ascending; one rate unless `--find-max`. */
  rates: number[];
  /** Seconds per step. */
  durationS: number;
  findMax: boolean;
  quick: boolean;
  phases: { baseline: boolean; ingest: boolean };
  gateways: number;
  connections: number;
  tickMs: number;
  /** Longest wait after a step for everything to arrive / be stored, seconds. */
  drainTimeoutS: number;
  /** Interval between probe queries, ms. */
  probeIntervalMs: number;
  /** MQTT sessions of the ingest subscriber (1 = what `anlian ingest` does today). */
  ingestSessions: number;
  /** `node --cpu-prof` on the ingest child; a summary is printed. */
  profile: boolean;
  /** mosquitto `max_queued_messages` and `max_inflight_messages` for this run. */
  brokerMaxQueued: number;
  brokerMaxInflight: number;
  /** MQTT 5 Receive Maximum of the baseline subscriber. */
  baselineReceiveMaximum: number;
  resultsDir: string;
}

export const USAGE = `Usage: npm run bench:ingest -- [options]

  --rate N              offered msg/s (default 10000)
  --duration S          seconds per step (default 60)
  --find-max            step the rate up (--rates, default 5000,10000,15000,20000; 20 s steps
                        unless --duration) until a phase loses messages or p99 > 2 s
  --rates A,B,…         rates for --find-max
  --quick               smoke run: 2000 msg/s for 10 s
  --phase P             baseline | ingest | both (default both)
  --gateways N          simulated gateways (default 2500), 20 devices each
  --connections N       generator MQTT connections sharing the gateways (default 50)
  --tick-ms N           generator scheduler tick (default 10)
  --drain-timeout S     longest wait for stragglers after a step (default 60)
  --probe-interval-ms N InfluxDB probe poll interval (default 100)
  --ingest-sessions N   experiment: ingest subscribes with N MQTT sessions (ExternalSubscriber's
                        \`sessions\`, not in the ingest configuration yet); default 1 = as shipped
  --profile             run ingest under node --cpu-prof and print where its CPU goes
  --broker-max-queued N mosquitto max_queued_messages (default 1000000)
  --broker-max-inflight N mosquitto max_inflight_messages (default 1000)
  --results DIR         where the JSON (and profile) go (default bench/results)
`;

/** A `--name` value that must be a positive integer; `fallback` when it is absent. */
export function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`--${name} must be a positive integer, not ${JSON.stringify(raw)}`);
  return n;
}

export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      'find-max': { type: 'boolean', default: false },
      rates: { type: 'string' },
      quick: { type: 'boolean', default: false },
      phase: { type: 'string', default: 'both' },
      gateways: { type: 'string' },
      connections: { type: 'string' },
      'tick-ms': { type: 'string' },
      'drain-timeout': { type: 'string' },
      'probe-interval-ms': { type: 'string' },
      'ingest-sessions': { type: 'string' },
      profile: { type: 'boolean', default: false },
      'broker-max-queued': { type: 'string' },
      'broker-max-inflight': { type: 'string' },
      results: { type: 'string', default: 'bench/results' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const phase = values.phase;
  if (phase !== 'both' && phase !== 'baseline' && phase !== 'ingest') {
    throw new Error(`--phase must be baseline, ingest or both, not ${JSON.stringify(phase)}`);
  }
  const findMax = values['find-max'];
  const quick = values.quick;
  let rates: number[];
  if (findMax) {
    rates = (values.rates ?? '5000,10000,15000,20000').split(',').map((r) => positiveInt('rates', r.trim(), 0));
    rates.sort((a, b) => a - b);
  } else {
    rates = [positiveInt('rate', values.rate, quick ? 2000 : 10_000)];
  }
  const durationS = positiveInt('duration', values.duration, quick ? 10 : findMax ? 20 : 60);
  return {
    rates,
    durationS,
    findMax,
    quick,
    phases: { baseline: phase !== 'ingest', ingest: phase !== 'baseline' },
    gateways: positiveInt('gateways', values.gateways, 2500),
    connections: positiveInt('connections', values.connections, 50),
    tickMs: positiveInt('tick-ms', values['tick-ms'], 10),
    drainTimeoutS: positiveInt('drain-timeout', values['drain-timeout'], 60),
    probeIntervalMs: positiveInt('probe-interval-ms', values['probe-interval-ms'], 100),
    ingestSessions: positiveInt('ingest-sessions', values['ingest-sessions'], 1),
    profile: values.profile,
    brokerMaxQueued: positiveInt('broker-max-queued', values['broker-max-queued'], 1_000_000),
    brokerMaxInflight: positiveInt('broker-max-inflight', values['broker-max-inflight'], 1000),
    baselineReceiveMaximum: 1000,
    resultsDir: values.results,
  };
}
