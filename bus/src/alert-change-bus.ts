import {
  type AlertChangeMessage,
  AlertChangeMessage as AlertChangeSchema,
  type AlertingConfigChanged,
  AlertingConfigChanged as AlertingConfigSchema,
  countyTopics,
  parseCountyTopic,
} from '@anlian/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { type BrokerOptions, mqttClientOptions, safeBrokerUrl } from './broker-options.js';
import { decodeCountyMessage, firstConnect } from './county-message.js';

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
  readonly #o: AlertBusOptions;
  readonly #log: Logger;
  #client: MqttClient | undefined;
  readonly #changeListeners = new Set<(m: AlertChangeMessage) => void>();
  readonly #configListeners = new Set<(m: AlertingConfigChanged) => void>();
  readonly #reconnectListeners = new Set<() => void>();
  #subscribed = false;
  #everConnected = false;
  readonly #m: { published: Counter<'what'>; received: Counter<'what'>; rejected: Counter };

  constructor(opts: AlertBusOptions) {
    this.#o = opts;
    this.#log = opts.logger.child({ module: 'alert-bus' });
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
    return this.#client?.connected === true;
  }

  describe(): string {
    return `${safeBrokerUrl(this.#o.broker.url)} ${this.connected() ? 'up' : 'down'}`;
  }

  /** Listens to alert changes (starts the subscription on first use); returns the unsubscribe. */
  onChange(listener: (m: AlertChangeMessage) => void): () => void {
    this.#changeListeners.add(listener);
    this.#subscribe();
    return () => this.#changeListeners.delete(listener);
  }

  onConfigChanged(listener: (m: AlertingConfigChanged) => void): () => void {
    this.#configListeners.add(listener);
    this.#subscribe();
    return () => this.#configListeners.delete(listener);
  }

  /** Called after every reconnect (not the first connect): whoever listens may have missed changes. */
  onReconnect(listener: () => void): () => void {
    this.#reconnectListeners.add(listener);
    return () => this.#reconnectListeners.delete(listener);
  }

  async start(): Promise<void> {
    const client = mqtt.connect(this.#o.broker.url, mqttClientOptions(this.#o.broker, { clean: true }));
    this.#client = client;
    client.on('connect', () => {
      const again = this.#everConnected;
      this.#everConnected = true;
      if (this.#subscribed) this.#sendSubscribe();
      if (again) {
        this.#log.info('alert bus reconnected');
        for (const l of this.#reconnectListeners) l();
      }
    });
    client.on('close', () => {
      if (this.#everConnected) this.#log.warn('alert bus disconnected; reconnecting');
    });
    client.on('error', (err) => this.#log.warn({ err: err.message }, 'alert bus error'));
    client.on('message', (topic, payload) => this.#onMessage(topic, payload));
    await firstConnect(client, this.#o.broker.url, this.#o.connectTimeoutMs ?? 30_000);
  }

  async stop(): Promise<void> {
    const client = this.#client;
    this.#client = undefined;
    // Give queued publishes a moment to leave before the connection ends.
    await client?.endAsync(false).catch(() => {});
  }

  publishChange(message: AlertChangeMessage): void {
    this.#publish(countyTopics.alertChange(message.alert.county, message.alert.institution), message, 'change');
  }

  publishConfigChanged(county: string, message: AlertingConfigChanged): void {
    this.#publish(countyTopics.alertingConfig(county), message, 'config');
  }

  #publish(topic: string, message: object, what: string): void {
    const client = this.#client;
    if (!client) throw new Error('ANL_ERR_BUS_NOT_STARTED: the alert bus has not been started');
    this.#m.published.inc({ what });
    client.publish(topic, JSON.stringify(message), { qos: 1 }, (err) => {
      if (err) this.#log.error({ err: err.message, topic }, 'alert bus publish failed');
    });
  }

  #subscribe(): void {
    if (this.#subscribed) return;
    this.#subscribed = true;
    if (this.#client?.connected) this.#sendSubscribe();
  }

  #sendSubscribe(): void {
    this.#client?.subscribe(
      { [countyTopics.allAlertChanges()]: { qos: 1 }, [countyTopics.allAlertingConfig()]: { qos: 1 } },
      (err) => {
        if (err) this.#log.error({ err: err.message }, 'alert bus subscribe failed');
      },
    );
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
      for (const l of this.#changeListeners) this.#safely(() => l(r.data));
    } else if (parsed?.type === 'alerting-config') {
      const r = decodeCountyMessage(payload, AlertingConfigSchema);
      if (!r.ok) {
        this.#reject(topic, r);
        return;
      }
      this.#m.received.inc({ what: 'config' });
      for (const l of this.#configListeners) this.#safely(() => l(r.data));
    }
  }

  #reject(topic: string, r: { reason: string; detail: string }): void {
    this.#m.rejected.inc();
    this.#log.warn({ topic, detail: r.detail }, `county message is ${r.reason}; dropped`);
  }

  #safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#log.error({ err }, 'alert bus listener failed');
    }
  }
}
