import type { CommandReplyPayload } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import type { Database } from '@anlian/store';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildAlerting } from '../../src/alerting-node.js';
import type { GatewayCommands } from '../../src/commands/gateway-commands.js';
import { loadAlertingConfig } from '../../src/config.js';
import { T0 } from '../support.js';
import { openTestStore, type StoreFixture } from './service-support.js';

let store: StoreFixture | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await store?.close();
  store = undefined;
});

describe('scheduled duty checks (查岗, ANLIAN_DUTY_CHECK_EVERY_H)', () => {
  it('are off unless configured, and every N hours the fire control rooms are asked', async () => {
    expect(loadAlertingConfig({}).dutyCheckEveryH).toBeUndefined();
    expect(() => loadAlertingConfig({ ANLIAN_DUTY_CHECK_EVERY_H: '0' })).toThrow(/ANLIAN_DUTY_CHECK_EVERY_H/);

    store = await openTestStore();
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const sent: string[] = [];
    const commands: GatewayCommands = {
      async send(target, name) {
        sent.push(`${target.gateway}:${name}`);
        const reply: CommandReplyPayload = {
          v: 1,
          ts: T0,
          seq: sent.length,
          id: `r-${sent.length}`,
          ok: true,
          result: { answered: true },
        };
        return reply;
      },
    };
    const node = await buildAlerting({
      db: store.db as unknown as Kysely<Database>,
      config: loadAlertingConfig({ ANLIAN_DUTY_CHECK_EVERY_H: '2' }),
      logger: silentLogger(),
      metrics: new Registry(),
      subscribe: () => () => {},
      commands,
    });
    await node.start();
    try {
      await vi.advanceTimersByTimeAsync(2 * 3_600_000 - 1);
      expect(sent).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      await vi.waitFor(() => expect(sent.filter((s) => s.endsWith(':duty-check')).length).toBeGreaterThan(0));
      const checks = await node.api.listDutyChecks({});
      expect(checks.length).toBeGreaterThan(0);
      expect(checks.every((c) => c.source === 'schedule')).toBe(true);
    } finally {
      await node.stop();
    }
  });
});
