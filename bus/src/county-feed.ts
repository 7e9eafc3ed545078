import {
  decodeMessage,
  type IngestEvent,
  primeDecoders,
  type RejectReason,
  SequenceWindow,
  TOPIC_ROOT,
} from '@anlian/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import { type BrokerOptions, mqttClientOptions, safeBrokerUrl } from './broker-options.js';

/**
 * The lanes a county service reads gateway messages on, each its own MQTT session (its own TCP
 * connection, its own order): a fire alarm never queues behind a burst of telemetry in one
 * socket (issue 12, the alarm lane).
 *
 * - `alarm`: events (fire alarms first of all), gateway status and command replies;
 * - `bulk`: telemetry and heartbeats. It also reads status, only to notice a gateway whose
 *   sequence counter restarted; it does not emit status (the alarm lane does).
 */
export type FeedLane = 'alarm' | 'bulk';

const LANE_FILTERS: Record<FeedLane, readonly string[]> = {
  alarm: [`${TOPIC_ROOT}/+/+/+/device/+/event`, `${TOPIC_ROOT}/+/+/+/status`, `${TOPIC_ROOT}/+/+/+/cmd/+/reply`],
  bulk: [`${TOPIC_ROOT}/+/+/+/device/+/telemetry`, `${TOPIC_ROOT}/+/+/+/heartbeat`, `${TOPIC_ROOT}/+/+/+/status`],
};

export interface CountyFeedOptions {
  broker: BrokerOptions;
  /** Which lanes to open; a lane's client id is `{broker.clientId}-{lane}`. Default both. */
  lanes?: readonly FeedLane[];
  /**
   * Persistent sessions (`clean: false` with a session expiry): the broker keeps what arrives
   * while this service restarts and hands it over when it is back. Alerting wants that (nothing
   * is missed across a restart); a dashboard node does not (it reloads state instead).
   */
  persistent: boolean;
  /** How long the broker keeps a persistent session of a service that is gone. Default 1 h. */
  sessionExpirySeconds?: number;
  /** Whether a device is in the registry (`IngestEvent.confirmed`). Default: every device is. */
  isConfirmed?: (gateway: string, device: string) => boolean;
  logger: Logger;
  metrics: Registry;
  /** The county clock. */
  now?: () => number;
  /** `start()` fails when a lane is not connected within this. Default 30 s. */
  connectTimeoutMs?: number;
}

interface Lane {
  name: FeedLane;
  client: MqttClient;
  window: SequenceWindow;
  connected: boolean;
}

/**
 * Gateway messages straight from the broker, decoded against the contract, deduplicated by
 * sequence number per gateway, as `IngestEvent`s — for county services that must not wait on
 * ingest's storage path (alerting, dashboards; ARCHITECTURE.md). The broker's ACL has already
 * checked that each gateway publishes only under its own topics, so the topic names the source.
 *
 * Listeners are called synchronously as each message is decoded; a listener that throws is
 * logged and counted, never takes the feed down.
 */
export class CountyFeed {
  readonly #o: CountyFeedOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #listeners = new Set<(e: IngestEvent) => void>();
  #lanes: Lane[] = [];
  readonly #m: {
    messages: Counter<'lane' | 'type'>;
    rejected: Counter<'reason'>;
    duplicates: Counter<'lane'>;
    listenerErrors: Counter;
    connected: Gauge<'lane'>;
  };

  constructor(opts: CountyFeedOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ module: 'county-feed' });
    this.#now = opts.now ?? Date.now;
    const registers = [opts.metrics];
    this.#m = {
      messages: new Counter({
        name: 'anlian_feed_messages_total',
        help: 'Gateway messages taken from the broker, by lane and topic type',
        labelNames: ['lane', 'type'],
        registers,
      }),
      rejected: new Counter({
        name: 'anlian_feed_rejected_total',
        help: 'Gateway messages from the broker that do not decode against the contract, by reason',
        labelNames: ['reason'],
        registers,
      }),
      duplicates: new Counter({
        name: 'anlian_feed_duplicates_total',
        help: 'QoS 1 redeliveries dropped by sequence number',
        labelNames: ['lane'],
        registers,
      }),
      listenerErrors: new Counter({
        name: 'anlian_feed_listener_errors_total',
        help: 'Errors thrown by feed listeners',
        registers,
      }),
      connected: new Gauge({
        name: 'anlian_feed_connected',
        help: '1 while the lane is connected to the broker',
        labelNames: ['lane'],
        registers,
      }),
    };
  }

  /** Listens to every message; returns the function that stops listening. */
  onEvent = (listener: (e: IngestEvent) => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  connected(): boolean {
    return this.#lanes.length > 0 && this.#lanes.every((l) => l.connected);
  }

  describe(): string {
    const lanes = this.#lanes.map((l) => `${l.name}:${l.connected ? 'up' : 'down'}`).join(' ');
    return `${safeBrokerUrl(this.#o.broker.url)} ${lanes}`;
  }

  async start(): Promise<void> {
    const names = this.#o.lanes ?? ['alarm', 'bulk'];
    // Before the first message: the first fire alarm does not wait for zod to compile (issue 12).
    primeDecoders();
    this.#lanes = names.map((name) => this.#openLane(name));
    try {
      await Promise.all(this.#lanes.map((l) => this.#firstConnect(l)));
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.#log.info({ broker: safeBrokerUrl(this.#o.broker.url), lanes: names }, 'county feed started');
  }

  async stop(): Promise<void> {
    const lanes = this.#lanes;
    this.#lanes = [];
    await Promise.all(lanes.map((l) => l.client.endAsync().catch(() => {})));
  }

  #openLane(name: FeedLane): Lane {
    const persistent = this.#o.persistent;
    const client = mqtt.connect(
      this.#o.broker.url,
      mqttClientOptions(
        { ...this.#o.broker, clientId: `${this.#o.broker.clientId}-${name}` },
        {
          clean: !persistent,
          ...(persistent ? { properties: { sessionExpiryInterval: this.#o.sessionExpirySeconds ?? 3600 } } : {}),
          // Our own subscriptions after every (re)connect: with a resumed session the broker
          // already has them, and subscribing again is harmless.
          resubscribe: false,
        },
      ),
    );
    const lane: Lane = { name, client, window: new SequenceWindow(), connected: false };
    client.on('connect', (connack) => {
      lane.connected = true;
      this.#m.connected.set({ lane: name }, 1);
      // A resumed persistent session keeps its subscriptions; ask only what is missing, and
      // on a resumed session without the retained replay (MQTT 5 Retain Handling 1).
      const resumed = persistent && connack.sessionPresent === true;
      const filters = Object.fromEntries(LANE_FILTERS[name].map((f) => [f, { qos: 1 as const, rh: resumed ? 1 : 0 }]));
      client.subscribe(filters, (err) => {
        if (err) this.#log.error({ err, lane: name }, 'subscribe failed');
      });
    });
    client.on('close', () => {
      if (lane.connected) this.#log.warn({ lane: name }, 'county feed lane disconnected; reconnecting');
      lane.connected = false;
      this.#m.connected.set({ lane: name }, 0);
    });
    client.on('error', (err) => this.#log.warn({ err: err.message, lane: name }, 'county feed lane error'));
    client.on('message', (topic, payload) => this.#onMessage(lane, topic, payload));
    return lane;
  }

  #firstConnect(lane: Lane): Promise<void> {
    const timeoutMs = this.#o.connectTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      const onSub = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        reject(
          new Error(
            `ANL_ERR_FEED_CONNECT: the ${lane.name} lane did not connect to ${safeBrokerUrl(this.#o.broker.url)} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      lane.client.once('connect', () => setImmediate(onSub));
    });
  }

  #onMessage(lane: Lane, topic: string, payload: Buffer): void {
    const decoded = decodeMessage(topic, payload);
    if (!decoded.ok) {
      this.#reject(decoded.reason, topic, decoded.detail);
      return;
    }
    const m = decoded.message;
    const receivedAt = this.#now();
    const { county, institution, gateway } = m.topic;
    if (m.type === 'status') {
      if (m.payload.state === 'online') lane.window.restart(gateway, m.payload.seq);
      if (lane.name !== 'alarm') return;
    } else if (m.type !== 'command') {
      if (lane.window.check(gateway, m.payload.seq) === 'duplicate') {
        this.#m.duplicates.inc({ lane: lane.name });
        return;
      }
    }
    let event: IngestEvent;
    switch (m.type) {
      case 'telemetry':
      case 'event': {
        const device = m.topic.device;
        const confirmed = this.#o.isConfirmed ? this.#o.isConfirmed(gateway, device) : true;
        event =
          m.type === 'telemetry'
            ? { type: 'telemetry', county, institution, gateway, device, confirmed, receivedAt, payload: m.payload }
            : { type: 'event', county, institution, gateway, device, confirmed, receivedAt, payload: m.payload };
        break;
      }
      case 'status':
        event = { type: 'status', county, institution, gateway, receivedAt, payload: m.payload };
        break;
      case 'heartbeat':
        event = { type: 'heartbeat', county, institution, gateway, receivedAt, payload: m.payload };
        break;
      case 'command-reply':
        event = {
          type: 'command-reply',
          county,
          institution,
          gateway,
          name: m.topic.name,
          receivedAt,
          payload: m.payload,
        };
        break;
      case 'command':
        // Ours, on their way to a gateway: not subscribed to; nothing to do if one arrives.
        return;
      case 'snapshot':
        // Video-review pictures go to ingest's media store; not subscribed to here.
        return;
      default: {
        const never: never = m;
        throw new Error(`unhandled topic type ${(never as { type: string }).type}`);
      }
    }
    this.#m.messages.inc({ lane: lane.name, type: m.type });
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#m.listenerErrors.inc();
        this.#log.error({ err, type: event.type, gateway }, 'county feed listener failed');
      }
    }
  }

  #reject(reason: RejectReason, topic: string, detail: string): void {
    this.#m.rejected.inc({ reason });
    this.#log.warn({ topic, reason, detail }, 'message from the broker does not decode; dropped');
  }
}
