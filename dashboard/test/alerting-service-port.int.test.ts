import { registerAlertingRoutes } from '@anlian/alerting';
import { AlertingClient } from '@anlian/alerting/client';
import { LatestStateCache } from '@anlian/bus';
import { silentLogger } from '@anlian/runtime';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertChange } from '../src/alerts/alerts-port.js';
import { buildDashboard, type Dashboard, type DemoUsers, migrateDashboard, seedDemoUsers } from '../src/index.js';
import { type AlertingFixture, startAlertingFixture, T0 } from './alerting-fixture.js';
import { login } from './dashboard-harness.js';

/**
 * `alertingApiOf` against a real `AlertingService` (startAlerting on a temporary SQLite store,
 * default rules, deliveries recorded by the dashboard stream channel), then the same through the
 * dashboard's HTTP routes.
 */
describe('alertingApiOf(AlertingService)', () => {
  let f: AlertingFixture;
  const changes: AlertChange[] = [];

  beforeAll(async () => {
    f = await startAlertingFixture();
    f.port.onChange((c) => changes.push(c));
  });
  afterAll(async () => {
    await f?.close();
  });

  const fire = (institution: 'inst-a' | 'inst-b') =>
    f.bus.emit(f.deviceEvent(institution, `gw-${institution.slice(-1)}`, 'smk-1', 'fire', 'fire'));

  it('raises through alerting; the port hears it, lists it open, and shows its timeline and deliveries', async () => {
    fire('inst-a');
    const raised = changes.find((c) => c.type === 'raised');
    expect(raised?.alert).toMatchObject({
      rule: 'fire-alarm',
      severity: 'critical',
      resolve: 'manual',
      status: 'open',
      institution: 'inst-a',
      deviceKind: 'fire',
      escalation: { level: 0, round: 0, state: 'active' },
    });
    expect(raised?.transition).toMatchObject({ seq: 1, from: null, to: 'open', actor: 'system' });
    const id = raised?.alert.id ?? '';
    expect((await f.port.openAlerts()).map((a) => a.id)).toEqual([id]);
    // The stream channel's delivery is written behind the push.
    let detail = await f.port.get(id);
    for (let i = 0; i < 50 && (detail?.deliveries.length ?? 0) === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      detail = await f.port.get(id);
    }
    expect(detail?.transitions).toEqual([expect.objectContaining({ alertId: id, seq: 1, to: 'open' })]);
    expect(detail?.deliveries[0]).toMatchObject({
      alertId: id,
      channelId: 'dashboard',
      channelType: 'stream',
      status: 'sent',
      attempt: 1,
      notificationId: `${id}/L0R0`,
    });
    expect(await f.port.get('al-none')).toBeUndefined();
  });

  it('acknowledge → verify → close; refusals carry alerting’s code and HTTP status; closed is the port’s cleared', async () => {
    const [alert] = await f.port.openAlerts();
    const id = alert?.id ?? '';
    f.clock.now = T0 + 42_000;
    expect(await f.port.acknowledge(id, 'op', '到场')).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'op' });
    await expect(f.port.acknowledge(id, 'op')).rejects.toMatchObject({
      code: 'ANL_ALERT_TRANSITION_INVALID',
      statusCode: 409,
    });
    // A fire alarm (manual) is verified by a person before it closes (GB 25201).
    await expect(f.port.close(id, 'op')).rejects.toMatchObject({ statusCode: 409 });
    await expect(f.port.acknowledge('al-none', 'op')).rejects.toMatchObject({
      code: 'ANL_ALERT_NOT_FOUND',
      statusCode: 404,
    });
    expect(await f.port.summary('testcounty', T0)).toEqual({
      openByKind: { fire: 1 },
      alarmsToday: 1,
      meanTimeToAcknowledgeMs: 42_000,
    });
    expect(await f.port.verify(id, 'op', 'false_alarm', '油烟')).toMatchObject({
      status: 'verified',
      verdict: 'false_alarm',
      verifiedBy: 'op',
    });
    expect(await f.port.close(id, 'op')).toMatchObject({ status: 'closed', closedBy: 'op' });
    expect(changes.map((c) => `${c.type}:${c.alert.status}:${c.transition?.to ?? '-'}`)).toEqual([
      'raised:open:open',
      'updated:acknowledged:acknowledged',
      'updated:verified:verified',
      'cleared:closed:closed',
    ]);
    expect(await f.port.openAlerts()).toEqual([]);
    expect((await f.port.get(id))?.transitions.map((t) => t.to)).toEqual([
      'open',
      'acknowledged',
      'verified',
      'closed',
    ]);
  });

  it('pages with the last id as cursor and filters by severity, status and kind', async () => {
    f.clock.now = T0 + 60_000;
    fire('inst-a');
    f.clock.now += 1000;
    fire('inst-b');
    f.clock.now += 1000;
    f.bus.emit(f.deviceEvent('inst-a', 'gw-a', 'cam-1', 'camera', 'signal_loss'));
    f.clock.now += 1000;
    f.bus.emit(f.deviceEvent('inst-b', 'gw-b', 'ext-1', 'extinguisher', 'moved'));
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await f.port.list({ limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...page.alerts.map((a) => a.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    // Five alerts (the closed one included), newest first, each once.
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(5);
    expect([...seen].sort().reverse()).toEqual(seen);
    const major = await f.port.list({ severity: ['major', 'minor'] });
    expect(major.alerts.map((a) => `${a.rule}:${a.severity}`).sort()).toEqual([
      'camera-signal-loss:major',
      'extinguisher-moved:minor',
    ]);
    expect((await f.port.list({ status: ['open'], kind: 'fire' })).alerts).toHaveLength(2);
    expect((await f.port.list({ institution: 'inst-b', status: ['closed'] })).alerts).toHaveLength(0);
    // The alert history's filters: what a person found, and the gateways' own alerts.
    expect((await f.port.list({ verdict: ['false_alarm'] })).alerts.map((a) => a.verdict)).toEqual(['false_alarm']);
    expect((await f.port.list({ verdict: ['real_fire', 'test'] })).alerts).toEqual([]);
    expect((await f.port.list({ kind: 'gateway' })).alerts).toEqual([]);
    // The same filters over alerting's HTTP API (the production form: AlertingClient → anlian alerting).
    const http = Fastify();
    registerAlertingRoutes(http, { api: f.port });
    const url = await http.listen({ host: '127.0.0.1', port: 0 });
    try {
      const client = new AlertingClient({ urls: [url], changes: () => () => {} });
      expect((await client.list({ verdict: ['false_alarm'] })).alerts.map((a) => a.verdict)).toEqual(['false_alarm']);
      expect((await client.list({ verdict: ['real_fire', 'test'] })).alerts).toEqual([]);
      expect((await client.list({ kind: 'gateway' })).alerts).toEqual([]);
      expect((await client.list({ kind: 'camera' })).alerts.map((a) => a.rule)).toEqual(['camera-signal-loss']);
    } finally {
      await http.close();
    }
    expect(await f.port.summary('testcounty', T0)).toMatchObject({
      openByKind: { fire: 2, camera: 1, extinguisher: 1 },
      alarmsToday: 5,
    });
  });

  it('silences: create, list, expire (returning the silence), expire again is 404', async () => {
    const s = await f.port.createSilence({
      scope: { institution: 'inst-a', rule: 'camera-picture-fault' },
      startsAt: f.clock.now,
      endsAt: f.clock.now + 3_600_000,
      reason: '维修',
      author: 'op',
    });
    expect((await f.port.listSilences()).map((x) => x.id)).toContain(s.id);
    f.clock.now += 1000;
    expect(await f.port.expireSilence(s.id, 'admin')).toMatchObject({
      id: s.id,
      expiredAt: f.clock.now,
      expiredBy: 'admin',
    });
    await expect(f.port.expireSilence(s.id, 'admin')).rejects.toMatchObject({ statusCode: 404 });
    await expect(
      f.port.createSilence({ scope: {}, startsAt: f.clock.now, endsAt: f.clock.now + 1, reason: 'x', author: 'op' }),
    ).rejects.toMatchObject({ code: 'ANL_ALERT_REQUEST_INVALID', statusCode: 400 });
  });

  it('drills: alerts its signals raise are tagged; the report scores them as JSON and CSV', async () => {
    const d = await f.port.createDrill({
      name: '冬季消防演练',
      institutions: ['inst-b'],
      startsAt: f.clock.now,
      endsAt: f.clock.now + 600_000,
      author: 'admin',
    });
    expect(d).toMatchObject({ recipients: 'marker', author: 'admin' });
    f.clock.now += 1000;
    f.bus.emit(f.deviceEvent('inst-b', 'gw-b', 'kit-1', 'kitchen', 'gas', d.id));
    const drillAlert = (await f.port.openAlerts()).find((a) => a.drillId === d.id);
    expect(drillAlert).toMatchObject({ drill: true, rule: 'kitchen-device-alarm', severity: 'critical' });
    f.clock.now += 30_000;
    await f.port.acknowledge(drillAlert?.id ?? '', 'inst-b');
    const { report, csv } = await f.port.drillReport(d.id);
    expect(report.summary).toMatchObject({ alerts: 1, acknowledged: 1, meanToAcknowledgeS: 30 });
    expect(csv.startsWith('\uFEFFalertId,')).toBe(true);
    expect(csv).toContain(drillAlert?.id);
    expect(await f.port.endDrill(d.id, 'admin')).toMatchObject({ endedAt: f.clock.now, endedBy: 'admin' });
    expect((await f.port.listDrills())[0]).toMatchObject({ id: d.id, endedBy: 'admin' });
    await expect(f.port.drillReport('dr-none')).rejects.toMatchObject({ statusCode: 404 });
    // Drill alerts are not the county's figures.
    expect((await f.port.summary('testcounty', T0)).openByKind.kitchen).toBeUndefined();
  });

  it('escalation policies: the default, a valid one with alerting’s defaults filled in, a refused one', async () => {
    expect((await f.port.getPolicy('inst-a')).levels[0]).toEqual({ afterS: 0, roles: ['manager', 'fire_safety'] });
    const set = await f.port.setPolicy(
      'inst-a',
      {
        levels: [
          { afterS: 0, roles: ['manager'] },
          { afterS: 60, roles: ['duty_officer'] },
        ],
      },
      'admin',
    );
    expect(set).toEqual({
      levels: [
        { afterS: 0, roles: ['manager'] },
        { afterS: 60, roles: ['duty_officer'] },
      ],
      repeatEveryS: 300,
      notifyMinSeverity: 'major',
      escalateMinSeverity: 'critical',
    });
    expect(await f.port.getPolicy('inst-a')).toEqual(set);
    await expect(
      f.port.setPolicy('inst-a', { levels: [{ afterS: 30, roles: ['manager'] }] }, 'admin'),
    ).rejects.toMatchObject({ code: 'ANL_ALERT_REQUEST_INVALID', statusCode: 400 });
  });
});

describe('the dashboard on real alerting', () => {
  let f: AlertingFixture;
  let dashboard: Dashboard;
  let demo: DemoUsers;

  beforeAll(async () => {
    f = await startAlertingFixture();
    await migrateDashboard(f.db);
    demo = await seedDemoUsers(f.db, 'testcounty');
    dashboard = await buildDashboard({
      db: f.db,
      cache: new LatestStateCache(),
      subscribeIngest: f.bus.subscribe,
      queryInflux: async () => [],
      alerts: f.port,
      logger: silentLogger(),
      webRoot: null,
    });
    await dashboard.start();
  });
  afterAll(async () => {
    await dashboard?.stop();
    await f?.close();
  });

  it('serves alerting’s alerts, timelines and deliveries, and answers its refusals with their status', async () => {
    f.bus.emit(f.deviceEvent('inst-a', 'gw-a', 'smk-1', 'fire', 'fire'));
    const [alert] = await f.port.openAlerts();
    const id = alert?.id ?? '';
    // The live model heard it at once: the institution is red.
    expect(dashboard.model.institutionLive('inst-a')).toMatchObject({ status: 'alarm', pulse: true, risk: 'red' });
    const manager = await login({ dashboard }, 'inst-a', demo.managers[0]?.password ?? '');
    const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
      dashboard.app.inject({ method, url, headers: { cookie: manager }, ...(payload ? { payload } : {}) });

    const list = await call('GET', '/api/alerts?severity=critical,major&status=open');
    expect(list.statusCode).toBe(200);
    expect(list.json().alerts).toEqual([expect.objectContaining({ id, resolve: 'manual', severity: 'critical' })]);
    expect((await call('GET', '/api/alerts?severity=warning')).statusCode).toBe(400);
    const detail = await call('GET', `/api/alerts/${id}`);
    expect(detail.statusCode).toBe(200);
    expect(detail.json().transitions).toEqual([expect.objectContaining({ seq: 1, to: 'open' })]);

    const refused = await call('POST', `/api/alerts/${id}/close`, {});
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('ANL_ALERT_TRANSITION_INVALID');
    expect((await call('POST', `/api/alerts/${id}/acknowledge`, {})).json()).toMatchObject({
      status: 'acknowledged',
      acknowledgedBy: 'inst-a',
    });
    expect((await call('POST', `/api/alerts/${id}/verify`, { verdict: 'test' })).statusCode).toBe(200);
    expect((await call('POST', `/api/alerts/${id}/close`, { note: '测试' })).json()).toMatchObject({
      status: 'closed',
      verdict: 'test',
    });
    // Back to what its gateway says (never heard from in this test: offline).
    expect(dashboard.model.institutionLive('inst-a')).toMatchObject({ status: 'offline', openAlerts: 0 });
  });
});
