import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { type CountyConfig, type DecodedMessage, decodeMessage } from '@anlian/protocol';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { onTestFinished } from 'vitest';
import { loadCountyFile, selectInstitutions } from '../src/county/load-county.js';
import type { SimPublish, SimStep } from '../src/generator/sim-step.js';
import { DEMO_COUNTY_FILE } from '../src/paths.js';

/** Monday 2026-11-23 00:00 in Youyang (UTC+8): the simulated day most tests use. */
export const DAY_START = Date.parse('2026-11-23T00:00:00+08:00');
export const HOUR = 3_600_000;
export const MINUTE = 60_000;

let demo: Promise<CountyConfig> | undefined;

/** The demo county file, parsed once per test file. */
export function demoCounty(): Promise<CountyConfig> {
  demo ??= loadCountyFile(DEMO_COUNTY_FILE);
  return demo;
}

/** The first `n` institutions of the demo county, plus the named ones. */
export async function demoSubset(n: number, include: string[] = []): Promise<CountyConfig> {
  return selectInstitutions(await demoCounty(), n, include);
}

export function publishes(steps: Iterable<SimStep>): SimPublish[] {
  return [...steps].filter((s): s is SimPublish => s.kind === 'publish');
}

/** Local hour (UTC+8) of a simulated instant. */
export const localHour = (ms: number) => ((((ms + 8 * HOUR) % (24 * HOUR)) + 24 * HOUR) % (24 * HOUR)) / HOUR;

export interface TestBroker {
  url: string;
  /** Every publish the broker routed, including wills, in order. */
  published: { topic: string; payload: Buffer; retain: boolean; clientId: string | undefined }[];
  /** CONNECTs the broker refused. */
  refused: string[];
}

/**
 * An in-process aedes broker on 127.0.0.1:0 that authenticates gateways against their demo
 * secrets (username = client id = gateway id). Closed when the test ends.
 */
export async function startBroker(
  county: CountyConfig,
  opts: { allowAnonymous?: string[]; unavailableOnce?: string[] } = {},
): Promise<TestBroker> {
  const secrets = new Map<string, string | undefined>();
  for (const inst of county.institutions) for (const gw of inst.gateways) secrets.set(gw.id, gw.secret);
  const allow = new Set(['test-observer', ...(opts.allowAnonymous ?? [])]);
  const refused: string[] = [];
  // Gateways whose first CONNECT is refused with 3 "server unavailable", as a busy broker does.
  const unavailable = new Set(opts.unavailableOnce ?? []);
  const broker = await Aedes.createBroker({
    authenticate: (client, username, password, done) => {
      const id = client.id;
      if (unavailable.delete(id)) {
        refused.push(id);
        done(Object.assign(new Error('server unavailable'), { returnCode: 3 as const }), false);
        return;
      }
      const ok =
        allow.has(id) || (username === id && secrets.has(id) && secrets.get(id) === password?.toString('utf8'));
      if (!ok) {
        refused.push(id);
        const err = Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
        done(err, false);
        return;
      }
      done(null, true);
    },
  });
  const published: TestBroker['published'] = [];
  broker.on('publish', (packet, client) => {
    if (packet.topic.startsWith('$SYS')) return;
    published.push({
      topic: packet.topic,
      payload: Buffer.from(packet.payload),
      retain: packet.retain,
      clientId: client?.id,
    });
  });
  const server: Server = createServer(broker.handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onTestFinished(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await new Promise<void>((resolve) => broker.close(() => resolve()));
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`unexpected address ${String(address)}`);
  return { url: `mqtt://127.0.0.1:${address.port}`, published, refused };
}

/** A subscriber on the county side that decodes everything with the contract. */
export async function subscribeAll(
  url: string,
): Promise<{ client: MqttClient; messages: DecodedMessage[]; rejected: string[] }> {
  const client = mqtt.connect(url, {
    clientId: 'test-observer',
    username: 'test-observer',
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  onTestFinished(async () => {
    await client.endAsync(true);
  });
  await once(client as unknown as NodeJS.EventEmitter, 'connect');
  const messages: DecodedMessage[] = [];
  const rejected: string[] = [];
  client.on('message', (topic, payload) => {
    const r = decodeMessage(topic, payload);
    if (r.ok) messages.push(r.message);
    else rejected.push(`${topic}: ${r.reason} ${r.detail}`);
  });
  await client.subscribeAsync('anlian/v1/#', { qos: 1 });
  return { client, messages, rejected };
}

/** Resolves when `predicate` holds, polling on the event loop (no wall-clock assertions: the test timeout bounds it). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
