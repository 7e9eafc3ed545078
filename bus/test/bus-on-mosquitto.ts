import { silentLogger } from '@anlian/runtime';
import { type Mosquitto, startMosquitto } from '@anlian/testing';
import { Registry } from 'prom-client';
import { afterAll, beforeAll } from 'vitest';
import type { BrokerOptions } from '../src/index.js';

interface BusOptions {
  broker: BrokerOptions;
  logger: ReturnType<typeof silentLogger>;
  metrics: Registry;
}

/**
 * A real mosquitto 2 for the describe block that calls it, and a maker of buses on it
 * (`AlertBus`, `MediaBus`): every bus made is stopped, then the broker, after the block.
 */
export function busesOnMosquitto<B extends { stop(): Promise<void> }>(
  make: (o: BusOptions) => B,
): { bus: (clientId: string, metrics?: Registry) => B; url: () => string } {
  let broker: Mosquitto | undefined;
  const buses: B[] = [];
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    for (const b of buses) await b.stop();
    await broker?.stop();
  });
  const url = () => {
    if (!broker) throw new Error('mosquitto has not started (call bus() inside a test)');
    return broker.url;
  };
  return {
    url,
    bus: (clientId, metrics = new Registry()) => {
      const b = make({ broker: { url: url(), clientId }, logger: silentLogger(), metrics });
      buses.push(b);
      return b;
    },
  };
}
