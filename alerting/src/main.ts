import { readFile } from 'node:fs/promises';
import type { IngestEvent } from '@anlian/ingest';
import type { Database } from '@anlian/store';
import type { LineStore } from '@anlian/timeseries';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AlertingConfig } from './config.js';
import { type ChannelBinding, parseChannelFile } from './notify/channel-file.js';
import type { ChannelDeps } from './notify/channels/channel-deps.js';
import { createChannel } from './notify/channels/create-channel.js';
import { NotificationStream } from './notify/channels/notification-stream.js';
import type { NotificationChannel } from './notify/notification-channel.js';
import { NotificationDispatcher, type NotificationDispatcherOptions } from './notify/notification-dispatcher.js';
import { defaultRuleSet } from './rules/default-rules.js';
import { parseRuleFile } from './rules/rule-loader.js';
import type { RuleSet } from './rules/rule-schema.js';
import { AlertingService } from './service/alerting-service.js';
import { AlertStore } from './store/alert-store.js';
import { migrateAlerting } from './store/alerting-migrations.js';
import type { AlertingDatabase } from './store/alerting-schema.js';
import { StoreDeliveryLog } from './store/store-delivery-log.js';

export interface StartAlertingOptions {
  /** The operational store, with the registry's migrations applied (ingest's `openStore`). */
  db: Kysely<Database>;
  config: AlertingConfig;
  logger: Logger;
  metrics: Registry;
  /** Subscribes to ingest's events (`IngestPipeline.onEvent`); returns the unsubscribe. */
  subscribe: (listener: (event: IngestEvent) => void) => () => void;
  /** `alert_event` points go here (ingest's InfluxDB writer). */
  events?: LineStore | undefined;
  eventsRetentionPolicy?: string | undefined;
  /** Channels besides the file's (tests, `anlian up`). */
  channels?: readonly ChannelBinding[];
  /** For tests: loopback fetch, fixed clock. */
  channelDeps?: ChannelDeps;
  dispatcher?: Partial<Pick<NotificationDispatcherOptions, 'retry' | 'config'>>;
  clock?: () => number;
}

export interface RunningAlerting {
  service: AlertingService;
  dispatcher: NotificationDispatcher;
  /** Every notification, in process: the dashboard's socket.io subscribes here. */
  stream: NotificationStream;
  stop(): Promise<void>;
}

/** The channel id of the in-process stream every institution has. */
export const STREAM_CHANNEL_ID = 'dashboard';

export async function loadRules(config: AlertingConfig): Promise<RuleSet> {
  if (!config.rulesFile) return defaultRuleSet();
  return parseRuleFile(await readFile(config.rulesFile, 'utf8'), { source: config.rulesFile });
}

export async function loadChannels(config: AlertingConfig): Promise<ChannelBinding[]> {
  if (!config.channelsFile) return [];
  return parseChannelFile(await readFile(config.channelsFile, 'utf8'), config.channelsFile);
}

/**
 * Builds and starts alerting beside a running ingest (in one process: `anlian up`, or
 * `anlian ingest` with alerting): migrates its tables, loads rules and channels, and subscribes
 * to ingest's events. Returns once open alerts and pending escalations are restored.
 */
export async function startAlerting(opts: StartAlertingOptions): Promise<RunningAlerting> {
  const log = opts.logger.child({ module: 'alerting' });
  await migrateAlerting(opts.db, opts.logger);
  const db = opts.db as unknown as Kysely<AlertingDatabase>;
  const rules = await loadRules(opts.config);
  const stream = new NotificationStream();
  const deps: ChannelDeps = {
    logger: opts.logger,
    stream,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...opts.channelDeps,
  };
  const bindings: ChannelBinding[] = [
    { channel: { id: STREAM_CHANNEL_ID, type: 'stream', enabled: true, drill: 'send', timeoutMs: 5000 } },
    ...(await loadChannels(opts.config)),
    ...(opts.channels ?? []),
  ];
  const countyWide: NotificationChannel[] = [];
  const byInstitution = new Map<string, NotificationChannel[]>();
  for (const b of bindings) {
    const channel = createChannel(b.channel, deps);
    if (!b.institutions) countyWide.push(channel);
    else for (const i of b.institutions) byInstitution.set(i, [...(byInstitution.get(i) ?? []), channel]);
  }
  const directory = (institution: string) => {
    const own = byInstitution.get(institution);
    return own ? [...countyWide, ...own] : countyWide;
  };

  const deliveryLog = new StoreDeliveryLog(new AlertStore(db), log);
  const dispatcher = new NotificationDispatcher({
    channels: directory,
    log: deliveryLog,
    logger: opts.logger,
    metrics: opts.metrics,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...opts.dispatcher,
  });
  const service: AlertingService = new AlertingService({
    db,
    logger: opts.logger,
    metrics: opts.metrics,
    rules,
    notifier: {
      start: async () => {
        dispatcher.start();
        await dispatcher.loadSent(openAlertIds());
      },
      stop: async () => {
        await dispatcher.stop();
        await deliveryLog.stop();
      },
      dispatch: (n) => dispatcher.dispatch(n),
      cancel: (id) => {
        dispatcher.cancel(id);
      },
    },
    events: opts.events,
    eventsRetentionPolicy: opts.eventsRetentionPolicy,
    tickMs: opts.config.tickMs,
    publicUrl: opts.config.publicUrl,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const running = service;
  function openAlertIds(): string[] {
    return running.openAlerts().map((a) => a.id);
  }
  await running.start();
  const unsubscribe = opts.subscribe(running.handle);
  log.info({ channels: bindings.map((b) => `${b.channel.type}:${b.channel.id}`) }, 'notification channels');
  return {
    service: running,
    dispatcher,
    stream,
    async stop() {
      unsubscribe();
      await running.stop();
    },
  };
}
