import { countyTopics, MediaStoredMessage, parseCountyTopic } from '@anlian/protocol';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { BrokerOptions } from './broker-options.js';
import { decodeCountyMessage } from './county-message.js';
import { CountySession } from './county-session.js';

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
  readonly #log: Logger;
  readonly #session: CountySession;
  readonly #listeners = new Set<(m: MediaStoredMessage) => void>();
  readonly #m: { published: Counter; received: Counter; rejected: Counter };

  constructor(opts: MediaBusOptions) {
    this.#log = opts.logger.child({ module: 'media-bus' });
    this.#session = new CountySession({
      ...opts,
      logger: this.#log,
      name: 'media bus',
      onMessage: (topic, payload) => this.#onMessage(topic, payload),
    });
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
    return this.#session.connected();
  }

  describe(): string {
    return this.#session.describe();
  }

  /** Listens to stored pictures (starts the subscription on first use); returns the unsubscribe. */
  onStored(listener: (m: MediaStoredMessage) => void): () => void {
    this.#listeners.add(listener);
    this.#session.listen(countyTopics.allMediaStored());
    return () => this.#listeners.delete(listener);
  }

  start(): Promise<void> {
    return this.#session.start();
  }

  stop(): Promise<void> {
    return this.#session.stop();
  }

  /**
   * Announces a stored picture. Queued by mqtt.js while the broker is away and sent when it is
   * back; resolves once the broker acknowledged it (PUBACK), rejects when it refused it (an ACL
   * without `anlian-county/v1/+/media/+` for this account answers 0x87 under MQTT 5).
   */
  async publishStored(message: MediaStoredMessage): Promise<void> {
    const acked = this.#session.publishAcked(countyTopics.mediaStored(message.county, message.institution), message);
    this.#m.published.inc();
    await acked;
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
    this.#session.deliver(this.#listeners, r.data);
  }
}
