import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlertingFixture, startAlertingFixture } from './alerting-fixture.js';
import { type Harness, login, startHarness } from './dashboard-harness.js';

/**
 * Issue 13, item 2, at the HTTP edge: `POST /api/silences` on real alerting (default rules, SQLite)
 * refuses fire rules, unknown rules and over-long silences with a 400 that says why in Chinese,
 * and points the form at the field.
 */
describe('POST /api/silences on real alerting', () => {
  let f: AlertingFixture;
  let h: Harness;
  let operator: string;

  beforeAll(async () => {
    f = await startAlertingFixture();
    h = await startHarness({ deps: { alerts: f.port } });
    operator = await login(h, 'operator', h.demo.operator.password);
  });
  afterAll(async () => {
    await h?.close();
    await f?.close();
  });

  const post = (body: object) =>
    h.dashboard.app.inject({ method: 'POST', url: '/api/silences', headers: { cookie: operator }, payload: body });
  const silence = (scope: object, hours = 2) => ({
    scope,
    startsAt: f.clock.now,
    endsAt: f.clock.now + hours * 3600_000,
    reason: '消防系统年检',
  });

  it('refuses to silence the fire alarm, saying why in Chinese, at the rule field', async () => {
    const res = await post(silence({ institution: 'inst-a', rule: 'fire-alarm' }));
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('ANL_ALERT_REQUEST_INVALID');
    expect(body.message).toContain('火警永不静默');
    expect(body.message).toContain('屏蔽');
    expect(body.issues).toEqual([expect.objectContaining({ in: 'body', path: '/scope/rule', code: 'custom' })]);
    expect(body.issues[0].message).toMatch(/^fire alarms are never silenced/);
  });

  it('refuses an unknown rule and more than 7 days; takes an ordinary silence', async () => {
    const unknown = await post(silence({ institution: 'inst-a', rule: 'camera-picture-fualt' }));
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().message).toContain('没有规则 “camera-picture-fualt”');
    const long = await post(silence({ institution: 'inst-a' }, 7 * 24 + 1));
    expect(long.statusCode).toBe(400);
    expect(long.json().message).toContain('静默最长 168 小时');
    expect(long.json().issues[0].path).toBe('/endsAt');
    expect((await post(silence({ institution: 'inst-a', rule: 'camera-picture-fault' }, 7 * 24))).statusCode).toBe(200);
  });
});
