import Fastify from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlertingClient } from '../../src/api/alerting-client.js';
import { alertingApiOf } from '../../src/api/alerting-facade.js';
import { registerAlertingRoutes } from '../../src/api/alerting-routes.js';
import { formatNotification } from '../../src/notify/message-format.js';
import { parseRuleFile } from '../../src/rules/rule-loader.js';
import { deviceEvent, kitchen, S, T0 } from '../support.js';
import { openTestStore, type ServiceFixture, type StoreFixture, startService } from './service-support.js';

/** Issue 13, item 2: fire alarms are never silenced; maintenance is a device's `disabled` event. */
let store: StoreFixture;
let fx: ServiceFixture;

beforeEach(async () => {
  store = await openTestStore();
  fx = await startService(store, { deps: { silenceMaxMs: 48 * 3600 * S } });
});
afterEach(async () => {
  await fx?.service.stop();
  await store?.close();
});

const HOUR = 3600 * S;

describe('silences never cover a fire alarm', () => {
  it('refuses a silence of a fire rule with a 400 that says why in Chinese', async () => {
    for (const rule of ['fire-alarm', 'kitchen-heat-alarm', 'kitchen-rate-of-rise', 'kitchen-gas']) {
      const err = await fx.service
        .createSilence({ scope: { institution: 'yy-a', rule }, endsAt: T0 + HOUR, reason: '年检' }, 'op')
        .catch((e: unknown) => e);
      expect(err, rule).toMatchObject({ code: 'ANL_ALERT_REQUEST_INVALID', issues: [{ path: 'scope.rule' }] });
      expect((err as Error).message, rule).toMatch(/火警永不静默：规则 “[a-z-]+”（.+）是火警规则/);
      expect((err as Error).message, rule).toContain('fire alarms are never silenced');
    }
    expect(await fx.service.listSilences()).toEqual([]);
    // Other rules may be silenced: a camera being repaired.
    await fx.service.createSilence(
      { scope: { institution: 'yy-a', rule: 'camera-picture-fault' }, endsAt: T0 + HOUR, reason: '维修' },
      'op',
    );
  });

  it('refuses it the same over alerting’s HTTP API, the reason and the field reaching the client', async () => {
    const app = Fastify();
    registerAlertingRoutes(app, { api: alertingApiOf(fx.service) });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const client = new AlertingClient({ urls: [url], changes: () => () => {} });
      const err = await client
        .createSilence({
          scope: { institution: 'yy-a', rule: 'fire-alarm' },
          startsAt: T0,
          endsAt: T0 + HOUR,
          reason: '年检',
          author: 'op',
        })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({
        code: 'ANL_ALERT_REQUEST_INVALID',
        statusCode: 400,
        issues: [{ path: 'scope.rule', message: expect.stringMatching(/^fire alarms are never silenced/) }],
      });
      expect((err as Error).message).toContain('火警永不静默');
    } finally {
      await app.close();
    }
  });

  it('refuses a rule that does not exist and a silence longer than the configured maximum', async () => {
    await expect(
      fx.service.createSilence({ scope: { rule: 'no-such-rule' }, endsAt: T0 + HOUR, reason: 'x' }, 'op'),
    ).rejects.toMatchObject({ code: 'ANL_ALERT_REQUEST_INVALID', message: expect.stringContaining('没有规则') });
    await expect(
      fx.service.createSilence({ scope: { institution: 'yy-a' }, endsAt: T0 + 48 * HOUR + S, reason: 'x' }, 'op'),
    ).rejects.toMatchObject({ message: expect.stringContaining('静默最长 48 小时'), issues: [{ path: 'endsAt' }] });
    await fx.service.createSilence({ scope: { institution: 'yy-a' }, endsAt: T0 + 48 * HOUR, reason: 'x' }, 'op');
  });

  it('an institution-wide silence mutes the other alerts there, never its fire alarm', async () => {
    const { service, notifier } = fx;
    await service.createSilence({ scope: { institution: 'yy-a' }, endsAt: T0 + HOUR, reason: '消防系统年检' }, 'op');
    service.handle(deviceEvent('ext-1', 'extinguisher', 'low_pressure', T0 + S));
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 2 * S));
    service.handle(kitchen('k-1', 60, T0 + 3 * S));
    const byRule = new Map(service.openAlerts().map((a) => [a.rule, a]));
    expect(byRule.get('extinguisher-low-pressure-event')).toMatchObject({ silenced: true });
    expect(byRule.get('fire-alarm')).toMatchObject({ silenced: false, escalation: { state: 'active' } });
    expect(byRule.get('kitchen-heat-alarm')).toMatchObject({ silenced: false });
    expect(notifier.sent.map((n) => n.rule).sort()).toEqual(['fire-alarm', 'kitchen-heat-alarm']);
  });

  it('ignores a fire-rule silence stored before the API refused them', async () => {
    // As an older version recorded it (straight into the store), then a restart reads it back.
    await fx.service.store.insertSilence({
      id: 'si_legacy',
      scope: { institution: 'yy-a', rule: 'fire-alarm' },
      startsAt: T0 - HOUR,
      endsAt: T0 + 30 * 24 * HOUR,
      reason: '旧版本的静默',
      author: 'op',
      createdAt: T0 - HOUR,
    });
    await fx.service.stop();
    fx = await startService(store);
    fx.service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + S));
    expect(fx.service.openAlerts()[0]).toMatchObject({ rule: 'fire-alarm', silenced: false });
    expect(fx.notifier.sent.map((n) => n.rule)).toEqual(['fire-alarm']);
  });
});

describe('a device under maintenance (disabled, 屏蔽)', () => {
  it('still pushes its fire alarm, marked in the alert and the push text, until it is restored', () => {
    const { service, notifier } = fx;
    service.handle(deviceEvent('smoke-1', 'fire', 'disabled', T0 + S));
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 2 * S));
    const fire = service.openAlerts().find((a) => a.rule === 'fire-alarm');
    expect(fire).toMatchObject({ deviceDisabled: true, silenced: false, reason: expect.stringContaining('屏蔽') });
    const push = notifier.sent.find((n) => n.rule === 'fire-alarm');
    expect(push?.deviceDisabled).toBe(true);
    const text = formatNotification(push as NonNullable<typeof push>, T0 + 2 * S).text;
    expect(text).toMatch(/^\[设备屏蔽中\]【火警】/);
    expect(text).toContain('该设备处于屏蔽（维护）状态时报警');

    // Restored: the next alarm of that detector is an ordinary one.
    service.handle(deviceEvent('smoke-1', 'fire', 'restore', T0 + 3 * S));
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 4 * S, { institution: 'yy-b', gateway: 'gw-2' }));
    expect(service.openAlerts().find((a) => a.gateway === 'gw-2')?.deviceDisabled).toBeUndefined();
  });

  it('keeps the mark across a restart (in the store)', async () => {
    fx.service.handle(deviceEvent('smoke-1', 'fire', 'disabled', T0 + S));
    fx.service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 2 * S));
    await fx.service.stop();
    fx = await startService(store);
    expect(fx.service.openAlerts().find((a) => a.rule === 'fire-alarm')?.deviceDisabled).toBe(true);
  });
});

describe('no rule file takes the fire alarm away', () => {
  it('refuses replacing the fire alarm rule by one that no longer raises it', () => {
    const yaml = `
rules:
  - { id: fire-alarm, name: { zh: 火警, en: Fire }, kind: event, severity: critical, resolve: manual,
      scope: { kinds: [fire] }, events: [test] }
`;
    expect(() => parseRuleFile(yaml, { source: 'rules.yaml' })).toThrow(/no rule raises the fire alarm/);
  });

  it('refuses an override that narrows the fire alarm rule away for one institution', () => {
    const yaml = `
overrides:
  - institution: yy-a
    rules: { fire-alarm: { events: [supervisory] } }
`;
    expect(() => parseRuleFile(yaml, { source: 'rules.yaml' })).toThrow(
      /the fire alarm rule must keep covering fire events/,
    );
  });
});
