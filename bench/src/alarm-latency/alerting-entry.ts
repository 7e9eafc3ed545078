/**
 * The ingest + alerting child process of bench:alarm-latency: ingest started from its
 * environment exactly as the ingest bench's child (`loadIngestConfig`, external broker mode), with
 * alerting beside it in the same process on ingest's events, as `anlian up` runs them — plus one
 * webhook channel to the bench's loopback receiver (`BENCH_WEBHOOK_URL`, `BENCH_WEBHOOK_SECRET`).
 *
 * Reports over IPC: `ready` once alerting runs, and `raised` for every alert, stamped in the
 * `AlertingService.onChange` listener (called synchronously by the raise, right after the first
 * push was handed to the dispatcher). `stats` answers with this process's event-loop delay and
 * how long alerting's periodic ticks took (measured by wrapping `AlertingService.tick`, which its
 * timer calls through the instance; behaviour unchanged).
 */

import { ChannelConfig, loadAlertingConfig, startAlerting } from '@anlian/alerting';
import { loadIngestConfig, startIngest } from '@anlian/ingest';
import { createLogger, createMetricsRegistry, onShutdownSignal } from '@anlian/runtime';
import type { AlertingChildReport } from './alarm-messages.js';
import { reportToBench } from './bench-reporter.js';
import { LoopDelayMonitor } from './loop-delay-monitor.js';

const send = (report: AlertingChildReport) => process.send?.(report);
const required = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (the bench sets it)`);
  return v;
};

const loop = new LoopDelayMonitor();
loop.start();
const config = loadIngestConfig(process.env);
if (config.broker.mode !== 'external') throw new Error('bench:alarm-latency runs ingest against an external broker');
const logger = createLogger({ level: config.logLevel, svc: 'anlian' });
// One registry for both, as `anlian up` does: ingest's /metrics shows alerting's too.
const metrics = createMetricsRegistry();
const ingest = await startIngest(config, logger, metrics);
const hook = ChannelConfig.parse({
  id: 'bench-webhook',
  type: 'webhook',
  url: required('BENCH_WEBHOOK_URL'),
  secret: required('BENCH_WEBHOOK_SECRET'),
});
const alerting = await startAlerting({
  db: ingest.database.db,
  config: loadAlertingConfig(process.env),
  logger,
  metrics,
  subscribe: (listener) => ingest.service.pipeline.onEvent(listener),
  events: ingest.service.writer,
  eventsRetentionPolicy: config.influx.eventsRetentionPolicy,
  channels: [{ channel: hook }],
});
reportToBench(alerting.service, loop, logger);
logger.info({ mqtt: ingest.urls.mqtt, http: ingest.urls.http }, 'ingest and alerting ready (bench:alarm-latency)');
onShutdownSignal(logger, async () => {
  loop.stop();
  await alerting.stop();
  await ingest.stop();
});
// The bench going away (even by SIGKILL) ends this process too: no orphaned ingest.
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
send({ type: 'ready', channels: ['stream:dashboard', `webhook:${hook.id}`] });
