import { readFile } from 'node:fs/promises';
import type { AlertChangeMessage, IngestEvent } from '@anlian/protocol';
import type { Database, PartitionLeases } from '@anlian/store';
import type { LineStore } from '@anlian/timeseries';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { AlertingApi } from './api/alerting-contract.js';
import { alertingApiOf } from './api/alerting-facade.js';
import type { GatewayCommands } from './commands/gateway-commands.js';
import type { AlertingConfig } from './config.js';
import { DutyCheckService, type DutyCheckServiceOptions } from './duty-checks/duty-check-service.js';
import type { BulkLane } from './lane/bulk-lane.js';
import { type ChannelBinding, parseChannelFile } from './notify/channel-file.js';
import type { ChannelDeps } from './notify/channels/channel-deps.js';
import { createChannel } from './notify/channels/create-channel.js';
import { NotificationStream } from './notify/channels/notification-stream.js';
import { warmHttpClient } from './notify/http-attempt.js';
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

export interface AlertingDeps {
  /** The operational store, with the registry's migrations applied (`@anlian/store`'s `openStore`). */
  db: Kysely<Database>;
  config: AlertingConfig;
  /** The rules, when the caller has read them already (its bulk lane evaluates the same set). */
  rules?: RuleSet;
  logger: Logger;
  metrics: Registry;
  /**
   * The county's gateway messages, `(listener) => unsubscribe`: ingest's pipeline in one process
   * (`anlian up`), the broker's `CountyFeed` in the production form. Either way before storage.
   */
  subscribe: (listener: (event: IngestEvent) => void) => () => void;
  /** `alert_event` points go here (an InfluxDB writer with its spool). */
  events?: LineStore | undefined;
  eventsRetentionPolicy?: string | undefined;
  /** Each alert change also goes here (the broker's county topics, for dashboards on other nodes). */
  publishChange?: ((message: AlertChangeMessage) => void) | undefined;
  /** Names this node in published changes, its saved engine state and logs. Default `alerting`. */
  nodeId?: string;
  /**
   * Which institutions this node acts for (several alerting nodes, issue 12); one node holds
   * everything when left out.
   */
  leases?: PartitionLeases;
  /** Silences, drills or policies changed on this node: tell the others (the alert bus). */
  publishConfigChanged?: (what: 'silences' | 'drills' | 'policies') => void;
  /** Channels besides the file's (tests, `anlian up`). */
  channels?: readonly ChannelBinding[];
  /**
   * County → gateway commands (the embedded broker's in-process link, or an MQTT client's; the
   * caller starts and stops them): drills are started and stopped at their gateways through them,
   * and the node runs the duty checks (查岗) — on request through `api`, and on
   * `dutyChecks.schedule`. Without them, drills are not announced and duty checks are refused.
   */
  commands?: GatewayCommands | undefined;
  /**
   * The bulk lane on its own thread (`anlian alerting`: `BulkLaneThread`); then `subscribe`
   * gives the alarm lane's messages only. Unset: every message through `subscribe`, one engine.
   */
  bulkLane?: BulkLane | undefined;
  /** For tests: loopback fetch, fixed clock. */
  channelDeps?: ChannelDeps;
  dispatcher?: Partial<Pick<NotificationDispatcherOptions, 'retry' | 'config'>>;
  clock?: () => number;
  dutyChecks?: Pick<DutyCheckServiceOptions, 'answerWindowS' | 'replyGraceMs' | 'severity' | 'schedule' | 'stopWaitMs'>;
}

/** Alerting wired and not started (CONVENTIONS.md §2): `start()` restores open alerts and subscribes. */
export interface AlertingNode {
  readonly service: AlertingService;
  readonly dispatcher: NotificationDispatcher;
  /** Every notification, in process: the dashboard's socket.io subscribes here in `anlian up`. */
  readonly stream: NotificationStream;
  /** What other services call: in process here, over HTTP through `registerAlertingRoutes`. */
  readonly api: AlertingApi;
  readonly channels: readonly ChannelBinding[];
  readonly rules: RuleSet;
  /** The duty checks, when the node has commands to gateways. */
  readonly dutyChecks: DutyCheckService | undefined;
  start(): Promise<void>;
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
 * Builds alerting from its parts: reads and validates the rule and channel files (failing here,
 * before anything runs, on a bad file), creates the channels, the dispatcher and the service.
 * The same builder serves `anlian up`, `anlian alerting`, the benches and the tests.
 */
export async function buildAlerting(deps: AlertingDeps): Promise<AlertingNode> {
  const log = deps.logger.child({ module: 'alerting' });
  const db = deps.db as unknown as Kysely<AlertingDatabase>;
  const rules = deps.rules ?? (await loadRules(deps.config));
  const stream = new NotificationStream();
  const channelDeps: ChannelDeps = {
    logger: deps.logger,
    stream,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...deps.channelDeps,
  };
  const bindings: ChannelBinding[] = [
    { channel: { id: STREAM_CHANNEL_ID, type: 'stream', enabled: true, drill: 'send', timeoutMs: 5000 } },
    ...(await loadChannels(deps.config)),
    ...(deps.channels ?? []),
  ];
  const countyWide: NotificationChannel[] = [];
  const byInstitution = new Map<string, NotificationChannel[]>();
  for (const b of bindings) {
    const channel = createChannel(b.channel, channelDeps);
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
    logger: deps.logger,
    metrics: deps.metrics,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...deps.dispatcher,
  });
  const service: AlertingService = new AlertingService({
    db,
    logger: deps.logger,
    metrics: deps.metrics,
    rules,
    notifier: {
      start: async () => {
        // Before the first alarm: a cold fetch costs the first push ~75 ms (warmHttpClient).
        if (bindings.some((b) => b.channel.type !== 'stream')) await warmHttpClient(channelDeps.fetch ?? fetch, log);
        dispatcher.start();
        await dispatcher.loadSent(service.openAlerts().map((a) => a.id));
      },
      stop: async () => {
        await dispatcher.stop();
        await deliveryLog.stop();
      },
      dispatch: (n) => dispatcher.dispatch(n),
      cancel: (id) => {
        dispatcher.cancel(id);
      },
      adopt: (ids) => dispatcher.loadSent(ids),
    },
    events: deps.events,
    eventsRetentionPolicy: deps.eventsRetentionPolicy,
    tickMs: deps.config.tickMs,
    publicUrl: deps.config.publicUrl,
    ...(deps.config.silenceMaxHours !== undefined ? { silenceMaxMs: deps.config.silenceMaxHours * 3600_000 } : {}),
    commands: deps.commands,
    ...(deps.clock ? { clock: deps.clock } : {}),
    ...(deps.leases ? { leases: deps.leases } : {}),
    nodeId: deps.nodeId,
    publishConfigChanged: deps.publishConfigChanged,
    bulkLane: deps.bulkLane,
  });
  const dutyChecks = deps.commands
    ? new DutyCheckService({
        // The schedule from the configuration (ANLIAN_DUTY_CHECK_EVERY_H) unless the caller gives one.
        ...(deps.config.dutyCheckEveryH ? { schedule: { everyMs: deps.config.dutyCheckEveryH * 3_600_000 } } : {}),
        ...deps.dutyChecks,
        db,
        commands: deps.commands,
        raise: (signal) => service.signal(signal),
        // Several nodes: the one acting for the institution puts its checks (and raises their alerts).
        owns: (institution) => service.actsFor(institution),
        logger: deps.logger,
        ...(deps.clock ? { clock: deps.clock } : {}),
      })
    : undefined;
  const node = deps.nodeId ?? 'alerting';
  const clock = deps.clock ?? Date.now;
  const unsubscribes: (() => void)[] = [];
  let started = false;
  return {
    service,
    dispatcher,
    stream,
    api: alertingApiOf(service, dutyChecks),
    channels: bindings,
    rules,
    dutyChecks,
    async start() {
      if (started) return;
      await migrateAlerting(deps.db, deps.logger);
      await service.start();
      const publish = deps.publishChange;
      if (publish) {
        unsubscribes.push(
          service.onChange((c) => {
            const message: AlertChangeMessage = { v: 1, type: c.type, node, at: clock(), alert: c.alert };
            if (c.transition) message.transition = c.transition;
            publish(message);
          }),
        );
      }
      unsubscribes.push(deps.subscribe(service.handle));
      await dutyChecks?.start();
      started = true;
      log.info({ node, channels: bindings.map((b) => `${b.channel.type}:${b.channel.id}`) }, 'alerting started');
    },
    async stop() {
      if (!started) return;
      started = false;
      for (const u of unsubscribes.splice(0)) u();
      // Before the service: a check that ends now still raises or clears its alert.
      await dutyChecks?.stop();
      await service.stop();
    },
  };
}
