import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { type BrokerOptions, mqttClientOptions, safeBrokerUrl } from './broker-options.js';
import { firstConnect } from './county-message.js';

export interface CountySessionOptions {
  broker: BrokerOptions;
  /** Its bus's logger (`module: alert-bus`, `media-bus`). */
  logger: Logger;
  /** `start()` fails when the broker is not reached within this. Default 30 s. */
  connectTimeoutMs?: number;
  /** How its logs name it: `alert bus`, `media bus`. */
  name: string;
  onMessage(topic: string, payload: Buffer): void;
  /** After every reconnect (not the first connect). */
  onReconnect?: () => void;
}

/**
 * One MQTT session on the broker's county-internal topics (`anlian-county/v1/…`), not persistent
 * (a listener that was away reloads instead of replaying): what `AlertBus` and `MediaBus` share.
 * It connects, subscribes to each filter once something listens to it (again after each reconnect:
 * a clean session forgets them), logs losing and finding the broker, and publishes at QoS 1 — queued
 * by mqtt.js while the broker is away and sent, in order, when it is back.
 */
export class CountySession {
  readonly #o: CountySessionOptions;
  readonly #log: Logger;
  #client: MqttClient | undefined;
  /** The filters something listens to: subscribed at QoS 1, again after each reconnect. */
  readonly #filters = new Set<string>();
  #everConnected = false;

  constructor(opts: CountySessionOptions) {
    this.#o = opts;
    this.#log = opts.logger;
  }

  connected(): boolean {
    return this.#client?.connected === true;
  }

  describe(): string {
    return `${safeBrokerUrl(this.#o.broker.url)} ${this.connected() ? 'up' : 'down'}`;
  }

  /**
   * Subscribes to `filter` (now if connected, else on connect); idempotent. Only what something
   * listens to is subscribed: an alerting node that listens to configuration notices does not
   * decode every alert change (its own among them) on its alarm thread.
   */
  listen(filter: string): void {
    if (this.#filters.has(filter)) return;
    this.#filters.add(filter);
    if (this.#client?.connected) this.#sendSubscribe([filter]);
  }

  async start(): Promise<void> {
    const { name } = this.#o;
    const client = mqtt.connect(this.#o.broker.url, mqttClientOptions(this.#o.broker, { clean: true }));
    this.#client = client;
    client.on('connect', () => {
      const again = this.#everConnected;
      this.#everConnected = true;
      if (this.#filters.size > 0) this.#sendSubscribe([...this.#filters]);
      if (again) {
        this.#log.info(`${name} reconnected`);
        this.#o.onReconnect?.();
      }
    });
    client.on('close', () => {
      if (this.#everConnected) this.#log.warn(`${name} disconnected; reconnecting`);
    });
    client.on('error', (err) => this.#log.warn({ err: err.message }, `${name} error`));
    client.on('message', (topic, payload) => this.#o.onMessage(topic, payload));
    await firstConnect(client, this.#o.broker.url, this.#o.connectTimeoutMs ?? 30_000);
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    // Give queued publishes a moment to leave before the connection ends.
    await client?.endAsync(false).catch(() => {});
  }

  /** Publishes at QoS 1 without waiting; a refusal is logged. */
  publish(topic: string, message: object): void {
    this.#started().publish(topic, JSON.stringify(message), { qos: 1 }, (err) => {
      if (err) this.#log.error({ err: err.message, topic }, `${this.#o.name} publish failed`);
    });
  }

  /**
   * Publishes at QoS 1; resolves on the broker's PUBACK, rejects when it refused it. Throws at
   * once when the session has not been started.
   */
  publishAcked(topic: string, message: object): Promise<void> {
    return this.#started()
      .publishAsync(topic, JSON.stringify(message), { qos: 1 })
      .then(() => undefined);
  }

  /** Calls every listener with `m`; one that throws is logged and the others still run. */
  deliver<T>(listeners: Iterable<(m: T) => void>, m: T): void {
    for (const l of listeners) {
      try {
        l(m);
      } catch (err) {
        this.#log.error({ err }, `${this.#o.name} listener failed`);
      }
    }
  }

  #started(): MqttClient {
    const client = this.#client;
    if (!client) throw new Error(`ANL_ERR_BUS_NOT_STARTED: the ${this.#o.name} has not been started`);
    return client;
  }

  #sendSubscribe(filters: readonly string[]): void {
    const qos1 = Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }]));
    this.#client?.subscribe(qos1, (err) => {
      if (err) this.#log.error({ err: err.message }, `${this.#o.name} subscribe failed`);
    });
  }
}
