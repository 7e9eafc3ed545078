import { io as connect, type Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../src/http/security-headers.js';
import { loadDashboardConfig } from '../src/index.js';
import { type Harness, login, startHarness } from './dashboard-harness.js';

const auditOf = async (h: Harness, admin: string, action: string) => {
  const res = await h.dashboard.app.inject({ url: '/api/admin/audit?limit=1000', headers: { cookie: admin } });
  return (res.json().entries as { action: string; ip: string | null; actor: string }[]).filter(
    (e) => e.action === action,
  );
};

describe('dashboard security: client addresses', () => {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('does not believe X-Forwarded-For by default: the lockout holds and the audit log has the peer', async () => {
    h = await startHarness();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await h.dashboard.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        remoteAddress: '203.0.113.5',
        // A new forged address every time: with the header believed, each would be a new client.
        headers: { 'x-forwarded-for': `10.9.8.${i}` },
        payload: { username: 'admin', password: `guess-${i}` },
      });
      statuses.push(res.statusCode);
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    const admin = await login(h, 'admin', h.demo.admin.password);
    const failed = await auditOf(h, admin, 'login_failed');
    expect(failed).toHaveLength(10);
    expect(new Set(failed.map((e) => e.ip))).toEqual(new Set(['203.0.113.5']));
  });

  it('believes X-Forwarded-For from the configured proxies only', async () => {
    h = await startHarness({ deps: { trustProxy: ['127.0.0.1', '10.0.0.0/8'] } });
    const kiosk = async (remoteAddress: string, xff: string) =>
      h.dashboard.app.inject({
        method: 'POST',
        url: '/api/auth/kiosk',
        remoteAddress,
        headers: { 'x-forwarded-for': xff },
        payload: { token: h.demo.kioskToken },
      });
    expect((await kiosk('127.0.0.1', '198.51.100.7')).statusCode).toBe(200);
    expect((await kiosk('10.1.2.3', '198.51.100.8')).statusCode).toBe(200);
    expect((await kiosk('203.0.113.9', '198.51.100.9')).statusCode).toBe(200);
    const admin = await login(h, 'admin', h.demo.admin.password);
    const ips = (await auditOf(h, admin, 'kiosk_login')).map((e) => e.ip).sort();
    expect(ips).toEqual(['198.51.100.7', '198.51.100.8', '203.0.113.9']);
  });

  it('reads the trusted proxies from ANLIAN_DASHBOARD_TRUST_PROXY, none by default', () => {
    expect(loadDashboardConfig({}).ANLIAN_DASHBOARD_TRUST_PROXY).toEqual([]);
    expect(
      loadDashboardConfig({ ANLIAN_DASHBOARD_TRUST_PROXY: '10.0.0.1, 192.168.0.0/16,::1' })
        .ANLIAN_DASHBOARD_TRUST_PROXY,
    ).toEqual(['10.0.0.1', '192.168.0.0/16', '::1']);
    expect(() => loadDashboardConfig({ ANLIAN_DASHBOARD_TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() => loadDashboardConfig({ ANLIAN_DASHBOARD_TRUST_PROXY: '10.0.0.0/33' })).toThrow(/TRUST_PROXY/);
  });
});

describe('dashboard security: responses', () => {
  let h: Harness;
  beforeAll(async () => {
    // With supervision, so that its routes are in the sweep of anonymous requests.
    h = await startHarness({ supervision: true });
  });
  afterAll(() => h?.close());

  it('carries security headers on pages, API answers and errors', async () => {
    const operator = await login(h, 'operator', h.demo.operator.password);
    const answers = [
      await h.dashboard.app.inject({ url: '/api/county', headers: { cookie: operator } }),
      await h.dashboard.app.inject({ url: '/api/county' }),
      await h.dashboard.app.inject({ url: '/healthz' }),
      await h.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: {} }),
    ];
    expect(answers.map((r) => r.statusCode)).toEqual([200, 401, 200, 400]);
    for (const r of answers) {
      expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('no-referrer');
      expect(r.headers['x-frame-options']).toBe('DENY');
    }
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval/);
  });

  it('answers every anonymous API request 401 before looking at its body, query or parameters', async () => {
    const spec = (await h.dashboard.app.inject({ url: '/api/openapi.json' })).json() as {
      paths: Record<string, Record<string, unknown>>;
    };
    const anonymous = new Set(['POST /api/auth/login', 'POST /api/auth/kiosk', 'POST /api/auth/logout']);
    const checked: string[] = [];
    for (const [path, methods] of Object.entries(spec.paths)) {
      // /healthz, /readyz and /metrics are for load balancers and Prometheus, outside /api.
      if (!path.startsWith('/api/')) continue;
      for (const method of Object.keys(methods)) {
        const route = `${method.toUpperCase()} ${path}`;
        if (anonymous.has(route)) continue;
        // Parameters that fail their schema, a query that fails it, a body that is not even JSON.
        const url = `${path.replace(/\{[^}]+\}/g, 'not a valid id')}?limit=-1&from=x`;
        const res = await h.dashboard.app.inject({
          method: method.toUpperCase() as 'GET',
          url,
          headers: { 'content-type': 'application/json' },
          ...(method === 'get' || method === 'delete' ? {} : { payload: '{"not json' }),
        });
        expect(res.statusCode, `${route}: ${res.body}`).toBe(401);
        expect(res.json().code, route).toBe('ANL_DASH_UNAUTHENTICATED');
        checked.push(route);
      }
    }
    expect(checked.length).toBeGreaterThan(30);
  });
});

describe('dashboard security: ending sessions ends live connections', () => {
  let h: Harness;
  let url: string;
  let admin: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    h = await startHarness();
    url = await h.dashboard.listen({ host: '127.0.0.1', port: 0 });
    admin = await login(h, 'admin', h.demo.admin.password);
  });
  afterEach(() => {
    for (const s of sockets.splice(0)) s.disconnect();
  });
  afterAll(() => h?.close());

  /** A live connection, and how it ended: `disconnect` with the server's reason, then refused reconnects. */
  const open = async (cookie: string) => {
    const s = connect(url, {
      transports: ['websocket'],
      reconnectionDelay: 50,
      reconnectionDelayMax: 100,
      extraHeaders: { cookie },
    });
    sockets.push(s);
    const ended: string[] = [];
    s.on('disconnect', (reason) => ended.push(reason));
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    return { socket: s, ended };
  };
  const cut = async (live: { socket: Socket; ended: string[] }) => {
    await vi.waitFor(() => expect(live.ended).toEqual(['io server disconnect']), { timeout: 5000 });
    // The session is gone: it does not come back.
    await new Promise((r) => setTimeout(r, 300));
    expect(live.socket.connected).toBe(false);
  };
  const createUser = async (username: string) => {
    const res = await h.dashboard.app.inject({
      method: 'POST',
      url: '/api/admin/users',
      headers: { cookie: admin },
      payload: { username, displayName: username, password: 'a-long-password-1', role: 'county_operator' },
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().id as string;
  };
  const patchUser = (id: string, payload: Record<string, unknown>) =>
    h.dashboard.app.inject({ method: 'PATCH', url: `/api/admin/users/${id}`, headers: { cookie: admin }, payload });

  it('signing out ends that session’s live connection, and no other', async () => {
    const first = await login(h, 'operator', h.demo.operator.password);
    const second = await login(h, 'operator', h.demo.operator.password);
    const a = await open(first);
    const b = await open(second);
    const res = await h.dashboard.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie: first } });
    expect(res.statusCode).toBe(200);
    await cut(a);
    expect(b.socket.connected).toBe(true);
    expect(b.ended).toEqual([]);
  });

  it('a password change and disabling a user end all of that user’s live connections', async () => {
    const id = await createUser('op-two');
    const bystander = await open(await login(h, 'operator', h.demo.operator.password));
    const live = await open(await login(h, 'op-two', 'a-long-password-1'));
    expect((await patchUser(id, { password: 'another-long-password-2' })).statusCode).toBe(200);
    await cut(live);
    const again = await open(await login(h, 'op-two', 'another-long-password-2'));
    expect((await patchUser(id, { disabled: true })).statusCode).toBe(200);
    await cut(again);
    expect(bystander.socket.connected).toBe(true);
  });

  it('revoking a kiosk token ends the wall screens signed in with it', async () => {
    const res = await h.dashboard.app.inject({
      method: 'POST',
      url: '/api/admin/kiosk-tokens',
      headers: { cookie: admin },
      payload: { name: '大厅大屏' },
    });
    const { token, record } = res.json() as { token: string; record: { id: string } };
    const signIn = await h.dashboard.app.inject({ method: 'POST', url: '/api/auth/kiosk', payload: { token } });
    const cookie = `${signIn.cookies[0]?.name}=${signIn.cookies[0]?.value}`;
    const wall = await open(cookie);
    const revoke = await h.dashboard.app.inject({
      method: 'POST',
      url: `/api/admin/kiosk-tokens/${record.id}/revoke`,
      headers: { cookie: admin },
    });
    expect(revoke.statusCode).toBe(200);
    await cut(wall);
  });
});
