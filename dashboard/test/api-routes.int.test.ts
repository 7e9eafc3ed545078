import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fireEvent, type Harness, kitchenTelemetry, login, startHarness, statusEvent } from './dashboard-harness.js';

/** Every route through app.inject, with who may and who may not. */
describe('dashboard API', () => {
  let h: Harness;
  let admin: string;
  let operator: string;
  let managerA: string;
  let viewer: string;

  const call = async (
    cookie: string | undefined,
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    payload?: unknown,
  ) =>
    h.dashboard.app.inject({
      method,
      url,
      ...(cookie ? { headers: { cookie } } : {}),
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  beforeAll(async () => {
    h = await startHarness({ deps: { loginLimit: { max: 5, timeWindowMs: 60_000 } } });
    admin = await login(h, 'admin', h.demo.admin.password);
    operator = await login(h, 'operator', h.demo.operator.password);
    managerA = await login(h, 'inst-a', h.demo.managers[0]?.password ?? '');
    const kiosk = await call(undefined, 'POST', '/api/auth/kiosk', { token: h.demo.kioskToken });
    expect(kiosk.statusCode).toBe(200);
    viewer = `anl_session=${kiosk.cookies.find((c) => c.name === 'anl_session')?.value}`;
  });
  afterAll(async () => {
    await h?.close();
  });

  describe('auth', () => {
    it('sets an httpOnly SameSite=Strict cookie on login and knows who is signed in', async () => {
      const res = await call(undefined, 'POST', '/api/auth/login', {
        username: 'operator',
        password: h.demo.operator.password,
      });
      expect(res.statusCode).toBe(200);
      const c = res.cookies.find((x) => x.name === 'anl_session');
      expect(c?.httpOnly).toBe(true);
      expect(c?.sameSite).toBe('Strict');
      const me = await call(managerA, 'GET', '/api/auth/me');
      expect(me.json().user).toMatchObject({ name: 'inst-a', role: 'institution_manager', institution: 'inst-a' });
      const kioskMe = await call(viewer, 'GET', '/api/auth/me');
      expect(kioskMe.json().user).toMatchObject({ role: 'viewer', county: 'testcounty' });
    });

    it('refuses wrong passwords with a code, and rate-limits repeated attempts', async () => {
      const bad = await call(undefined, 'POST', '/api/auth/login', { username: 'nobody', password: 'wrong-password' });
      expect(bad.statusCode).toBe(401);
      expect(bad.json().code).toBe('ANL_DASH_LOGIN_FAILED');
      for (let i = 0; i < 4; i++)
        await call(undefined, 'POST', '/api/auth/login', { username: 'nobody', password: 'x' });
      const limited = await call(undefined, 'POST', '/api/auth/login', { username: 'nobody', password: 'x' });
      expect(limited.statusCode).toBe(429);
      expect(limited.json().code).toBe('ANL_DASH_RATE_LIMITED');
      // Another username from the same address is not locked out by it.
      expect(
        (await call(undefined, 'POST', '/api/auth/login', { username: 'operator', password: h.demo.operator.password }))
          .statusCode,
      ).toBe(200);
    });

    it('refuses anonymous requests and a bad kiosk token', async () => {
      expect((await call(undefined, 'GET', '/api/auth/me')).statusCode).toBe(401);
      expect((await call(undefined, 'GET', '/api/county')).json().code).toBe('ANL_DASH_UNAUTHENTICATED');
      expect((await call(undefined, 'POST', '/api/auth/kiosk', { token: 'x'.repeat(40) })).statusCode).toBe(401);
    });

    it('ends the session on logout', async () => {
      const cookie = await login(h, 'inst-b', h.demo.operator.password.replace('operator', 'manager'));
      expect((await call(cookie, 'POST', '/api/auth/logout')).statusCode).toBe(200);
      expect((await call(cookie, 'GET', '/api/auth/me')).statusCode).toBe(401);
    });
  });

  describe('county and institutions', () => {
    it('gives county staff and the wall screen the county snapshot, not a manager', async () => {
      h.ingest(statusEvent('inst-a', 'gw-a', 'online'));
      h.ingest(statusEvent('inst-b', 'gw-b', 'online'));
      const res = await call(viewer, 'GET', '/api/county');
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.institutions).toHaveLength(2);
      expect(body.stats.institutions).toBe(2);
      expect((await call(managerA, 'GET', '/api/county')).statusCode).toBe(403);
      expect((await call(operator, 'GET', '/api/county/outline')).json().type).toBe('FeatureCollection');
    });

    it('lists only the manager’s own institution', async () => {
      expect(
        (await call(managerA, 'GET', '/api/institutions')).json().institutions.map((i: { id: string }) => i.id),
      ).toEqual(['inst-a']);
      expect((await call(operator, 'GET', '/api/institutions')).json().institutions).toHaveLength(2);
    });

    it('finds institutions by any part of the name, id or address, with status and open alerts', async () => {
      const find = async (cookie: string, q: string) =>
        (await call(cookie, 'GET', `/api/institutions?q=${encodeURIComponent(q)}`))
          .json()
          .institutions.map((i: { id: string }) => i.id);
      expect(await find(operator, '养老院B')).toEqual(['inst-b']);
      expect(await find(operator, 'INST-A')).toEqual(['inst-a']);
      expect(await find(operator, '测试路2')).toEqual(['inst-b']);
      expect(await find(operator, '  ')).toEqual(['inst-a', 'inst-b']);
      expect(await find(operator, '不存在')).toEqual([]);
      expect(await find(managerA, '养老院B')).toEqual([]);
      const [b] = (await call(operator, 'GET', '/api/institutions?q=inst-b')).json().institutions;
      expect(b).toMatchObject({ id: 'inst-b', town: '', status: 'normal', openAlerts: 0, gatewaysTotal: 1 });
      expect((await call(operator, 'GET', `/api/institutions?q=${'x'.repeat(101)}`)).statusCode).toBe(400);
    });

    it('shows an institution with devices and latest values; a manager of A gets 403 on B', async () => {
      h.ingest(kitchenTelemetry('inst-a', 'gw-a', 'kit-1', 36.5));
      const res = await call(managerA, 'GET', '/api/institutions/inst-a');
      expect(res.statusCode).toBe(200);
      const kit = res.json().devices.find((d: { device: string }) => d.device === 'kit-1');
      expect(kit).toMatchObject({ kind: 'kitchen', building: '食堂', values: { temperature: 36.5 }, online: true });
      expect((await call(managerA, 'GET', '/api/institutions/inst-b')).statusCode).toBe(403);
      expect((await call(operator, 'GET', '/api/institutions/inst-b')).statusCode).toBe(200);
      expect((await call(operator, 'GET', '/api/institutions/nope')).statusCode).toBe(404);
    });

    it('queries InfluxDB for history with a safe InfluxQL statement', async () => {
      const res = await call(managerA, 'GET', '/api/institutions/inst-a/history?measure=kitchen&range=7d');
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        measure: 'kitchen',
        range: '7d',
        field: 'temperature',
        series: [{ device: 'kit-1', points: [[1_700_000_000_000, 31.5]] }],
      });
      expect(h.influxQueries.at(-1)).toBe(
        `SELECT mean("temperature") AS "v" FROM "kitchen" WHERE "institution" = 'inst-a' AND "type" = 'telemetry' AND "sim_run" = '' AND time > now() - 7d GROUP BY time(3600s), "device" fill(null)`,
      );
      expect((await call(managerA, 'GET', '/api/institutions/inst-b/history?measure=kitchen')).statusCode).toBe(403);
      expect(
        (await call(managerA, 'GET', "/api/institutions/inst-a/history?measure=kitchen&device=x'%20OR")).statusCode,
      ).toBe(400);
      expect((await call(managerA, 'GET', '/api/institutions/inst-a/history?measure=nope')).statusCode).toBe(400);
    });
  });

  describe('alerts', () => {
    let alertA: string;
    let alertB: string;

    beforeAll(() => {
      h.ingest(fireEvent('inst-a', 'gw-a', 'smk-1'));
      h.ingest(fireEvent('inst-b', 'gw-b', 'smk-1'));
    });

    it('lists alerts; a manager sees only their institution and gets 403 asking for another', async () => {
      const all = (await call(operator, 'GET', '/api/alerts?status=open')).json();
      expect(all.alerts).toHaveLength(2);
      alertA = all.alerts.find((a: { institution: string }) => a.institution === 'inst-a').id;
      alertB = all.alerts.find((a: { institution: string }) => a.institution === 'inst-b').id;
      const mine = (await call(managerA, 'GET', '/api/alerts')).json();
      expect(mine.alerts.map((a: { institution: string }) => a.institution)).toEqual(['inst-a']);
      expect((await call(managerA, 'GET', '/api/alerts?institution=inst-b')).statusCode).toBe(403);
      expect((await call(operator, 'GET', '/api/alerts?status=bogus')).statusCode).toBe(400);
    });

    it('shows one alert with its timeline; 403 for another institution’s', async () => {
      const res = await call(managerA, 'GET', `/api/alerts/${alertA}`);
      expect(res.statusCode).toBe(200);
      expect(res.json().transitions).toEqual([expect.objectContaining({ from: null, to: 'open', actor: 'system' })]);
      expect((await call(managerA, 'GET', `/api/alerts/${alertB}`)).statusCode).toBe(403);
      expect((await call(managerA, 'GET', '/api/alerts/none')).statusCode).toBe(404);
    });

    it('acknowledge → verify → close, each audited; invalid transitions are 409', async () => {
      expect((await call(viewer, 'POST', `/api/alerts/${alertA}/acknowledge`, {})).statusCode).toBe(403);
      expect((await call(managerA, 'POST', `/api/alerts/${alertB}/acknowledge`, {})).statusCode).toBe(403);
      const closeEarly = await call(managerA, 'POST', `/api/alerts/${alertA}/close`, {});
      expect(closeEarly.statusCode).toBe(409);
      expect(closeEarly.json().code).toBe('ANL_ALERT_TRANSITION_INVALID');
      const ack = await call(managerA, 'POST', `/api/alerts/${alertA}/acknowledge`, { note: '已到现场' });
      expect(ack.statusCode).toBe(200);
      expect(ack.json()).toMatchObject({
        status: 'acknowledged',
        acknowledgedBy: 'inst-a',
        escalation: { state: 'stopped' },
      });
      expect((await call(managerA, 'POST', `/api/alerts/${alertA}/acknowledge`, {})).statusCode).toBe(409);
      expect((await call(managerA, 'POST', `/api/alerts/${alertA}/verify`, { verdict: 'maybe' })).statusCode).toBe(400);
      const verify = await call(managerA, 'POST', `/api/alerts/${alertA}/verify`, {
        verdict: 'false_alarm',
        note: '厨房油烟',
      });
      expect(verify.json()).toMatchObject({ status: 'verified', verdict: 'false_alarm' });
      const close = await call(managerA, 'POST', `/api/alerts/${alertA}/close`, { note: '已处理' });
      expect(close.json()).toMatchObject({ status: 'closed', closedBy: 'inst-a' });
      // The handling record names the people, not their user names.
      const record = (await call(operator, 'GET', `/api/alerts/${alertA}`)).json();
      expect(record.actors).toEqual({ 'inst-a': '测试养老院A负责人' });
      expect(record.transitions.map((t: { to: string; note?: string }) => `${t.to}:${t.note ?? ''}`)).toEqual([
        'open:主楼 1F 101',
        'acknowledged:已到现场',
        'verified:厨房油烟',
        'closed:已处理',
      ]);
      const audit = (await call(admin, 'GET', '/api/admin/audit?institution=inst-a'))
        .json()
        .entries.map((e: { action: string }) => e.action);
      expect(audit).toEqual(expect.arrayContaining(['alert.acknowledge', 'alert.verify', 'alert.close']));
      expect((await call(operator, 'POST', `/api/alerts/${alertB}/acknowledge`, {})).statusCode).toBe(200);
    });

    it('filters the history by verdict and kind (gateway alerts too) and pages through it', async () => {
      const ids = async (cookie: string, url: string) =>
        (await call(cookie, 'GET', url)).json().alerts.map((a: { id: string }) => a.id);
      expect(await ids(operator, '/api/alerts?verdict=false_alarm')).toEqual([alertA]);
      expect(await ids(operator, '/api/alerts?verdict=real_fire,test')).toEqual([]);
      expect((await call(operator, 'GET', '/api/alerts?verdict=maybe')).statusCode).toBe(400);
      expect(await ids(managerA, '/api/alerts?verdict=false_alarm,device_fault')).toEqual([alertA]);
      h.ingest(statusEvent('inst-b', 'gw-b', 'offline'));
      const gateway = await ids(operator, '/api/alerts?kind=gateway');
      expect(gateway).toHaveLength(1);
      expect(await ids(operator, '/api/alerts?kind=fire')).toEqual(expect.not.arrayContaining(gateway));
      const first = (await call(operator, 'GET', '/api/alerts?limit=2')).json();
      expect(first.alerts).toHaveLength(2);
      const second = await ids(operator, `/api/alerts?limit=2&cursor=${first.nextCursor}`);
      expect(second).toHaveLength(1);
      expect(second).not.toContain(first.alerts[0].id);
      h.ingest(statusEvent('inst-b', 'gw-b', 'online'));
    });
  });

  describe('silences, drills, escalation policies', () => {
    it('operators silence; managers and viewers may not; expire ends one', async () => {
      const now = Date.now();
      const body = {
        scope: { institution: 'inst-a', rule: 'camera-picture-fault' },
        startsAt: now,
        endsAt: now + 3600_000,
        reason: '维修',
      };
      expect((await call(managerA, 'POST', '/api/silences', body)).statusCode).toBe(403);
      expect((await call(viewer, 'POST', '/api/silences', body)).statusCode).toBe(403);
      expect((await call(operator, 'POST', '/api/silences', { ...body, endsAt: now - 1 })).statusCode).toBe(400);
      const s = await call(operator, 'POST', '/api/silences', body);
      expect(s.statusCode).toBe(200);
      expect((await call(managerA, 'GET', '/api/silences')).json().silences).toHaveLength(1);
      const exp = await call(operator, 'POST', `/api/silences/${s.json().id}/expire`);
      expect(exp.json().expiredAt).toBeTypeOf('number');
      expect((await call(operator, 'POST', '/api/silences/none/expire')).statusCode).toBe(404);
    });

    it('drills: plan, list, report as JSON and CSV, end', async () => {
      const now = Date.now();
      expect(
        (
          await call(managerA, 'POST', '/api/drills', {
            name: '演练',
            institutions: ['inst-a'],
            startsAt: now,
            endsAt: now + 60_000,
          })
        ).statusCode,
      ).toBe(403);
      const d = await call(operator, 'POST', '/api/drills', {
        name: '2026年冬季消防演练',
        institutions: ['inst-b'],
        startsAt: now,
        endsAt: now + 600_000,
      });
      expect(d.statusCode).toBe(200);
      const id = d.json().id;
      expect((await call(operator, 'GET', '/api/drills')).json().drills).toHaveLength(1);
      expect((await call(managerA, 'GET', '/api/drills')).json().drills).toHaveLength(0);
      expect((await call(managerA, 'GET', `/api/drills/${id}/report`)).statusCode).toBe(403);
      expect((await call(operator, 'GET', `/api/drills/${id}/report`)).json()).toMatchObject({
        drill: { id, recipients: 'marker' },
        summary: { alerts: 0, silentInstitutions: ['inst-b'] },
      });
      const csv = await call(operator, 'GET', `/api/drills/${id}/report?format=csv`);
      expect(csv.headers['content-type']).toContain('text/csv');
      // alerting's columns, one BOM (for Excel) and no second one.
      expect(csv.body).toMatch(/^\uFEFFalertId,institution,rule,nameZh,severity/);
      expect((await call(operator, 'POST', `/api/drills/${id}/end`)).json().endedAt).toBeTypeOf('number');
    });

    it('escalation policy: read in scope; set by admin or the institution’s manager', async () => {
      expect(
        (await call(managerA, 'GET', '/api/institutions/inst-a/escalation-policy')).json().levels.length,
      ).toBeGreaterThan(0);
      expect((await call(managerA, 'GET', '/api/institutions/inst-b/escalation-policy')).statusCode).toBe(403);
      const policy = {
        levels: [
          { afterS: 0, roles: ['manager'] },
          { afterS: 120, roles: ['deputy', 'duty_officer'] },
        ],
        repeatEveryS: 300,
      };
      expect((await call(managerA, 'PUT', '/api/institutions/inst-a/escalation-policy', policy)).statusCode).toBe(200);
      expect((await call(managerA, 'PUT', '/api/institutions/inst-b/escalation-policy', policy)).statusCode).toBe(403);
      expect((await call(operator, 'PUT', '/api/institutions/inst-b/escalation-policy', policy)).statusCode).toBe(403);
      expect(
        (await call(admin, 'PUT', '/api/institutions/inst-b/escalation-policy', { levels: [], repeatEveryS: 0 }))
          .statusCode,
      ).toBe(400);
    });
  });

  describe('admin', () => {
    it('is for county admins only', async () => {
      for (const cookie of [operator, managerA, viewer]) {
        expect((await call(cookie, 'GET', '/api/admin/users')).statusCode).toBe(403);
        expect((await call(cookie, 'GET', '/api/admin/gateways')).statusCode).toBe(403);
        expect((await call(cookie, 'GET', '/api/admin/registry/export')).statusCode).toBe(403);
      }
    });

    it('users: create, change, disable (which ends their sessions)', async () => {
      const created = await call(admin, 'POST', '/api/admin/users', {
        username: 'duty2',
        displayName: '值班员二',
        password: 'long-enough-pw',
        role: 'county_operator',
      });
      expect(created.statusCode).toBe(200);
      expect(
        (
          await call(admin, 'POST', '/api/admin/users', {
            username: 'duty2',
            displayName: 'x',
            password: 'long-enough-pw',
            role: 'viewer',
          })
        ).statusCode,
      ).toBe(409);
      expect(
        (
          await call(admin, 'POST', '/api/admin/users', {
            username: 'm2',
            displayName: 'x',
            password: 'long-enough-pw',
            role: 'institution_manager',
          })
        ).statusCode,
      ).toBe(400);
      expect(
        (
          await call(admin, 'POST', '/api/admin/users', {
            username: 'm3',
            displayName: 'x',
            password: 'short',
            role: 'viewer',
          })
        ).statusCode,
      ).toBe(400);
      const cookie = await login(h, 'duty2', 'long-enough-pw');
      const patched = await call(admin, 'PATCH', `/api/admin/users/${created.json().id}`, { disabled: true });
      expect(patched.json().disabled).toBe(true);
      expect((await call(cookie, 'GET', '/api/auth/me')).statusCode).toBe(401);
      expect((await call(admin, 'GET', '/api/admin/users')).json().users.length).toBeGreaterThanOrEqual(5);
    });

    it('kiosk tokens: issue, sign a screen in, revoke', async () => {
      const issued = await call(admin, 'POST', '/api/admin/kiosk-tokens', { name: '监管中心大屏2' });
      const { token, record } = issued.json();
      const signIn = await call(undefined, 'POST', '/api/auth/kiosk', { token });
      expect(signIn.statusCode).toBe(200);
      const cookie = `anl_session=${signIn.cookies.find((c) => c.name === 'anl_session')?.value}`;
      expect((await call(admin, 'GET', '/api/admin/kiosk-tokens')).json().tokens.length).toBe(2);
      await call(admin, 'POST', `/api/admin/kiosk-tokens/${record.id}/revoke`);
      expect((await call(cookie, 'GET', '/api/auth/me')).statusCode).toBe(401);
    });

    it('institutions, gateways with credentials, devices, contacts', async () => {
      expect(
        (
          await call(admin, 'PUT', '/api/admin/institutions/inst-c', {
            name: '新机构',
            address: '新路1号',
            location: { lng: 108.8, lat: 28.9 },
            beds: 20,
          })
        ).json().result,
      ).toBe('created');
      expect(
        (await call(admin, 'PUT', '/api/admin/gateways/gw-c', { institution: 'inst-c', name: '新网关' })).json().result,
      ).toBe('created');
      const rotated = await call(admin, 'POST', '/api/admin/gateways/gw-c/rotate');
      expect(rotated.json().secret.length).toBeGreaterThanOrEqual(24);
      expect(await h.dashboard.registryView.snapshot.gateways.get('gw-c')).toMatchObject({ institution: 'inst-c' });
      const gws = (await call(admin, 'GET', '/api/admin/gateways?institution=inst-c')).json().gateways;
      expect(gws).toEqual([expect.objectContaining({ id: 'gw-c', hasCredentials: true })]);
      expect(JSON.stringify(gws)).not.toContain(rotated.json().secret);
      expect((await call(admin, 'POST', '/api/admin/gateways/gw-c/enabled', { enabled: false })).json().enabled).toBe(
        false,
      );
      expect((await call(admin, 'POST', '/api/admin/gateways/gw-none/rotate')).statusCode).toBe(404);
      const dev = {
        kind: 'extinguisher',
        name: '灭火器',
        medium: 'dry_powder',
        location: { building: 'A', floor: '1F', room: '走廊' },
      };
      expect((await call(admin, 'PUT', '/api/admin/devices/gw-c/ext-9', dev)).json().result).toBe('created');
      expect((await call(admin, 'PUT', '/api/admin/devices/gw-c/ext-9', { ...dev, kind: 'fire' })).statusCode).toBe(
        400,
      );
      expect((await call(admin, 'GET', '/api/admin/devices?institution=inst-c')).json().devices).toHaveLength(1);
      expect((await call(admin, 'DELETE', '/api/admin/devices/gw-c/ext-9')).json().deleted).toBe(true);
      expect((await call(admin, 'DELETE', '/api/admin/devices/gw-c/ext-9')).statusCode).toBe(404);
      const contacts = { contacts: [{ id: 'mgr', name: '李四', role: 'manager', phone: '13800138001' }] };
      expect((await call(admin, 'PUT', '/api/admin/institutions/inst-c/contacts', contacts)).json().contacts).toBe(1);
      expect((await call(admin, 'GET', '/api/admin/institutions/inst-c/contacts')).json().contacts[0].name).toBe(
        '李四',
      );
      expect(
        (
          await call(admin, 'PUT', '/api/admin/institutions/inst-c/contacts', {
            contacts: [{ id: 'x', name: 'x', role: 'manager', phone: '123' }],
          })
        ).statusCode,
      ).toBe(400);
    });

    it('answers invalid requests with one issue per field, for the forms to show beside it', async () => {
      const bad = await call(admin, 'PUT', '/api/admin/institutions/inst-a', {
        name: '',
        address: '测试路1号',
        location: { lng: 108.7, lat: 95 },
        beds: -1,
      });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ code: 'ANL_DASH_BAD_REQUEST', message: expect.stringContaining('/beds') });
      expect(bad.json().issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ in: 'body', path: '/name', code: 'too_small', origin: 'string', minimum: 1 }),
          expect.objectContaining({ in: 'body', path: '/location/lat', code: 'too_big', maximum: 90 }),
          expect.objectContaining({ in: 'body', path: '/beds', code: 'too_small', origin: 'number', minimum: 0 }),
        ]),
      );
      const badId = await call(admin, 'PUT', '/api/admin/devices/gw-a/bad%20id', {
        kind: 'fire',
        name: '感烟',
        location: { building: '主楼', floor: '1F', room: '101' },
      });
      expect(badId.json().issues).toEqual([
        expect.objectContaining({ in: 'params', path: '/device', code: 'invalid_format' }),
      ]);
      // alerting's own rules of a policy, at the level that breaks them.
      const policy = await call(admin, 'PUT', '/api/institutions/inst-a/escalation-policy', {
        levels: [
          { afterS: 0, roles: ['manager'] },
          { afterS: 300, roles: ['deputy'] },
          { afterS: 120, roles: ['duty_officer'] },
        ],
        repeatEveryS: 10,
      });
      expect(policy.statusCode).toBe(400);
      expect(policy.json().issues).toEqual([
        expect.objectContaining({ path: '/levels/2/afterS', code: 'custom' }),
        expect.objectContaining({ path: '/repeatEveryS', code: 'custom' }),
      ]);
      // Nothing was changed by any of them.
      expect((await call(admin, 'GET', '/api/institutions')).json().institutions[0]).toMatchObject({ beds: 50 });
    });

    it('refuses duplicate contact ids with a 400 at the second one, keeping the contacts as they were', async () => {
      const res = await call(admin, 'PUT', '/api/admin/institutions/inst-b/contacts', {
        contacts: [
          { id: 'duty', name: '王五', role: 'duty_officer', phone: '13800138002' },
          { id: 'duty', name: '赵六', role: 'duty_officer', phone: '13800138003' },
        ],
      });
      expect(res.statusCode).toBe(400);
      expect(res.json().issues).toEqual([expect.objectContaining({ path: '/contacts/1/id', code: 'custom' })]);
      expect((await call(admin, 'GET', '/api/admin/institutions/inst-b/contacts')).json().contacts).toEqual([
        { id: 'mgr', name: '张三', role: 'manager', phone: '13800138000' },
      ]);
    });

    it('exports the registry as Excel and CSV and imports it back, reporting changes', async () => {
      const xlsx = await call(admin, 'GET', '/api/admin/registry/export?format=xlsx');
      expect(xlsx.statusCode).toBe(200);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
      const sheet = wb.getWorksheet('设备 devices');
      expect(sheet?.getRow(1).getCell(1).value).toBe('机构编号 institution_id');
      // A spreadsheet edit: rename a room, then import.
      sheet?.eachRow((row) => {
        if (row.getCell(9).value === 'kit-1' && row.getCell(1).value === 'inst-a') row.getCell(15).value = '新厨房';
      });
      const edited = Buffer.from(await wb.xlsx.writeBuffer());
      const imported = await h.dashboard.app.inject({
        method: 'POST',
        url: '/api/admin/registry/import',
        headers: { cookie: admin, 'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
        payload: edited,
      });
      expect(imported.statusCode).toBe(200);
      expect(imported.json().summary.devices.updated).toBe(1);
      expect(h.dashboard.registryView.snapshot.devices.get('gw-a/kit-1')?.location.room).toBe('新厨房');

      const csv = await call(admin, 'GET', '/api/admin/registry/export?format=csv');
      expect(csv.body.charCodeAt(0)).toBe(0xfeff);
      const again = await h.dashboard.app.inject({
        method: 'POST',
        url: '/api/admin/registry/import',
        headers: { cookie: admin, 'content-type': 'text/csv' },
        payload: csv.body,
      });
      expect(again.statusCode).toBe(200);
      expect(again.json().summary.devices.updated).toBe(0);
      const broken = await h.dashboard.app.inject({
        method: 'POST',
        url: '/api/admin/registry/import',
        headers: { cookie: admin, 'content-type': 'text/csv' },
        payload: csv.body.replace('kitchen', 'toaster'),
      });
      expect(broken.statusCode).toBe(400);
      expect(broken.json().code).toBe('ANL_DASH_IMPORT_INVALID');
      // Each problem on its own, for the page to list.
      expect(broken.json().issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ in: 'file', path: '', message: expect.stringContaining('kind') }),
        ]),
      );
    });
  });

  it('publishes an OpenAPI document covering the routes', async () => {
    const doc = (await call(undefined, 'GET', '/api/openapi.json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of [
      '/api/auth/login',
      '/api/alerts/{id}/verify',
      '/api/institutions/{id}/history',
      '/api/admin/registry/import',
      '/api/drills/{id}/report',
    ]) {
      expect(doc.paths).toHaveProperty([path]);
    }
  });
});
