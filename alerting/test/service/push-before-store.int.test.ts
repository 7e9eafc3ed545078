import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { silentLogger } from '@anlian/runtime';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { ChannelConfig } from '../../src/notify/channel-config.js';
import { createChannel } from '../../src/notify/channels/create-channel.js';
import { NotificationDispatcher } from '../../src/notify/notification-dispatcher.js';
import { defaultRuleSet } from '../../src/rules/default-rules.js';
import { AlertingService } from '../../src/service/alerting-service.js';
import { AlertStore } from '../../src/store/alert-store.js';
import { StoreDeliveryLog } from '../../src/store/store-delivery-log.js';
import { deviceEvent } from '../support.js';
import { openTestStore, type StoreFixture, testCounty } from './service-support.js';

/**
 * A loopback webhook on a thread of its own: it stamps each request when its headers arrive even
 * while the alerting thread is blocked (better-sqlite3 writes are synchronous).
 */
const RECEIVER = `
const { parentPort } = require('node:worker_threads');
const http = require('node:http');
const server = http.createServer((req, res) => {
  const at = Date.now();
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    parentPort.postMessage({ type: 'push', at, alertId: body.notification.alertId });
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ type: 'ready', port: server.address().port }));
parentPort.on('message', (m) => { if (m === 'stop') { server.closeAllConnections(); server.close(() => process.exit(0)); } });
`;

interface Push {
  at: number;
  alertId: string;
}

/** Blocks this thread as a synchronous SQLite write on a loaded disk does. */
function block(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: nothing else on this thread runs meanwhile
  }
}

const STORE_WRITE_MS = 400;

let store: StoreFixture | undefined;
let worker: Worker | undefined;
let stop: (() => Promise<void>) | undefined;

afterEach(async () => {
  await stop?.();
  stop = undefined;
  if (worker) {
    worker.postMessage('stop');
    await once(worker, 'exit');
    worker = undefined;
  }
  await store?.close();
  store = undefined;
});

describe('the first push of a fire alarm goes out before the store writes (issue 12)', () => {
  it('reaches the webhook while a slow store write and alert_event write are still to come', async () => {
    store = await openTestStore(testCounty(2));
    const w = new Worker(RECEIVER, { eval: true });
    worker = w;
    const pushes: Push[] = [];
    const ready = new Promise<number>((resolve) => {
      w.on('message', (m: { type: 'ready'; port: number } | ({ type: 'push' } & Push)) => {
        if (m.type === 'ready') resolve(m.port);
        else pushes.push({ at: m.at, alertId: m.alertId });
      });
    });
    const port = await ready;
    const logger = silentLogger();
    const channel = createChannel(
      ChannelConfig.parse({
        id: 'hook',
        type: 'webhook',
        url: `http://127.0.0.1:${port}/hooks/anlian`,
        secret: 'push-before-store-secret',
      }),
    );
    const stores: { startedAt: number; endedAt: number }[] = [];
    const events: { startedAt: number; endedAt: number }[] = [];
    const metrics = new Registry();
    const db = store.db;
    // The delivery log's writes are just as slow.
    const deliveryStore = new AlertStore(db);
    deliveryStore.recordDelivery = slowly(stores, deliveryStore.recordDelivery.bind(deliveryStore));
    const log = new StoreDeliveryLog(deliveryStore, logger, 20);
    const dispatcher = new NotificationDispatcher({ channels: () => [channel], log, logger, metrics });
    const service = new AlertingService({
      db,
      logger,
      metrics,
      rules: defaultRuleSet(),
      notifier: dispatcher,
      tickMs: 3_600_000,
      snapshotMs: 3_600_000,
      // InfluxDB's spool writes synchronously too (writeSync), one microtask after append.
      events: {
        write: async () => {
          await Promise.resolve();
          const startedAt = Date.now();
          block(STORE_WRITE_MS);
          events.push({ startedAt, endedAt: Date.now() });
        },
      },
    });
    const s = service;
    const writeChanges = s.store.writeChanges.bind(s.store);
    s.store.writeChanges = slowly(stores, writeChanges);
    // The service starts and stops its notifier.
    await s.start();
    stop = async () => {
      await s.stop();
      await log.stop();
    };

    const pushOf = async (alertId: string): Promise<Push> => {
      for (let i = 0; i < 200; i++) {
        const p = pushes.find((x) => x.alertId === alertId);
        if (p) return p;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`no push for ${alertId}`);
    };

    // The first alarm opens the connection to the webhook (kept alive, as undici does for a vendor).
    const t0 = Date.now();
    s.handle(deviceEvent('smoke-x0', 'fire', 'fire', t0));
    const first = s.openAlerts()[0]?.id as string;
    await pushOf(first);
    await s.flushed();
    await log.flush();
    stores.length = 0;
    events.length = 0;

    // A second fire alarm: its push must not wait for ~1.2 s of blocking store and spool writes.
    const t1 = Date.now();
    s.handle(deviceEvent('smoke-x1', 'fire', 'fire', t1));
    const second = s.openAlerts().find((a) => a.id !== first)?.id as string;
    const push = await pushOf(second);
    await s.flushed();
    await log.flush();
    expect(stores.length).toBeGreaterThanOrEqual(2); // the alert and its transition; the delivery record
    expect(events.length).toBe(1);
    const firstWrite = Math.min(...stores.map((x) => x.startedAt), ...events.map((x) => x.startedAt));
    // The request was on the wire before the first blocking write ended.
    expect(push.at).toBeLessThan(firstWrite + STORE_WRITE_MS / 2);
    expect(push.at - t1).toBeLessThan(STORE_WRITE_MS);
    // …and everything was still written.
    const stored = await s.store.get(second);
    expect(stored?.status).toBe('open');
    const deliveries = await s.store.deliveries(second);
    expect(deliveries.map((d) => d.status)).toContain('sent');
  });
});

function slowly<A extends unknown[], R>(
  calls: { startedAt: number; endedAt: number }[],
  f: (...args: A) => Promise<R>,
): (...args: A) => Promise<R> {
  return async (...args: A) => {
    // better-sqlite3 through kysely: a few awaits, then a synchronous statement.
    await Promise.resolve();
    const startedAt = Date.now();
    block(STORE_WRITE_MS);
    calls.push({ startedAt, endedAt: Date.now() });
    return f(...args);
  };
}
