/**
 * The alarm latency benchmark (`npm run bench:alarm-latency`): under the ingest bench's background
 * telemetry, fire alarms at random detectors, timed from the gateway's publish to the alert
 * being raised and to its first push arriving at a loopback webhook, next to the broker's own
 * publish → subscriber latency for the same messages. See bench/README.md.
 */
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPostgres } from '@anlian/testing';
import { startInfluxd } from '@anlian/timeseries';
import { startBenchBroker } from '../ingest/bench-broker.js';
import type { GeneratorCommand, GeneratorReport } from '../ingest/child-messages.js';
import { childPidByName } from '../ingest/child-pid.js';
import { renderProfileSummary, summarizeCpuProfile } from '../ingest/cpu-profile-summary.js';
import { IngestProcess } from '../ingest/ingest-process.js';
import { IpcChild } from '../ingest/ipc-child.js';
import { LatencyRecorder } from '../ingest/latency-recorder.js';
import { machineInfo } from '../ingest/machine-info.js';
import { ProcessSampler } from '../ingest/process-sampler.js';
import { buildProvince } from '../ingest/province.js';
import { seedRegistry } from '../ingest/registry-seed.js';
import { reservedPort, type Teardown, withTeardown } from '../ingest/teardown.js';
import { checkTelemetryPayloads } from '../ingest/telemetry-payload.js';
import type { AlertingChildReport, LoopDelay, ProbeRecord, ProberCommand, ProberReport } from './alarm-messages.js';
import { type AlarmBenchOptions, parseAlarmBenchOptions, USAGE } from './alarm-options.js';
import {
  ALARM_TARGETS,
  type AlarmBenchReport,
  judgeAlarmTargets,
  type PathId,
  type PathLatency,
  type ProbeSample,
  renderAlarmReport,
} from './alarm-report.js';
import { measureFailover, renderFailover } from './failover-report.js';
import { checkProbePayloads } from './fire-event-payload.js';
import { buildHopCounty, GatewayHop } from './gateway-hop.js';
import { HOP_METHOD, renderGatewayHop } from './gateway-hop-report.js';
import { LoopDelayMonitor } from './loop-delay-monitor.js';
import { buildProbeCounty, PROBE_EVENT_FILTER } from './probe-county.js';
import { type ReceivedPush, WebhookReceiver } from './webhook-receiver.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const INFLUX_DATABASE = 'anlian';
const FIRE_RULE = 'fire-alarm';
/** Probes run from this long after the background starts until this long before it ends. */
const PROBE_MARGIN_MS = 1000;
const ACK_TIMEOUT_MS = 30_000;
const TELEMETRY_ACCEPTED = 'anlian_ingest_messages_total{type="telemetry"}';

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const probeKey = (gateway: string, device: string | undefined) => `${gateway}/${device ?? ''}`;
/** The process-table label of an alerting node: `alerting`, `alerting-2`. */
const nodeLabel = (id: string) => id.replace(/^alerting-bench/, 'alerting');

type RaisedReport = Extract<AlertingChildReport, { type: 'raised' }>;
type ChildStats = Extract<AlertingChildReport, { type: 'stats' }>;

async function main(): Promise<number> {
  let opts: AlarmBenchOptions;
  try {
    const parsed = parseAlarmBenchOptions(process.argv.slice(2));
    if (parsed === 'help') {
      log(USAGE);
      return 0;
    }
    opts = parsed;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  checkTelemetryPayloads();
  checkProbePayloads();
  return withTeardown((teardown) => runBench(opts, teardown));
}

async function runBench(opts: AlarmBenchOptions, teardown: Teardown): Promise<number> {
  const startedAt = new Date();
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const resultsDir = resolve(REPO_ROOT, opts.resultsDir);
  await mkdir(resultsDir, { recursive: true });
  const tmp = await mkdtemp(join(tmpdir(), 'anlian-bench-alarm-'));
  teardown.add('temp dir', () => rm(tmp, { recursive: true, force: true }));
  const benchLoop = new LoopDelayMonitor();
  benchLoop.start();
  teardown.add('loop monitor', () => benchLoop.stop());

  const machine = machineInfo();
  log(`Anlian alarm latency benchmark — ${startedAt.toISOString()}`);
  log(`machine: ${machine.cpus} × ${machine.cpuModel}, node ${machine.node}, ${machine.mosquitto}, ${machine.influxd}`);
  log(`load average at start: ${machine.loadAverage.join(' ')} (other work on this machine competes with the bench)`);
  log(
    `plan: ${opts.rate} msg/s background telemetry for ${opts.durationS} s; a fire alarm every ` +
      `${opts.probeIntervalMs.min}–${opts.probeIntervalMs.max} ms from ${PROBE_MARGIN_MS / 1000} s after its start to ${PROBE_MARGIN_MS / 1000} s before its end`,
  );

  const influxd = await startInfluxd({ logLevel: 'warn' });
  teardown.add('influxd', () => influxd.stop());
  teardown.diagnose('influxd', () => `${influxd.running ? 'running' : 'NOT RUNNING'}\n${influxd.logTail()}`);
  const influxPid = childPidByName('influxd');
  const broker = await startBenchBroker({
    maxQueuedMessages: opts.brokerMaxQueued,
    maxInflightMessages: opts.brokerMaxInflight,
  });
  teardown.add('mosquitto', () => broker.stop());
  teardown.diagnose('mosquitto', () => broker.logTail());
  log(`influxd ${influxd.url} (pid ${influxPid}); mosquitto ${broker.url} (pid ${broker.pid}): ${broker.description}`);

  // Background: the ingest bench's province and generator. Probes: institutions of their own.
  const province = buildProvince(opts.gateways);
  const probeWindowMs = opts.durationS * 1000 - 2 * PROBE_MARGIN_MS;
  const maxProbes = Math.floor(probeWindowMs / opts.probeIntervalMs.min) + 1;
  const probeCounty = buildProbeCounty(
    Math.ceil(maxProbes / opts.detectorsPerProbeGateway),
    opts.detectorsPerProbeGateway,
  );
  // --via-gateway: one more gateway, a real one, with a detector for every alarm it may carry.
  const hopCounty = opts.viaGateway ? buildHopCounty(maxProbes) : undefined;
  const dataDir = join(tmp, 'ingest-data');
  // --store postgres: ingest and alerting share one PostgreSQL database (ANLIAN_DB_URL), as production.
  const pg = opts.store === 'postgres' ? await startBenchPostgres(teardown) : undefined;
  const dbEnv: Record<string, string> = pg ? { ANLIAN_DB_URL: pg.url } : {};
  if (pg) log(`PostgreSQL ${pg.url} (pid ${pg.pid}): durable (fsync on), the operational store of ingest and alerting`);
  const seeded = await seedRegistry(pg ? { url: pg.url } : join(dataDir, 'anlian.db'), {
    ...province,
    counties: [...province.counties, probeCounty.county, ...(hopCounty ? [hopCounty.county] : [])],
  });
  log(
    `registry: ${province.gateways.length} background gateways (${province.devices} devices) and ${probeCounty.gateways.length} ` +
      `probe gateways (${probeCounty.detectors} fire detectors, 2 contacts per institution), seeded in ${(seeded.ms / 1000).toFixed(1)} s`,
  );

  const receiver = new WebhookReceiver();
  await receiver.start();
  teardown.add('webhook receiver', () => receiver.stop());

  // Alerts as the ingest + alerting child reports them; probe ones by gateway/device.
  const raised = new Map<string, RaisedReport>();
  const otherAlerts: Record<string, number> = {};
  let childReady: (channels: string[]) => void = () => {};
  const childReadyP = new Promise<string[]>((r) => {
    childReady = r;
  });
  let statsWaiter: ((s: ChildStats) => void) | undefined;
  // --failover: which alerting node raised the latest probe alarm (the one acting for the partition).
  let lastRaisedBy: string | undefined;
  const onChildMessage = (m: unknown, node = 'alerting') => {
    const report = m as AlertingChildReport;
    switch (report.type) {
      case 'ready':
        childReady(report.channels);
        return;
      case 'raised':
        if (report.rule === FIRE_RULE && report.device !== undefined) {
          lastRaisedBy = node;
          const key = probeKey(report.gateway, report.device);
          if (!raised.has(key)) raised.set(key, report);
          else {
            const what = `${report.rule} (again on a probe detector)`;
            otherAlerts[what] = (otherAlerts[what] ?? 0) + 1;
          }
        } else {
          otherAlerts[report.rule] = (otherAlerts[report.rule] ?? 0) + 1;
        }
        return;
      case 'stats':
        statsWaiter?.(report);
        return;
      default: {
        const never: never = report;
        log(`unknown report from the alerting child: ${JSON.stringify(never)}`);
      }
    }
  };
  const logFile = join(resultsDir, `alarm-latency-${stamp}.log`);
  const profileDir = opts.profile ? join(resultsDir, `alarm-latency-profile-${stamp}`) : undefined;
  const webhookSecret = 'bench-alarm-latency-webhook-secret';
  const services = opts.form === 'services';
  // The process that stores telemetry (its /metrics counts what it accepted) and the one that
  // raises alerts (it reports them over IPC): one process in the all-in-one form, two in the
  // production form.
  const child = await IngestProcess.start({
    repoRoot: REPO_ROOT,
    dataDir,
    brokerUrl: broker.url,
    influxUrl: influxd.url,
    influxDatabase: INFLUX_DATABASE,
    httpPort: await reservedPort(teardown),
    logFile,
    ...(services
      ? { env: dbEnv }
      : {
          entry: new URL('./alerting-entry.js', import.meta.url),
          env: {
            ...dbEnv,
            BENCH_WEBHOOK_URL: receiver.url,
            BENCH_WEBHOOK_SECRET: webhookSecret,
            ...(opts.alertTickMs === undefined ? {} : { ANLIAN_ALERT_TICK_MS: String(opts.alertTickMs) }),
          },
          ipc: true,
          onMessage: onChildMessage,
        }),
    ...(profileDir ? { cpuProfDir: profileDir } : {}),
  });
  teardown.add(services ? 'ingest' : 'ingest + alerting', () => child.stop());
  let alertingChild = child;
  const ready = (p: Promise<string[]>, what: string) =>
    Promise.race([
      p,
      sleep(60_000).then(() => {
        throw new Error(`${what} did not start within 60 s; see ${logFile}`);
      }),
    ]);
  /** The `anlian alerting` nodes by node id (production form); two with --failover. */
  const alertingNodes = new Map<string, IngestProcess>();
  if (services) {
    const channelsFile = join(tmp, 'channels.json');
    await writeFile(
      channelsFile,
      JSON.stringify({
        channels: [{ id: 'bench-webhook', type: 'webhook', url: receiver.url, secret: webhookSecret }],
      }),
    );
    const startNode = async (nodeId: string, logSuffix: string) => {
      const port = await reservedPort(teardown);
      const node = await IngestProcess.start({
        repoRoot: REPO_ROOT,
        dataDir,
        brokerUrl: broker.url,
        influxUrl: influxd.url,
        influxDatabase: INFLUX_DATABASE,
        httpPort: port,
        logFile: join(resultsDir, `alarm-latency-${stamp}-${logSuffix}.log`),
        entry: new URL('./alerting-service-entry.js', import.meta.url),
        env: {
          ...dbEnv,
          ANLIAN_NODE_ID: nodeId,
          ANLIAN_ALERTING_HOST: '127.0.0.1',
          ANLIAN_ALERTING_PORT: String(port),
          ANLIAN_ALERT_CHANNELS_FILE: channelsFile,
          ...(opts.alertTickMs === undefined ? {} : { ANLIAN_ALERT_TICK_MS: String(opts.alertTickMs) }),
        },
        ipc: true,
        onMessage: (m: unknown) => onChildMessage(m, nodeId),
        // One profile per thread: the alarm thread (main) and the bulk lane's worker thread.
        ...(profileDir ? { cpuProfDir: `${profileDir}-${logSuffix}` } : {}),
      });
      teardown.add(nodeId, () => node.stop());
      return node;
    };
    alertingChild = await startNode('alerting-bench', 'alerting');
    alertingNodes.set('alerting-bench', alertingChild);
    if (opts.failover) {
      // The second node starts once the first is ready, holding the partition: it is the standby.
      await ready(childReadyP, 'alerting');
      const standbyReady = new Promise<string[]>((r) => {
        childReady = r;
      });
      alertingNodes.set('alerting-bench-2', await startNode('alerting-bench-2', 'alerting-2'));
      await ready(standbyReady, 'the second alerting node');
      log('failover: a second anlian alerting node (alerting-bench-2) stands by on the same partition');
    }
  }
  const channels = await ready(childReadyP, 'alerting');
  log(
    services
      ? `production form: ingest (pid ${child.pid}) and anlian alerting (pid ${alertingChild.pid}, startAlertingService: ` +
          `its own persistent broker sessions, alarm lane apart from the bulk lane) — each its own process; ` +
          `channels ${channels.join(', ')} → ${receiver.url}; logs ${logFile}, ${logFile.replace(/\.log$/, '-alerting.log')}`
      : `ingest + alerting (pid ${child.pid}): runIngestCommand's configuration, external broker mode, startAlerting on ` +
          `its events; channels ${channels.join(', ')} → ${receiver.url}; ` +
          `${opts.alertTickMs === undefined ? '' : `ANLIAN_ALERT_TICK_MS=${opts.alertTickMs} (experiment); `}log ${logFile}`,
  );
  const childStats = async (): Promise<ChildStats | undefined> => {
    const answer = new Promise<ChildStats>((r) => {
      statsWaiter = r;
    });
    alertingChild.send({ type: 'stats' });
    const d = await Promise.race([answer, sleep(5000).then(() => undefined)]);
    statsWaiter = undefined;
    return d;
  };

  const generator = new IpcChild<GeneratorCommand, GeneratorReport>(
    'generator',
    new URL('../ingest/generator-process.js', import.meta.url),
  );
  teardown.add('generator', () => generator.stop({ type: 'exit' }));
  generator.send({ type: 'init', brokerUrl: broker.url, connections: opts.connections, gateways: province.gateways });
  const genReady = await generator.next('ready', 120_000);
  const prober = new IpcChild<ProberCommand, ProberReport>('prober', new URL('./prober-process.js', import.meta.url));
  teardown.add('prober', () => prober.stop({ type: 'exit' }));
  prober.send({ type: 'init', brokerUrl: broker.url, gateways: probeCounty.gateways, heartbeatMs: opts.heartbeatMs });
  const proberReady = await prober.next('ready', 60_000);
  log(
    `generator: ${opts.connections} connections for ${province.gateways.length} gateways (${genReady.connectMs} ms); ` +
      `prober: ${probeCounty.gateways.length} gateway connections + a plain subscriber on ${PROBE_EVENT_FILTER} (${proberReady.connectMs} ms)`,
  );
  const hop = hopCounty
    ? await GatewayHop.start({ county: hopCounty, countyUrl: broker.url, dir: tmp, teardown })
    : undefined;
  if (hop) log(`via the gateway: ${hop.describe()}`);
  await sleep(2000);

  // ——— the load, with fire alarms in it ———
  log(`\nBackground ${opts.rate} msg/s for ${opts.durationS} s, fire alarms inside it`);
  const before = await child.metrics();
  await childStats();
  benchLoop.read();
  const sampler = new ProcessSampler({
    ...(services
      ? { ingest: child.pid, ...Object.fromEntries([...alertingNodes].map(([id, n]) => [nodeLabel(id), n.pid])) }
      : { 'ingest+alerting': child.pid }),
    generator: generator.pid,
    prober: prober.pid,
    mosquitto: broker.pid,
    influxd: influxPid,
    bench: process.pid,
    ...hop?.pids,
  });
  sampler.start();
  let genPublished = 0;
  let probesPublished = 0;
  const offGen = generator.on((r) => {
    if (r.type === 'progress') genPublished = r.published;
  });
  const offProber = prober.on((r) => {
    if (r.type === 'progress') probesPublished = r.published;
  });
  const firstPushes = new Map<string, ReceivedPush>();
  // Every push by the probe's detector (gateway/device): after a failover one alarm may be pushed
  // by both nodes, under two alert ids.
  const pushesByKey = new Map<string, number[]>();
  const offPushes = receiver.on((p) => {
    if (!firstPushes.has(p.alertId)) firstPushes.set(p.alertId, p);
    const key = probeKey(p.gateway, p.device);
    const at = pushesByKey.get(key);
    if (at) at.push(p.at);
    else pushesByKey.set(key, [p.at]);
  });
  const pushedAt = (key: string) => pushesByKey.get(key)?.[0];
  const loadStart = Date.now();
  const progress = setInterval(() => {
    const s = Math.round((Date.now() - loadStart) / 1000);
    log(
      `  t=${String(s).padStart(3)} s  background published ${genPublished}  fire alarms ${probesPublished + (hop?.published ?? 0)}  ` +
        `raised ${raised.size}  first pushes ${firstPushes.size}`,
    );
  }, 5000);
  teardown.add('progress', () => clearInterval(progress));

  generator.send({
    type: 'run',
    step: 0,
    rate: opts.rate,
    durationMs: opts.durationS * 1000,
    tickMs: opts.tickMs,
    ackTimeoutMs: ACK_TIMEOUT_MS,
  });
  const genDone = generator.next('done', opts.durationS * 1000 + ACK_TIMEOUT_MS + 60_000);
  // --failover: halfway through, SIGKILL the node that raised the latest probe alarm (it holds the partition).
  let kill: { killed: string; survivor: string; at: number } | undefined;
  const killTimer = opts.failover
    ? setTimeout(
        () => {
          const killed = lastRaisedBy ?? 'alerting-bench';
          const survivor = [...alertingNodes.keys()].find((id) => id !== killed) ?? '';
          alertingNodes.get(killed)?.kill();
          kill = { killed, survivor, at: Date.now() };
          const next = alertingNodes.get(survivor);
          if (next) alertingChild = next;
          log(`  failover: ${killed} SIGKILLed; ${survivor} stands by to take its partition over`);
        },
        (opts.durationS * 1000) / 2,
      )
    : undefined;
  teardown.add('failover timer', async () => clearTimeout(killTimer));
  await sleep(PROBE_MARGIN_MS);
  prober.send({
    type: 'run',
    durationMs: probeWindowMs,
    minIntervalMs: opts.probeIntervalMs.min,
    maxIntervalMs: opts.probeIntervalMs.max,
    settleMs: 5000,
  });
  const proberDone = prober.next('done', probeWindowMs + 60_000);
  const hopDone = hop?.run({
    durationMs: probeWindowMs,
    minIntervalMs: opts.probeIntervalMs.min,
    maxIntervalMs: opts.probeIntervalMs.max,
  });
  const { result: gen } = await genDone;
  const probeRun = await proberDone;
  const hopRun = await hopDone;
  clearInterval(progress);
  offGen();
  offProber();

  // Drain: every probe raised and pushed, and ingest caught up with the background, or the timeout.
  const probes = probeRun.probes;
  const drainStart = Date.now();
  let accepted = 0;
  let caughtUpAt: number | null = null;
  const notes: string[] = [];
  for (;;) {
    try {
      const m = await child.metrics();
      accepted = (m.get(TELEMETRY_ACCEPTED) ?? 0) - (before.get(TELEMETRY_ACCEPTED) ?? 0);
      if (caughtUpAt === null && accepted >= gen.published) caughtUpAt = Date.now();
    } catch (err) {
      notes.push(`metrics scrape failed: ${(err as Error).message}`);
    }
    const probesDone = [...probes, ...(hopRun?.probes ?? [])].every((p) => {
      const key = probeKey(p.gateway, p.device);
      return raised.has(key) && pushedAt(key) !== undefined;
    });
    if ((probesDone && caughtUpAt !== null) || Date.now() - drainStart > opts.drainTimeoutS * 1000) break;
    await sleep(250);
  }
  const usage = sampler.stop();
  offPushes();
  const loopDelay: Record<string, LoopDelay> = { prober: probeRun.loopDelay, bench: benchLoop.read() };
  if (hopRun) loopDelay['gateway-prober'] = hopRun.loopDelay;
  const stats = await childStats();
  if (stats) loopDelay[services ? 'alerting' : 'ingest+alerting'] = stats.loopDelay;
  else notes.push('the ingest + alerting process did not report its event-loop delay');
  const after = await child.metrics();
  const delta = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0);
  if (caughtUpAt === null) {
    notes.push(`ingest had accepted ${accepted} of ${gen.published} background messages when the drain ended`);
  }

  const { latency, samples } = measure(probes, raised, pushedAt);
  const probeAlertIds = new Set([...raised.values()].map((r) => r.alertId));
  const unmatchedPushes = receiver.pushes.length - [...firstPushes.keys()].filter((id) => probeAlertIds.has(id)).length;
  const recipients = probes
    .map((p) => raised.get(probeKey(p.gateway, p.device)))
    .map((r) => (r ? firstPushes.get(r.alertId)?.recipients : undefined))
    .filter((n): n is number => n !== undefined);
  if (receiver.malformed > 0) notes.push(`${receiver.malformed} requests to the webhook were not notifications`);
  const dispatchCount = delta('anlian_alert_received_to_dispatch_seconds_count');
  const catchUpMs = caughtUpAt === null ? null : Math.max(0, caughtUpAt - gen.lastPublishAt);
  const report: AlarmBenchReport = {
    startedAt: startedAt.toISOString(),
    machine,
    options: { ...opts },
    setup: {
      broker: broker.description,
      backgroundGateways: province.gateways.length,
      backgroundDevices: province.devices,
      connections: opts.connections,
      probeGateways: probeCounty.gateways.length,
      probeDetectors: probeCounty.detectors,
      webhook: receiver.url,
      channels,
      store: opts.store,
    },
    method: [...method(opts), ...(hop ? HOP_METHOD : [])],
    background: {
      offeredRate: opts.rate,
      durationS: opts.durationS,
      published: gen.published,
      acked: gen.acked,
      failed: gen.failed,
      ingestAccepted: accepted,
      ingestCaughtUpMs: catchUpMs,
      ingestRate: accepted / (opts.durationS + (catchUpMs ?? Date.now() - gen.lastPublishAt) / 1000),
      ingestRejected: delta('anlian_ingest_rejected_total'),
      maxTickLagMs: gen.maxTickLagMs,
      ackDrainMs: gen.ackDrainMs,
    },
    probes: {
      published: probes.length,
      acked: probes.filter((p) => p.ackedAt > 0).length,
      brokerDelivered: probes.filter((p) => p.brokerDeliveredAt > 0).length,
      raised: latency.raised.count - latency.raised.missing,
      pushed: latency.pushed.count - latency.pushed.missing,
      minRecipients: recipients.length === 0 ? null : Math.min(...recipients),
      heartbeats: probeRun.heartbeats,
    },
    latency,
    otherAlerts,
    otherPushes: unmatchedPushes,
    alertingReceivedToDispatchMeanMs:
      dispatchCount > 0 ? (delta('anlian_alert_received_to_dispatch_seconds_sum') / dispatchCount) * 1000 : null,
    usage,
    loopDelay,
    alertingTicks: stats?.tick ?? null,
    targets: judgeAlarmTargets(latency),
    atTargetLoad: opts.rate >= ALARM_TARGETS.rate && opts.durationS >= ALARM_TARGETS.durationS,
    notes,
    loadStartedAt: loadStart,
    samples,
  };
  if (hop && hopRun) {
    report.gatewayHop = hop.report(
      hopRun.probes,
      (gateway, device) => {
        const r = raised.get(probeKey(gateway, device));
        return r && { openedAt: r.openedAt, raisedAt: r.raisedAt, pushedAt: pushedAt(probeKey(gateway, device)) };
      },
      latency,
    );
  }
  if (opts.failover) {
    if (kill) {
      report.failover = measureFailover({
        killed: kill.killed,
        survivor: kill.survivor,
        killedAt: kill.at,
        probes: [...probes, ...(hopRun?.probes ?? [])].map((p) => ({
          key: probeKey(p.gateway, p.device),
          publishedAt: p.publishedAt,
        })),
        pushesByKey,
      });
    } else notes.push('--failover: the kill did not happen before the load ended');
  }
  log(`\n${report.method.join('\n')}\n`);
  log(renderAlarmReport(report));
  if (report.gatewayHop) log(`\n${renderGatewayHop(report.gatewayHop, report.failover?.verdict)}`);
  if (report.failover) log(`\n${renderFailover(report.failover)}`);

  await generator.stop({ type: 'exit' });
  await prober.stop({ type: 'exit' });
  await hop?.stop();
  for (const [id, node] of alertingNodes) {
    const e = await node.stop();
    if (e.code !== 0 && id !== kill?.killed) log(`${id} exited with code ${e.code} signal ${e.signal}`);
  }
  const exit = await child.stop();
  if (exit.code !== 0)
    log(
      `${services ? 'ingest' : 'ingest + alerting'} exited with code ${exit.code} signal ${exit.signal}; see ${logFile}`,
    );
  if (profileDir) {
    // Written by the child as it exits.
    const file = (await readdir(profileDir)).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      report.profile = await summarizeCpuProfile(join(profileDir, file), REPO_ROOT);
      log(`\n${renderProfileSummary(services ? 'Ingest' : 'Ingest + alerting', report.profile)}`);
    } else log(`no .cpuprofile in ${profileDir}`);
    if (services) {
      // CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile: thread 0 is the alarm thread.
      const dir = `${profileDir}-alerting`;
      const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile')).sort();
      for (const f of files) {
        const thread = f.split('.').at(-3) === '0' ? 'alarm thread' : 'bulk lane thread';
        log(
          `\n${renderProfileSummary(`anlian alerting, ${thread}`, await summarizeCpuProfile(join(dir, f), REPO_ROOT))}`,
        );
      }
    }
  }
  const jsonFile = join(resultsDir, `alarm-latency-${stamp}.json`);
  await writeFile(jsonFile, `${JSON.stringify(report, (_k, v) => (v === Infinity ? 'Infinity' : v), 2)}\n`);
  log(`\nJSON: ${jsonFile}`);
  return 0;
}

/**
 * A PostgreSQL cluster for the run, durable like a county's (fsync on: `startPostgres` with a data
 * directory), in a folder the `postgres` user can enter when the bench runs as root.
 */
async function startBenchPostgres(teardown: Teardown): Promise<{ url: string; pid: number | undefined }> {
  const dir = await mkdtemp(join(tmpdir(), 'anlian-bench-pg-'));
  teardown.add('postgres data', () => rm(dir, { recursive: true, force: true }));
  await chmod(dir, 0o755);
  const pg = await startPostgres({ dataDir: join(dir, 'cluster'), database: 'anlian_bench' });
  teardown.add('postgres', () => pg.stop());
  teardown.diagnose('postgres', () => pg.logTail());
  return { url: pg.url, pid: pg.pid };
}

/** Per path, one sample per probe; a probe with no measurement for a path counts as ∞ there. */
function measure(
  probes: readonly ProbeRecord[],
  raised: Map<string, RaisedReport>,
  pushedAt: (key: string) => number | undefined,
): { latency: Record<PathId, PathLatency>; samples: ProbeSample[] } {
  const samples: ProbeSample[] = [];
  const rec = {
    broker: new LatencyRecorder(),
    ingestReceived: new LatencyRecorder(),
    raised: new LatencyRecorder(),
    pushed: new LatencyRecorder(),
    raisedToPushed: new LatencyRecorder(),
  } satisfies Record<PathId, LatencyRecorder>;
  const missing: Record<PathId, number> = { broker: 0, ingestReceived: 0, raised: 0, pushed: 0, raisedToPushed: 0 };
  const add = (id: PathId, ms: number | undefined) => {
    if (ms === undefined) missing[id]++;
    rec[id].add(ms ?? Number.POSITIVE_INFINITY);
  };
  for (const p of probes) {
    add('broker', p.brokerDeliveredAt > 0 ? p.brokerDeliveredAt - p.publishedAt : undefined);
    const r = raised.get(probeKey(p.gateway, p.device));
    const push = r ? pushedAt(probeKey(p.gateway, p.device)) : undefined;
    add('ingestReceived', r ? r.openedAt - p.publishedAt : undefined);
    add('raised', r ? r.raisedAt - p.publishedAt : undefined);
    add('pushed', push !== undefined ? push - p.publishedAt : undefined);
    add('raisedToPushed', r && push !== undefined ? push - r.raisedAt : undefined);
    samples.push({
      gateway: p.gateway,
      device: p.device,
      publishedAt: p.publishedAt,
      broker: p.brokerDeliveredAt > 0 ? p.brokerDeliveredAt - p.publishedAt : null,
      ingestReceived: r ? r.openedAt - p.publishedAt : null,
      raised: r ? r.raisedAt - p.publishedAt : null,
      pushed: push !== undefined ? push - p.publishedAt : null,
    });
  }
  const what: Record<PathId, string> = {
    broker: 'publish → plain subscriber',
    ingestReceived: 'publish → ingest received',
    raised: 'publish → alert raised',
    pushed: 'publish → first push at the webhook',
    raisedToPushed: 'alert raised → first push',
  };
  const out = {} as Record<PathId, PathLatency>;
  for (const id of Object.keys(rec) as PathId[])
    out[id] = { what: what[id], missing: missing[id], ...rec[id].summary() };
  return { latency: out, samples };
}

/** How the run was measured, for the form and store it ran with. */
function method(opts: AlarmBenchOptions): string[] {
  const alerting =
    opts.form === 'services'
      ? [
          '  broker mode, configured as in bench:ingest, and `anlian alerting` in a process of its own (the production',
          '  form: startAlertingService from its environment, its own persistent broker sessions, the alarm lane on its',
          '  main thread and the bulk lane on a worker thread), with a webhook channel to a loopback receiver in the',
          '  bench process.',
        ]
      : [
          '  broker mode, configured as in bench:ingest, with alerting beside it in the same process (startAlerting on',
          '  ingest’s events, as `anlian up` runs it) and a webhook channel to a loopback receiver in the bench process.',
        ];
  const store =
    opts.store === 'postgres'
      ? '- Store: one PostgreSQL database for ingest and alerting (ANLIAN_DB_URL), a durable cluster (fsync on).'
      : '- Store: SQLite (better-sqlite3, WAL) in the data directory, shared by ingest and alerting.';
  const raised =
    opts.form === 'services'
      ? [
          '- (b) raised: stamped by an AlertingService.onChange listener in the alerting process (its alarm thread); it',
          '  runs synchronously in the raise, right after the first push was handed to the dispatcher. "ingest',
          '  received" is the alert’s openedAt: the alerting process’s receive time of the message (its own session).',
        ]
      : [
          '- (b) raised: stamped by an AlertingService.onChange listener in the ingest + alerting process; it runs',
          '  synchronously in the raise, right after the first push was handed to the dispatcher. "ingest received" is',
          '  the alert’s openedAt (ingest’s receive time of the message).',
        ];
  return [
    'How this is measured:',
    '- Background: the ingest bench’s generator (one process, QoS 1 telemetry round-robin over the province’s',
    '  gateways at an exact rate, values inside every default rule’s normal range) against ingest in external',
    ...alerting,
    store,
    ...PROBES,
    '- (a) baseline: a plain MQTT 5 subscriber on the probe topics, in the prober, stamps its receive time.',
    ...raised,
    ...PUSHES,
  ];
}

const PROBES = [
  '- Probes: a prober process with one MQTT connection per probe gateway (separate institutions with manager and',
  '  fire_safety contacts) publishes a fire alarm (QoS 1) every 200–500 ms at a random detector that has not',
  '  alarmed yet in this run, so every probe raises a new alert. Publish time = Date.now() just before publish().',
];

const PUSHES = [
  '- (c) first push: the bench’s loopback HTTP receiver stamps each request when its headers are parsed; the',
  '  first request carrying the alert’s id counts.',
  '- All processes run on this machine and use the same clock (Date.now). A probe that was never delivered,',
  '  raised or pushed within the drain counts as ∞. Event-loop delay per process bounds how late a stamp can be.',
  '- CPU and RSS: /proc/PID/stat utime+stime over the load and its drain (% of one core), VmRSS every 250 ms (max).',
];

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
