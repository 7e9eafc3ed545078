import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChannelConfig } from '../../src/notify/channel-config.js';
import { createChannel } from '../../src/notify/channels/create-channel.js';
import { NotificationStream, type StreamNotification } from '../../src/notify/channels/notification-stream.js';
import type { DeliveryLog, DeliveryRecord } from '../../src/notify/delivery-log.js';
import { MemoryDeliveryLog } from '../../src/notify/memory-delivery-log.js';
import type { NotificationChannel } from '../../src/notify/notification-channel.js';
import {
  type ChannelDirectory,
  NotificationDispatcher,
  type NotificationDispatcherOptions,
} from '../../src/notify/notification-dispatcher.js';
import { FakeChannel, retryable, until } from './fake-channel.js';
import { delay, LoopbackReceiver, type ReceivedRequest } from './loopback-receiver.js';
import { fireAlarm, kitchenWarning } from './notification-fixture.js';

const SECRET = 'whsec-0123456789abcdef';
const cleanups: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const c of cleanups.splice(0).reverse()) await c();
});

function dispatcher(
  channels: ChannelDirectory | NotificationChannel[],
  over: Partial<NotificationDispatcherOptions> = {},
): { d: NotificationDispatcher; log: MemoryDeliveryLog; metrics: Registry } {
  const log = new MemoryDeliveryLog();
  const metrics = new Registry();
  const d = new NotificationDispatcher({
    channels: Array.isArray(channels) ? () => channels : channels,
    log,
    logger: pino({ level: 'silent' }),
    metrics,
    random: () => 0.5,
    retry: { baseMs: 5, maxMs: 50, jitter: 0 },
    ...over,
  });
  cleanups.push(() => d.stop());
  return { d, log: (over.log as MemoryDeliveryLog | undefined) ?? log, metrics };
}

async function receiver(reply: ConstructorParameters<typeof LoopbackReceiver>[0]): Promise<LoopbackReceiver> {
  const r = await new LoopbackReceiver(reply).start();
  cleanups.push(() => r.close());
  return r;
}

function webhook(id: string, url: string, timeoutMs = 5_000): NotificationChannel {
  return createChannel(ChannelConfig.parse({ id, type: 'webhook', url, secret: SECRET, timeoutMs }));
}

const statuses = (records: DeliveryRecord[]) => records.map((r) => `${r.attempt}:${r.status}`);

describe('retries over a real loopback webhook', () => {
  it('a receiver that fails twice and then succeeds gets exactly one delivery, with the retries recorded', async () => {
    const r = await receiver((_req, i) =>
      i < 2 ? { status: 500, body: 'down' } : { status: 200, body: { id: 'ok-1' } },
    );
    const { d, log, metrics } = dispatcher([webhook('county-hook', r.url)]);
    d.start();
    d.dispatch(fireAlarm());
    const key = 'a-1/L0R0:county-hook';
    await until(() => log.of(key).some((x) => x.status === 'sent'));
    expect(r.requests).toHaveLength(3);
    expect(r.requests.map((q) => q.headers['idempotency-key'])).toEqual([key, key, key]);
    expect(r.requests.map((q) => q.headers['x-anlian-attempt'])).toEqual(['1', '2', '3']);
    // The body is the same on every attempt, so a receiver can answer a repeat from its store.
    expect(new Set(r.requests.map((q) => JSON.parse(q.body).notification.notificationId)).size).toBe(1);
    const records = log.of(key);
    expect(statuses(records)).toEqual(['1:retrying', '2:retrying', '3:sent']);
    expect(records[0]).toMatchObject({ error: 'HTTP 500: down', channelType: 'webhook', alertId: 'a-1' });
    expect(records[2]).toMatchObject({ receipt: 'ok-1' });
    expect(records.every((x) => typeof x.latencyMs === 'number')).toBe(true);
    // Dispatching the same notification again sends nothing more.
    d.dispatch(fireAlarm());
    await delay(20);
    expect(r.requests).toHaveLength(3);
    expect(statuses(log.of(key)).at(-1)).toBe('0:skipped');
    const text = await metrics.metrics();
    expect(text).toContain('anlian_notify_attempts_total{channel_type="webhook",status="sent"} 1');
    expect(text).toContain('anlian_notify_attempts_total{channel_type="webhook",status="retrying"} 2');
    expect(text).toMatch(/anlian_notify_dispatch_seconds_count\{lane="critical",channel_type="webhook"\} 1/);
  });

  it('times out a channel that never answers, retries it, and gives up after the last attempt', async () => {
    const r = await receiver(() => 'hang');
    const { d, log } = dispatcher([webhook('hang', r.url, 100)], { retry: { maxAttempts: 2, baseMs: 5, jitter: 0 } });
    d.start();
    d.dispatch(kitchenWarning(1));
    const key = 'k-yy-a-1/L0R0:hang';
    await until(() => log.of(key).length === 2);
    expect(statuses(log.of(key))).toEqual(['1:retrying', '2:gave_up']);
    expect(log.of(key)[1]?.error).toBe('timeout after 100 ms');
    expect(r.requests.map((q) => q.headers['idempotency-key'])).toEqual([key, key]);
  });
});

describe('priority and isolation', () => {
  it('a flood of 10,000 alarms from one institution does not delay a fire alarm from another', async () => {
    let depthWhenFireArrived = -1;
    let d!: NotificationDispatcher;
    const r = await receiver(async (req: ReceivedRequest) => {
      const n = JSON.parse(req.body).notification;
      if (n.institution.id === 'yy-b') {
        depthWhenFireArrived = d.queueDepth('normal');
        return { status: 200 };
      }
      await delay(20); // a slow county webhook
      return { status: 200 };
    });
    const hook = webhook('county-hook', r.url);
    ({ d } = dispatcher([hook], { config: { drainMs: 0 } }));
    d.start();
    for (let i = 0; i < 10_000; i++) d.dispatch(kitchenWarning(i, 'yy-a'));
    expect(d.queueDepth('normal')).toBe(10_000 - 4);
    d.dispatch(fireAlarm({ institution: { id: 'yy-b', name: '酉阳县龙潭镇敬老院' } }));
    await until(() => depthWhenFireArrived >= 0);
    const fireIndex = r.requests.findIndex((q) => JSON.parse(q.body).notification.institution.id === 'yy-b');
    expect(fireIndex).toBeGreaterThanOrEqual(0);
    expect(fireIndex).toBeLessThan(50);
    expect(depthWhenFireArrived).toBeGreaterThan(9_000);

    // A non-critical alarm from a third institution is next in turn, not behind 9,990 others.
    const before = r.requests.length;
    d.dispatch(kitchenWarning(1, 'yy-c'));
    await until(() => r.requests.some((q) => JSON.parse(q.body).notification.institution.id === 'yy-c'));
    const cIndex = r.requests.findIndex((q) => JSON.parse(q.body).notification.institution.id === 'yy-c');
    expect(cIndex - before).toBeLessThanOrEqual(5);
    expect(d.queueDepth('normal')).toBeGreaterThan(9_000);
  });

  it('sends a critical push at once while every non-critical slot of its channel hangs', async () => {
    const r = await receiver((req) =>
      JSON.parse(req.body).notification.severity === 'critical' ? { status: 200 } : 'hang',
    );
    const { d, log } = dispatcher([webhook('county-hook', r.url, 10_000)], { config: { drainMs: 0 } });
    d.start();
    for (let i = 0; i < 100; i++) d.dispatch(kitchenWarning(i, 'yy-a'));
    d.dispatch(kitchenWarning(1, 'yy-c'));
    await until(() => r.requests.length === 4);
    d.dispatch(fireAlarm({ institution: { id: 'yy-b', name: '酉阳县龙潭镇敬老院' } }));
    await until(() => log.records.some((x) => x.status === 'sent'));
    expect(r.requests).toHaveLength(5);
    expect(JSON.parse((r.requests[4] as ReceivedRequest).body).notification.institution.id).toBe('yy-b');
    // The non-critical one from yy-c still waits for a slot: fairness cannot beat a pinned lane.
    expect(d.queueDepth('normal')).toBe(97);
  });

  it('caps each channel, so a hanging endpoint does not hold up the other channels', async () => {
    const hanging = await receiver(() => 'hang');
    const ok = await receiver(() => ({ status: 200 }));
    const { d } = dispatcher([webhook('hang', hanging.url, 10_000), webhook('ok', ok.url)], { config: { drainMs: 0 } });
    d.start();
    for (let i = 0; i < 20; i++) d.dispatch(kitchenWarning(i));
    await until(() => ok.requests.length === 20);
    expect(hanging.requests.length).toBeLessThanOrEqual(4);
    expect(d.queueDepth('normal')).toBe(16);
  });

  it('starts a critical request before dispatch returns, whatever the delivery log does', async () => {
    const ch = new FakeChannel('push');
    const failingLog: DeliveryLog = {
      record: () => {
        throw new Error('database is locked');
      },
    };
    const { d, metrics } = dispatcher([ch], { log: failingLog });
    d.start();
    d.dispatch(fireAlarm());
    expect(ch.calls).toHaveLength(1); // synchronously, no await in between
    const rejecting: DeliveryLog = { record: () => Promise.reject(new Error('connection lost')) };
    const second = dispatcher([ch], { log: rejecting });
    second.d.start();
    second.d.dispatch(fireAlarm({ notificationId: 'a-1/L1R0', kind: 'escalated', level: 1 }));
    expect(ch.calls).toHaveLength(2);
    await delay(5);
    expect(await metrics.getSingleMetricAsString('anlian_notify_log_failures_total')).toMatch(/ 1$/m);
    expect(await second.metrics.getSingleMetricAsString('anlian_notify_log_failures_total')).toMatch(/ 1$/m);
  });

  it('queues what is dispatched before start and sends it on start', async () => {
    const ch = new FakeChannel('push');
    const { d, log } = dispatcher([ch]);
    d.dispatch(kitchenWarning(1));
    expect(ch.calls).toHaveLength(0);
    d.start();
    expect(ch.calls).toHaveLength(1);
    await until(() => log.records.length === 1);
    expect(log.records[0]?.status).toBe('sent');
  });
});

describe('policies and fan-out', () => {
  it('applies each channel drill policy and marks drills with [演练]', async () => {
    const stream = new NotificationStream();
    const got: StreamNotification[] = [];
    stream.subscribe((e) => got.push(e));
    const live = createChannel(ChannelConfig.parse({ id: 'live', type: 'stream' }), { stream });
    const skip = new FakeChannel('real-only', undefined, { policy: { drill: 'skip' } });
    const only = new FakeChannel('drill-group', undefined, { policy: { drill: 'only' } });
    const critical = new FakeChannel('critical-only', undefined, { policy: { minSeverity: 'critical' } });
    const off = new FakeChannel('off', undefined, { policy: { enabled: false } });
    const { d, log } = dispatcher([live, skip, only, critical, off]);
    d.start();
    d.dispatch(fireAlarm({ notificationId: 'drill-1/L0R0', alertId: 'drill-1', drill: true }));
    d.dispatch(kitchenWarning(1));
    await until(() => log.records.length === 10);
    const byKey = Object.fromEntries(
      log.records.map((x) => [x.deliveryId, `${x.status}${x.error ? `: ${x.error}` : ''}`]),
    );
    expect(byKey).toEqual({
      'drill-1/L0R0:live': 'sent',
      'drill-1/L0R0:real-only': 'skipped: drill: this channel skips drills',
      'drill-1/L0R0:drill-group': 'sent',
      'drill-1/L0R0:critical-only': 'sent',
      'drill-1/L0R0:off': 'skipped: channel disabled',
      'k-yy-a-1/L0R0:live': 'sent',
      'k-yy-a-1/L0R0:real-only': 'sent',
      'k-yy-a-1/L0R0:drill-group': 'skipped: not a drill: this channel takes drills only',
      'k-yy-a-1/L0R0:critical-only': 'skipped: severity major below the channel minimum critical',
      'k-yy-a-1/L0R0:off': 'skipped: channel disabled',
    });
    expect(log.records.find((x) => x.deliveryId === 'drill-1/L0R0:live')?.drill).toBe(true);
    expect(got[0]?.message.title).toMatch(/^\[演练\]【火警】/);
    expect(only.calls[0]?.n.drill).toBe(true);
  });

  it('sends a drill for drill channels only to `drill: only` channels and the dashboard stream', async () => {
    const stream = new NotificationStream();
    const live = createChannel(ChannelConfig.parse({ id: 'live', type: 'stream' }), { stream });
    const send = new FakeChannel('managers', undefined, { policy: { drill: 'send' } });
    const only = new FakeChannel('drill-group', undefined, { policy: { drill: 'only' } });
    const { d, log } = dispatcher([live, send, only]);
    d.start();
    d.dispatch(fireAlarm({ notificationId: 'drill-2/L0R0', alertId: 'drill-2', drill: true, drillChannelsOnly: true }));
    await until(() => log.records.length === 3);
    expect(Object.fromEntries(log.records.map((x) => [x.deliveryId, x.status]))).toEqual({
      'drill-2/L0R0:live': 'sent',
      'drill-2/L0R0:managers': 'skipped',
      'drill-2/L0R0:drill-group': 'sent',
    });
    expect(send.calls).toHaveLength(0);
  });

  it('delivers per recipient on SMS-like channels, skipping people without an address', async () => {
    const sms = new FakeChannel('sms', undefined, { fanOut: 'recipient', type: 'sms' });
    const { d, log } = dispatcher([sms]);
    d.start();
    const n = fireAlarm();
    n.recipients.push({ contactId: 'c-wang', name: '王五', role: 'duty_officer' });
    d.dispatch(n);
    await until(() => log.records.length === 3);
    expect(sms.calls.map((c) => [c.ctx.idempotencyKey, c.ctx.recipient?.phone])).toEqual([
      ['a-1/L0R0:sms:c-zhang', '13800000001'],
      ['a-1/L0R0:sms:c-li', '13800000002'],
    ]);
    expect(log.records.find((x) => x.contactId === 'c-wang')).toMatchObject({
      status: 'skipped',
      error: 'no sms address for c-wang',
    });
  });

  it('does not resend after a restart what the delivery log says was sent', async () => {
    const previous = new MemoryDeliveryLog();
    previous.record({
      deliveryId: 'a-1/L0R0:push',
      notificationId: 'a-1/L0R0',
      alertId: 'a-1',
      channelId: 'push',
      channelType: 'webhook',
      attempt: 1,
      status: 'sent',
      at: 1,
    });
    const ch = new FakeChannel('push');
    const other = new FakeChannel('other');
    const { d } = dispatcher([ch, other], { log: previous });
    await d.loadSent(['a-1']);
    d.start();
    d.dispatch(fireAlarm());
    expect(ch.calls).toHaveLength(0);
    expect(other.calls).toHaveLength(1);
    expect(previous.of('a-1/L0R0:push').at(-1)).toMatchObject({ status: 'skipped', error: 'already sent' });
  });
});

describe('timers', () => {
  it('honours Retry-After over a shorter backoff', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const ch = new FakeChannel('push', (i) => (i === 0 ? retryable('HTTP 429', 30_000) : { status: 'sent' }));
    const { d, log } = dispatcher([ch], { clock: () => Date.now(), retry: { baseMs: 100, jitter: 0 } });
    d.start();
    d.dispatch(fireAlarm());
    await vi.advanceTimersByTimeAsync(0);
    expect(log.records[0]).toMatchObject({ status: 'retrying', nextAttemptAt: Date.now() + 30_000 });
    await vi.advanceTimersByTimeAsync(29_999);
    expect(ch.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(ch.calls).toHaveLength(2);
    expect(ch.calls[1]?.ctx.attempt).toBe(2);
  });

  it('backs off exponentially with jitter and stops at maxAttempts', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const ch = new FakeChannel('push', () => retryable());
    const { d, log } = dispatcher([ch], {
      clock: () => Date.now(),
      random: () => 1,
      retry: { maxAttempts: 4, baseMs: 1_000, maxMs: 3_000, jitter: 0.5 },
    });
    d.start();
    const t0 = Date.now();
    d.dispatch(kitchenWarning(1));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ch.calls).toHaveLength(4);
    // waits of 1000, 2000, 3000 (capped), each halved by full jitter
    expect(log.records.map((x) => (x.nextAttemptAt === undefined ? x.status : x.nextAttemptAt - t0))).toEqual([
      500,
      1_500,
      3_000,
      'gave_up',
    ]);
  });

  it('cancel drops pending retries of an acknowledged alert', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const ch = new FakeChannel('push', () => retryable());
    const { d, log } = dispatcher([ch], { clock: () => Date.now() });
    d.start();
    d.dispatch(fireAlarm());
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    expect(d.cancel('a-1')).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(ch.calls).toHaveLength(1);
    expect(statuses(log.records)).toEqual(['1:retrying', '1:gave_up']);
    expect(log.records[1]?.error).toBe('cancelled: alert acknowledged');
  });

  it('stop() leaves no pending timers and records what was not delivered', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const failing = new FakeChannel('failing', () => retryable());
    const slow = new FakeChannel(
      'slow',
      () => new Promise((resolve) => setTimeout(() => resolve({ status: 'sent' }), 1_000)),
    );
    const { d, log } = dispatcher([failing, slow], { clock: () => Date.now(), config: { drainMs: 5_000 } });
    d.start();
    for (let i = 0; i < 10; i++) d.dispatch(kitchenWarning(i));
    await vi.advanceTimersByTimeAsync(1);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    const stopped = d.stop();
    await vi.advanceTimersByTimeAsync(1_000);
    await stopped;
    expect(vi.getTimerCount()).toBe(0);
    // The 4 slow requests in flight were drained; the 6 queued ones and the failing retries given up.
    expect(log.records.filter((x) => x.channelId === 'slow' && x.status === 'sent')).toHaveLength(4);
    expect(log.records.filter((x) => x.channelId === 'slow' && x.status === 'gave_up')).toHaveLength(6);
    expect(log.records.filter((x) => x.error === 'dispatcher stopped before delivery')).toHaveLength(16);
    // Every failing delivery had its first attempt (a failure frees its slot at once); 4 slow ones did.
    expect([failing.calls.length, slow.calls.length]).toEqual([10, 4]);
    d.dispatch(fireAlarm());
    expect([failing.calls.length, slow.calls.length]).toEqual([10, 4]);
  });
});
