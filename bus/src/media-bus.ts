import { countyTopics, MediaStoredMessage, parseCountyTopic } from '@anlian/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { type BrokerOptions, mqttClientOptions, safeBrokerUrl } from './broker-options.js';
import { decodeCountyMessage, firstConnect } from './county-message.js';

export interface MediaBusOptions {
  broker: BrokerOptions;
  logger: Logger;
  metrics: Registry;
  /** `start()` fails when the broker is not reached within this. Default 30 s. */
  connectTimeoutMs?: number;
}

/**
 * Video-review pictures stored, announced between county services on the county-internal topic
 * `anlian-county/v1/{county}/media/{institution}` (protocol's `MediaStoredMessage`, QoS 1): the
 * ingest replica that stored a snapshot publishes its record, never the JPEG; every dashboard node
 * hears it and pushes it to its walls and phones, then serves the picture from the shared store.
 * In the all-in-one the dashboard hears ingest in-process and no bus is needed.
 *
 * One MQTT session, not persistent: a dashboard that was away missed only the live push; the
 * pictures themselves are in the store (`GET /api/alerts/:id/snapshots`).
 */
export class MediaBus {
  readonly #o: MediaBusOptions;
  readonly #log: Logger;
  #client: MqttClient | undefined;
  readonly #listeners = new Set<(m: MediaStoredMessage) => void>();
  #subscribed = false;
  #everConnected = false;
  readonly #m: { published: Counter; received: Counter; rejected: Counter };

  constructor(opts: MediaBusOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ module: 'media-bus' });
    const registers = [opts.metrics];
    this.#m = {
      published: new Counter({
        name: 'anlian_media_bus_published_total',
        help: 'Stored video-review pictures announced on the broker',
        registers,
      }),
      received: new Counter({
        name: 'anlian_media_bus_received_total',
        help: 'Stored video-review pictures heard from the broker',
        registers,
      }),
      rejected: new Counter({
        name: 'anlian_media_bus_rejected_total',
        help: 'Media announcements that do not decode against the contract',
        registers,
      }),
    };
  }

  connected(): boolean {
    return this.#client?.connected === true;
  }

  describe(): string {
    return `${safeBrokerUrl(this.#o.broker.url)} ${this.connected() ? 'up' : 'down'}`;
  }

  /** Listens to stored pictures (starts the subscription on first use); returns the unsubscribe. */
  onStored(listener: (m: MediaStoredMessage) => void): () => void {
    this.#listeners.add(listener);
    if (!this.#subscribed) {
      this.#subscribed = true;
      if (this.#client?.connected) this.#sendSubscribe();
    }
    return () => this.#listeners.delete(listener);
  }

  async start(): Promise<void> {
    const client = mqtt.connect(this.#o.broker.url, mqttClientOptions(this.#o.broker, { clean: true }));
    this.#client = client;
    client.on('connect', () => {
      if (this.#everConnected) this.#log.info('media bus reconnected');
      this.#everConnected = true;
      if (this.#subscribed) this.#sendSubscribe();
    });
    client.on('close', () => {
      if (this.#everConnected) this.#log.warn('media bus disconnected; reconnecting');
    });
    client.on('error', (err) => this.#log.warn({ err: err.message }, 'media bus error'));
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    await firstConnect(client, this.#o.broker.url, this.#o.connectTimeoutMs ?? 30_000);
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    // Give queued announcements a moment to leave before the connection ends.
    await client?.endAsync(false).catch(() => {});
  }

  /**
   * Announces a stored picture. Queued by mqtt.js while the broker is away and sent when it is
   * back; resolves once the broker acknowledged it (PUBACK), rejects when it refused it (an ACL
   * without `anlian-county/v1/+/media/+` for this account answers 0x87 under MQTT 5).
   */
  async publishStored(message: MediaStoredMessage): Promise<void> {
    const client = this.#client;
    if (!client) throw new Error('ANL_ERR_BUS_NOT_STARTED: the media bus has not been started');
    this.#m.published.inc();
    await client.publishAsync(countyTopics.mediaStored(message.county, message.institution), JSON.stringify(message), {
      qos: 1,
    });
  }

  #sendSubscribe(): void {
    this.#client?.subscribe({ [countyTopics.allMediaStored()]: { qos: 1 } }, (err) => {
      if (err) this.#log.error({ err: err.message }, 'media bus subscribe failed');
    });
  }

  #onMessage(topic: string, payload: Buffer): void {
    if (parseCountyTopic(topic)?.type !== 'media-stored') return;
    const r = decodeCountyMessage(payload, MediaStoredMessage);
    if (!r.ok) {
      this.#m.rejected.inc();
      this.#log.warn({ topic, detail: r.detail }, `media announcement is ${r.reason}; dropped`);
      return;
    }
    this.#m.received.inc();
    for (const l of this.#listeners) {
      try {
        l(r.data);
      } catch (err) {
        this.#log.error({ err }, 'media bus listener failed');
      }
    }
  }
}
