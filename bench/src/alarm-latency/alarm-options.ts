import { parseArgs } from 'node:util';
import { positiveInt } from '../ingest/bench-options.js';

export interface AlarmBenchOptions {
  /** Background telemetry, msg/s (the ingest bench's generator). */
  rate: number;
  /** Seconds of background load; probes run inside it (1 s after its start to 1 s before its end). */
  durationS: number;
  quick: boolean;
  /** Pause between two fire events, uniformly random in [min, max] ms. */
  probeIntervalMs: { min: number; max: number };
  /** Fire detectors per probe gateway; the number of probe gateways follows from the run length. */
  detectorsPerProbeGateway: number;
  heartbeatMs: number;
  gateways: number;
  connections: number;
  tickMs: number;
  /** Longest wait after the load for outstanding alerts and pushes, seconds. */
  drainTimeoutS: number;
  brokerMaxQueued: number;
  brokerMaxInflight: number;
  /** Experiment: alerting's `ANLIAN_ALERT_TICK_MS` (default: unset, alerting's own default of 1000). */
  alertTickMs: number | undefined;
  /** `node --cpu-prof` on the ingest + alerting child; a summary is printed. */
  profile: boolean;
  /**
   * `all-in-one`: ingest and alerting in one process on ingest's events (as `anlian up`);
   * `services`: the production form — ingest and `anlian alerting` each a process of its own,
   * alerting on its own broker sessions.
   */
  form: 'all-in-one' | 'services';
  /**
   * Also fire alarms through a real gateway process (issue 12): simulated detectors on its LAN
   * broker, the gateway forwarding to the county broker; each hop is reported (gateway-hop.ts).
   */
  viaGateway: boolean;
  /**
   * Issue 12's failover target: a second `anlian alerting` node on the same partition, and the node
   * acting for it SIGKILLed halfway through the load (`failover-report.ts`). Production form on
   * PostgreSQL only (the partition is a PostgreSQL advisory lock).
   */
  failover: boolean;
  /**
   * The operational store of ingest and alerting: `sqlite` (a file in the data directory, as
   * `anlian up`) or `postgres` (a PostgreSQL cluster started for the run, durable, as production).
   */
  store: 'sqlite' | 'postgres';
  resultsDir: string;
}

export const USAGE = `Usage: npm run bench:alarm-latency -- [options]

  --rate N               background telemetry msg/s (default 10000)
  --duration S           seconds of background load with fire alarms in it (default 60)
  --quick                smoke run: 2000 msg/s for 15 s
  --probe-interval A-B   pause between fire alarms, random in A–B ms (default 200-500)
  --gateways N           background gateways (default 2500), 20 devices each
  --connections N        background generator MQTT connections (default 50)
  --tick-ms N            generator scheduler tick (default 10)
  --drain-timeout S      longest wait for outstanding alerts and pushes after the load (default 60)
  --broker-max-queued N  mosquitto max_queued_messages (default 1000000)
  --broker-max-inflight N mosquitto max_inflight_messages (default 1000)
  --alert-tick-ms N      experiment: alerting's ANLIAN_ALERT_TICK_MS (time-based rules and escalations;
                         default unset = alerting's default, 1000)
  --profile              run ingest + alerting under node --cpu-prof and print where its CPU goes
  --form F               all-in-one (default: ingest + alerting in one process, as anlian up) or
                         services (the production form: ingest and anlian alerting, each its own process)
  --via-gateway          also fire alarms from simulated detectors on a real gateway's LAN broker, forwarded by
                         the gateway process to the county broker: each hop reported next to the direct probes
  --failover             production form on PostgreSQL: a second anlian alerting node beside the first, and the one
                         acting for the partition SIGKILLed halfway through; reports publish → first push of the
                         alarms around the kill (issue 12: ≤ 5 s) and duplicate pushes
  --store S              the operational store of ingest and alerting: sqlite (default, a file in the data
                         directory) or postgres (a durable PostgreSQL cluster started for the run, as production)
  --results DIR          where the JSON and the ingest log go (default bench/results)
`;

function interval(raw: string | undefined): { min: number; max: number } {
  if (raw === undefined) return { min: 200, max: 500 };
  const m = /^(\d+)-(\d+)$/.exec(raw);
  const min = Number(m?.[1]);
  const max = Number(m?.[2]);
  if (!m || min < 10 || max < min) {
    throw new Error(`--probe-interval must be A-B in ms with 10 ≤ A ≤ B, not ${JSON.stringify(raw)}`);
  }
  return { min, max };
}

export function parseAlarmBenchOptions(argv: string[]): AlarmBenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'probe-interval': { type: 'string' },
      gateways: { type: 'string' },
      connections: { type: 'string' },
      'tick-ms': { type: 'string' },
      'drain-timeout': { type: 'string' },
      'broker-max-queued': { type: 'string' },
      'broker-max-inflight': { type: 'string' },
      'alert-tick-ms': { type: 'string' },
      profile: { type: 'boolean', default: false },
      form: { type: 'string', default: 'all-in-one' },
      'via-gateway': { type: 'boolean', default: false },
      failover: { type: 'boolean', default: false },
      store: { type: 'string', default: 'sqlite' },
      results: { type: 'string', default: 'bench/results' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return 'help';
  const alertTickMs =
    values['alert-tick-ms'] === undefined ? undefined : positiveInt('alert-tick-ms', values['alert-tick-ms'], 0);
  // alerting's own bounds (ANLIAN_ALERT_TICK_MS): refused here rather than by the child at start-up.
  if (alertTickMs !== undefined && (alertTickMs < 50 || alertTickMs > 60_000)) {
    throw new Error('--alert-tick-ms must be within 50–60000 (alerting’s ANLIAN_ALERT_TICK_MS)');
  }
  const form = values.form;
  if (form !== 'all-in-one' && form !== 'services') throw new Error('--form must be all-in-one or services');
  const store = values.store;
  if (store !== 'sqlite' && store !== 'postgres') throw new Error('--store must be sqlite or postgres');
  if (values.failover && (form !== 'services' || store !== 'postgres')) {
    throw new Error('--failover needs --form services --store postgres (the partition is a PostgreSQL advisory lock)');
  }
  const quick = values.quick;
  const durationS = positiveInt('duration', values.duration, quick ? 15 : 60);
  if (durationS < 3)
    throw new Error('--duration must be at least 3 s (probes run from 1 s after the start to 1 s before the end)');
  return {
    rate: positiveInt('rate', values.rate, quick ? 2000 : 10_000),
    durationS,
    quick,
    probeIntervalMs: interval(values['probe-interval']),
    detectorsPerProbeGateway: 20,
    heartbeatMs: 10_000,
    gateways: positiveInt('gateways', values.gateways, 2500),
    connections: positiveInt('connections', values.connections, 50),
    tickMs: positiveInt('tick-ms', values['tick-ms'], 10),
    drainTimeoutS: positiveInt('drain-timeout', values['drain-timeout'], 60),
    brokerMaxQueued: positiveInt('broker-max-queued', values['broker-max-queued'], 1_000_000),
    brokerMaxInflight: positiveInt('broker-max-inflight', values['broker-max-inflight'], 1000),
    alertTickMs,
    profile: values.profile,
    form,
    viaGateway: values['via-gateway'],
    failover: values.failover,
    store,
    resultsDir: values.results,
  };
}
