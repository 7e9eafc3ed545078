import {
  EventPayload,
  type GatewayAddress,
  type GatewayConfig,
  HeartbeatPayload,
  StatusPayload,
  TelemetryPayload,
  topics,
} from '@anlian/protocol';
import mqtt, { type MqttClient } from 'mqtt';

/**
 * One gateway of a county, driven by the test: it logs in as the simulator's gateways do
 * (client id and username = the gateway id, password = its demo secret, an `offline` last will),
 * says it is online, heartbeats, and publishes what the test asks — a fire alarm on demand, which
 * `CountySimulator` cannot do (its faults are scheduled in simulated time when it starts).
 * Every payload is parsed against the contract before it goes out.
 */
export class ScriptedGateway {
  readonly #address: GatewayAddress;
  #seq = 0;
  #client: MqttClient | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  readonly #bootAt = Date.now();

  constructor(
    readonly config: GatewayConfig,
    county: string,
    institution: string,
  ) {
    this.#address = { county, institution, gateway: config.id };
  }

  async start(brokerUrl: string, heartbeatMs = 10_000): Promise<void> {
    const will = StatusPayload.parse({ v: 1, ts: Date.now(), seq: 0, state: 'offline', reason: 'will' });
    this.#client = await mqtt.connectAsync(brokerUrl, {
      clientId: this.config.id,
      username: this.config.id,
      ...(this.config.secret !== undefined ? { password: this.config.secret } : {}),
      protocolVersion: 4,
      clean: true,
      reconnectPeriod: 0,
      will: { topic: topics.status(this.#address), payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: true },
    });
    await this.#publish(
      topics.status(this.#address),
      StatusPayload.parse({ ...this.#envelope(), state: 'online', reason: 'connect' }),
      true,
    );
    const beat = () =>
      this.#publish(
        topics.heartbeat(this.#address),
        HeartbeatPayload.parse({
          ...this.#envelope(),
          uptimeS: Math.round((Date.now() - this.#bootAt) / 1000),
          queueDepth: 0,
          adapters: [{ name: 'sensors', ok: true }],
        }),
      );
    await beat();
    this.#heartbeat = setInterval(() => {
      // A missed heartbeat shows as a gateway alert in the test that follows; nothing to do here.
      beat().catch(() => undefined);
    }, heartbeatMs);
  }

  /** Telemetry of one device; `body` without the envelope (`v`, `ts`, `seq`). */
  async telemetry(device: string, body: Record<string, unknown>): Promise<void> {
    await this.#publish(
      topics.telemetry(this.#address, device),
      TelemetryPayload.parse({ ...body, ...this.#envelope() }),
    );
  }

  async event(device: string, body: { kind: string; event: string; zone?: string }): Promise<void> {
    await this.#publish(topics.event(this.#address, device), EventPayload.parse({ ...body, ...this.#envelope() }));
  }

  /** A clean DISCONNECT: no will [MQTT-3.14.4-3]. */
  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    await this.#client?.endAsync();
    this.#client = undefined;
  }

  #envelope() {
    return { v: 1 as const, ts: Date.now(), seq: ++this.#seq };
  }

  async #publish(topic: string, payload: object, retain = false): Promise<void> {
    if (!this.#client) throw new Error(`gateway ${this.config.id} is not connected`);
    await this.#client.publishAsync(topic, JSON.stringify(payload), { qos: 1, retain });
  }
}
