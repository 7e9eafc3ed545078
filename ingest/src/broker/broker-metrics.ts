import { Counter, Gauge, type Registry } from 'prom-client';

/**
 * The broker-side metrics. Created on `start()` and looked up again when a second broker or
 * subscriber starts on the same registry (tests, restarts in one process), because prom-client
 * refuses to register a name twice.
 */
export interface BrokerMetrics {
  /** CONNECTs refused, by reason (`bad_secret`, `unknown_gateway`, …). */
  authFailures: Counter<'reason'>;
  /** PUBLISHes refused by the topic ACL, size limit or shutdown, by reason. */
  publishDenied: Counter<'reason'>;
  /** SUBSCRIBEs refused (SUBACK 0x80), by reason. */
  subscribeDenied: Counter<'reason'>;
  /** Messages handed to the pipeline, by outcome (`accepted`, `failed`). */
  delivered: Counter<'source' | 'outcome'>;
  /** Authenticated gateways connected to the embedded broker. */
  clientsConnected: Gauge;
  /** External broker: 1 while the subscriber's connection is up. */
  externalConnected: Gauge<'client_id'>;
  /** External broker: reconnect attempts. */
  externalReconnects: Counter<'client_id'>;
}

function counter<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter<L>;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]): Gauge<L> {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Gauge<L>;
  return new Gauge({ name, help, labelNames, registers: [registry] });
}

export function brokerMetrics(registry: Registry): BrokerMetrics {
  return {
    authFailures: counter(registry, 'anlian_broker_auth_failures_total', 'MQTT CONNECTs refused, by reason', [
      'reason',
    ]),
    publishDenied: counter(registry, 'anlian_broker_publish_denied_total', 'MQTT PUBLISHes refused, by reason', [
      'reason',
    ]),
    subscribeDenied: counter(
      registry,
      'anlian_broker_subscribe_denied_total',
      'MQTT SUBSCRIBEs refused (SUBACK 0x80), by reason',
      ['reason'],
    ),
    delivered: counter(
      registry,
      'anlian_broker_messages_delivered_total',
      'Messages handed to the ingest pipeline, by source (embedded, external) and outcome (accepted, failed)',
      ['source', 'outcome'],
    ),
    clientsConnected: gauge(
      registry,
      'anlian_broker_clients_connected',
      'Authenticated gateways connected to the embedded broker',
      [],
    ),
    externalConnected: gauge(
      registry,
      'anlian_broker_external_connected',
      '1 while the connection to the external broker is up, per client id',
      ['client_id'],
    ),
    externalReconnects: counter(
      registry,
      'anlian_broker_external_reconnects_total',
      'Reconnect attempts to the external broker, per client id',
      ['client_id'],
    ),
  };
}
