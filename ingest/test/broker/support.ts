import type { GatewayDirectory, GatewayIdentity } from '@anlian/store';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { Registry } from 'prom-client';
import { onTestFinished } from 'vitest';
import type { InboundMessage } from '../../src/broker/message-source.js';

export interface FakeGateway extends GatewayIdentity {
  secret: string;
}

export const GW_A: FakeGateway = {
  id: 'gw-a',
  county: 'youyang',
  institution: 'yy-a',
  enabled: true,
  secret: 'secret-of-a',
};
export const GW_B: FakeGateway = {
  id: 'gw-b',
  county: 'youyang',
  institution: 'yy-b',
  enabled: true,
  secret: 'secret-of-b',
};
export const GW_OFF: FakeGateway = {
  id: 'gw-off',
  county: 'youyang',
  institution: 'yy-a',
  enabled: false,
  secret: 'secret-of-off',
};

/** An in-memory `GatewayDirectory`; counts calls so tests can see it was asked. */
export class FakeDirectory implements GatewayDirectory {
  readonly #gateways = new Map<string, FakeGateway>();
  verifyCalls = 0;

  constructor(gateways: FakeGateway[]) {
    for (const g of gateways) this.#gateways.set(g.id, g);
  }

  async verifyGateway(id: string, secret: string): Promise<GatewayIdentity | null> {
    this.verifyCalls++;
    const g = this.#gateways.get(id);
    if (!g?.enabled || g.secret !== secret) return null;
    return { id: g.id, county: g.county, institution: g.institution, enabled: g.enabled };
  }

  async getGateway(id: string): Promise<GatewayIdentity | undefined> {
    const g = this.#gateways.get(id);
    return g ? { id: g.id, county: g.county, institution: g.institution, enabled: g.enabled } : undefined;
  }
}

/** The address of a gateway for the protocol's topic builders. */
export const addr = (g: GatewayIdentity) => ({ county: g.county, institution: g.institution, gateway: g.id });

export interface ConnectOptions extends IClientOptions {
  /** Keep the client when the test ends (it is ended by the caller). */
  keep?: boolean;
}

/**
 * Connects an MQTT client and resolves on CONNACK 0; rejects with the CONNACK error otherwise.
 * Ends the client when the test finishes.
 */
export function connectClient(url: string, opts: ConnectOptions): Promise<MqttClient> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...opts });
  onTestFinished(async () => {
    await client.endAsync(true);
  });
  return new Promise((resolve, reject) => {
    const onConnect = () => {
      client.off('error', onError);
      resolve(client);
    };
    const onError = (err: Error) => {
      client.off('connect', onConnect);
      reject(err);
    };
    client.once('connect', onConnect);
    client.once('error', onError);
  });
}

/** A gateway client: MQTT 3.1.1 (all aedes speaks), client id = username = gateway id. */
export function connectGateway(url: string, g: FakeGateway, opts: ConnectOptions = {}): Promise<MqttClient> {
  return connectClient(url, {
    protocolVersion: 4,
    clientId: g.id,
    username: g.id,
    password: g.secret,
    ...opts,
  });
}

/** Resolves when the client's connection closes. */
export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

/** The CONNACK refusal code of a failed connect (mqtt.js puts it on `error.code`). */
export async function refusalCode(p: Promise<MqttClient>): Promise<number> {
  try {
    await p;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'number') return code;
    throw err;
  }
  throw new Error('expected the CONNECT to be refused');
}

/** Current value of one counter/gauge series; 0 when the series does not exist. */
export async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
}

/** A promise with its resolve/reject exposed. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Records messages and lets a test wait for one that matches. */
export class Inbox {
  readonly messages: InboundMessage[] = [];
  readonly #waiters: { match: (m: InboundMessage) => boolean; resolve: (m: InboundMessage) => void }[] = [];

  push(m: InboundMessage): void {
    this.messages.push(m);
    for (const w of [...this.#waiters]) {
      if (w.match(m)) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }

  /** The first message (already received or future) for which `match` is true. */
  next(match: (m: InboundMessage) => boolean): Promise<InboundMessage> {
    const seen = this.messages.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  topics(): string[] {
    return this.messages.map((m) => m.topic);
  }
}
