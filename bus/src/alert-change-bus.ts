import {
  type AlertChangeMessage,
  AlertChangeMessage as AlertChangeSchema,
  type AlertingConfigChanged,
  AlertingConfigChanged as AlertingConfigSchema,
  countyTopics,
  parseCountyTopic,
} from '@anlian/protocol';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { BrokerOptions } from './broker-options.js';
import { decodeCountyMessage } from './county-message.js';
import { CountySession } from './county-session.js';

export interface AlertBusOptions {
  broker: BrokerOptions;
  logger: Logger;
  metrics: Registry;
  /** `start()` fails when the broker is not reached within this. Default 30 s. */
  connectTimeoutMs?: number;
}

/**
 * Alert changes between county services on the broker's county-internal topics
 * (`anlian-county/v1/…`, protocol's `countyTopics`): alerting publishes each change of an alert
 * and each change of its configuration (silences, drills, policies); dashboards and the other
 * alerting nodes listen. QoS 1; publishes made while the broker is away are queued by mqtt.js and
 * sent when it is back (in order), so a wall screen sees every change once the link returns.
 *
 * One MQTT session, not persistent: a listener that was away reloads the open alerts from
 * alerting instead of replaying what it missed.
 */
export class AlertBus {
  readonly #log: Logger;
  readonly #session: CountySession;
  readonly #changeListeners = new Set<(m: AlertChangeMessage) => void>();
  readonly #configListeners = new Set<(m: AlertingConfigChanged) => void>();
  readonly #reconnectListeners = new Set<() => void>();
  readonly #m: { published: Counter<'what'>; received: Counter<'what'>; rejected: Counter };

  constructor(opts: AlertBusOptions) {
    this.#log = opts.logger.child({ module: 'alert-bus' });
    this.#session = new CountySession({
      ...opts,
      logger: this.#log,
      name: 'alert bus',
      onMessage: (topic, payload) => this.#onMessage(topic, payload),
      onReconnect: () => this.#session.deliver(this.#reconnectListeners, undefined),
    });
    const registers = [opts.metrics];
    this.#m = {
      published: new Counter({
        name: 'anlian_alert_bus_published_total',
        help: 'Alert changes and alerting configuration notices published to the broker',
        labelNames: ['what'],
        registers,
      }),
      received: new Counter({
        name: 'anlian_alert_bus_received_total',
        help: 'Alert changes and alerting configuration notices received from the broker',
        labelNames: ['what'],
        registers,
      }),
      rejected: new Counter({
        name: 'anlian_alert_bus_rejected_total',
        help: 'County-internal messages that do not decode against the contract',
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

  /** Listens to alert changes (starts the subscription on first use); returns the unsubscribe. */
  onChange(listener: (m: AlertChangeMessage) => void): () => void {
    this.#changeListeners.add(listener);
    this.#session.listen(countyTopics.allAlertChanges());
    return () => this.#changeListeners.delete(listener);
  }

  onConfigChanged(listener: (m: AlertingConfigChanged) => void): () => void {
    this.#configListeners.add(listener);
    this.#session.listen(countyTopics.allAlertingConfig());
    return () => this.#configListeners.delete(listener);
  }

  /** Called after every reconnect (not the first connect): whoever listens may have missed changes. */
  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener);
    return () => this.#reconnectListeners.delete(listener);
  }

  start(): Promise<void> {
    return this.#session.start();
  }

  stop(): Promise<void> {
    return this.#session.stop();
  }

  publishChange(message: AlertChangeMessage): void {
    this.#session.publish(countyTopics.alertChange(message.alert.county, message.alert.institution), message);
    this.#m.published.inc({ what: 'change' });
  }

  publishConfigChanged(county: string, message: AlertingConfigChanged): void {
    this.#session.publish(countyTopics.alertingConfig(county), message);
    this.#m.published.inc({ what: 'config' });
  }

  #onMessage(topic: string, payload: Buffer): void {
    const parsed = parseCountyTopic(topic);
    if (parsed?.type === 'alert-change') {
      const r = decodeCountyMessage(payload, AlertChangeSchema);
      if (!r.ok) {
        this.#reject(topic, r);
        return;
      }
      this.#m.received.inc({ what: 'change' });
      this.#session.deliver(this.#changeListeners, r.data);
    } else if (parsed?.type === 'alerting-config') {
      const r = decodeCountyMessage(payload, AlertingConfigSchema);
      if (!r.ok) {
        this.#reject(topic, r);
        return;
      }
      this.#m.received.inc({ what: 'config' });
      this.#session.deliver(this.#configListeners, r.data);
    }
  }

  #reject(topic: string, r: { reason: string; detail: string }): void {
    this.#m.rejected.inc();
    this.#log.warn({ topic, detail: r.detail }, `county message is ${r.reason}; dropped`);
  }
}
