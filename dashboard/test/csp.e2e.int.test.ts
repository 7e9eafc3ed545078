import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../src/http/security-headers.js';
import { ARTIFACTS, launchBrowser, signIn } from './browser.js';
import { type Harness, startHarness, statusEvent } from './dashboard-harness.js';
import { ensureWebBuilt } from './web-build.js';

/**
 * The built web app under the dashboard's Content Security Policy, in Debian chromium: every view
 * renders (Vue, ECharts on canvas, socket.io over WebSocket, the service worker) and the browser
 * reports no violation. A policy that broke the app would show here, not on a county's wall.
 */
describe('the web app under the Content Security Policy', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    h = await startHarness({ supervision: true, deps: { webRoot: await ensureWebBuilt() } });
    base = await h.dashboard.listen({ host: '127.0.0.1', port: 0 });
    h.ingest(statusEvent('inst-a', 'gw-a', 'online'));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  /** A page that records every CSP violation it sees, from its first script on. */
  const watchedPage = async () => {
    const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
    await ctx.addInitScript(`
      window.__csp = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
    `);
    const consoleCsp: string[] = [];
    const page = await ctx.newPage();
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) consoleCsp.push(m.text());
    });
    const violations = async () => [...((await page.evaluate('window.__csp')) as string[]), ...consoleCsp];
    return { ctx, page, violations };
  };

  it('renders the wall screen: ECharts map, live figures, no violation', async () => {
    const { ctx, page, violations } = await watchedPage();
    const response = await page.goto(`${base}/#/wall?kiosk=${h.demo.kioskToken}`);
    expect(response?.headers()['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    // The map is an ECharts canvas; the figures come over socket.io.
    await page.getByTestId('county-map').locator('canvas').first().waitFor({ timeout: 20_000 });
    await expect.poll(() => page.getByTestId('stat-institutions').textContent(), { timeout: 15_000 }).toBe('2');
    await page.waitForTimeout(1000);
    await page.screenshot({ path: `${ARTIFACTS}csp-wall-screen.png` });
    expect(await violations()).toEqual([]);
    // The watch sees a violation when there is one: an image from another origin is refused.
    await page.evaluate(
      "document.body.appendChild(Object.assign(document.createElement('img'), { src: 'http://192.0.2.1/x.png' }))",
    );
    await expect.poll(violations).toContainEqual(expect.stringMatching(/^img-src http:\/\/192\.0\.2\.1/));
    // The service worker (the phone app's) registered under `worker-src 'self'`.
    expect(await page.evaluate('navigator.serviceWorker.getRegistrations().then((r) => r.length)')).toBe(1);
    await ctx.close();
  }, 120_000);

  it.each([
    ['manager', 'inst-a', () => h.demo.managers[0]?.password ?? ''],
    ['admin', 'admin', () => h.demo.admin.password],
  ])(
    'signs in and renders the %s view with no violation',
    async (view, user, password) => {
      const { ctx, page, violations } = await watchedPage();
      await signIn(page, base, user, password());
      // Signed in (the app leaves the login page) before going on: no race with its own redirect.
      await page.waitForURL((u) => u.hash !== '' && !u.hash.startsWith('#/login'));
      await page.goto(`${base}/#/${view}`);
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(800);
      await page.screenshot({ path: `${ARTIFACTS}csp-${view}.png` });
      await expect
        .poll(() => page.locator('#app').innerText())
        .toContain(view === 'admin' ? '县级管理' : '测试养老院A');
      expect(await violations()).toEqual([]);
      await ctx.close();
    },
    120_000,
  );

  it('renders every county staff page (history, institutions, reports, supervision) with no violation', async () => {
    const { ctx, page, violations } = await watchedPage();
    await signIn(page, base, 'admin', h.demo.admin.password);
    // Signed in (the app leaves the login page) before going on: no race with its own redirect.
    await page.waitForURL((u) => u.hash !== '' && !u.hash.startsWith('#/login'));
    for (const view of [
      'alerts',
      'institutions',
      'reports',
      'hazards',
      'grades',
      'file/inst-a',
      'institution/inst-a',
    ]) {
      await page.goto(`${base}/#/${view}`);
      await page.waitForLoadState('networkidle');
      await page.waitForTimeout(500);
      await page.screenshot({ path: `${ARTIFACTS}csp-${view.replace('/', '-')}.png` });
      expect((await page.locator('#app').innerText()).trim().length, view).toBeGreaterThan(0);
      expect(await violations(), view).toEqual([]);
    }
    await ctx.close();
  }, 180_000);
});
