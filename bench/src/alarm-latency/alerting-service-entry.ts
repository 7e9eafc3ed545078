/**
 * The alerting process of bench:alarm-latency's production form (`--form services`): one
 * `anlian alerting` node exactly as its command starts it (`startAlertingService` from its
 * environment: its own persistent broker sessions, the alarm lane apart from the bulk lane, the
 * store, alert changes on the county topics, the HTTP API), with the bench's webhook channel in
 * `ANLIAN_ALERT_CHANNELS_FILE`. Ingest runs in a process of its own (the ingest bench's child).
 */

import { loadAlertingServiceConfig, startAlertingService } from '@anlian/alerting';
import { createLogger, onShutdownSignal } from '@anlian/runtime';
import type { AlertingChildReport } from './alarm-messages.js';
import { reportToBench } from './bench-reporter.js';
import { LoopDelayMonitor } from './loop-delay-monitor.js';

const loop = new LoopDelayMonitor();
loop.start();
const config = loadAlertingServiceConfig(process.env);
const logger = createLogger({ level: config.ANLIAN_LOG_LEVEL, svc: 'bench-alerting' });
const node = await startAlertingService(config);
reportToBench(node.node.service, loop, logger);
logger.info({ url: node.url }, 'alerting ready (bench:alarm-latency, production form)');
onShutdownSignal(logger, async () => {
  loop.stop();
  await node.stop();
});
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
process.send?.({ type: 'ready', channels: ['webhook:bench-webhook'] } satisfies AlertingChildReport);
