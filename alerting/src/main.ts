import { type AlertingDeps, buildAlerting } from './alerting-node.js';
import type { NotificationStream } from './notify/channels/notification-stream.js';
import type { NotificationDispatcher } from './notify/notification-dispatcher.js';
import type { RuleSet } from './rules/rule-schema.js';
import type { AlertingService } from './service/alerting-service.js';

export { loadChannels, loadRules, STREAM_CHANNEL_ID } from './alerting-node.js';

/** `buildAlerting`'s deps; kept under this name for the callers that start it at once. */
export type StartAlertingOptions = AlertingDeps;

export interface RunningAlerting {
  service: AlertingService;
  dispatcher: NotificationDispatcher;
  /** Every notification, in process: the dashboard's socket.io subscribes here. */
  stream: NotificationStream;
  rules: RuleSet;
  stop(): Promise<void>;
}

/**
 * Builds and starts alerting (migrates its tables, loads rules and channels, restores open
 * alerts and pending escalations, subscribes). For tests and benches that want it running.
 */
export async function startAlerting(opts: StartAlertingOptions): Promise<RunningAlerting> {
  const node = await buildAlerting(opts);
  await node.start();
  return {
    service: node.service,
    dispatcher: node.dispatcher,
    stream: node.stream,
    rules: node.rules,
    stop: () => node.stop(),
  };
}
