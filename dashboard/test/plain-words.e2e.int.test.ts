import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchBrowser, PHONE, signIn } from './browser.js';
import { fireEvent, type Harness, startHarness, statusEvent } from './dashboard-harness.js';
import { ensureWebBuilt } from './web-build.js';

/**
 * What people read carries no internal codes: `ANL_…` error codes, snake_case action or verdict
 * codes (`login_failed`), `kind/event` pairs (`fire/fire`), bracketed codes (`（will）`).
 */
const CODE = /ANL_[A-Z_]+|\b[a-z]+(?:_[a-z]+)+\b|\b[a-z]+\/[a-z_]+\b|（[a-z-]+）/;
const text = (page: Page) => page.locator('body').innerText();

/**
 * Plain words on every screen, in Chinese and in English (Debian chromium through playwright-core
 * on the dashboard harness): sign-in errors, an alert action refused by the server, the audit
 * log, the wall's ticker; and actions that cannot succeed (closing an unverified fire alarm) are
 * not offered. Screenshots: dashboard/test-artifacts/plain-*.png.
 */
describe('plain words', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let ctx: BrowserContext;

  beforeAll(async () => {
    const webRoot = await ensureWebBuilt();
    h = await startHarness({ deps: { webRoot, flushMs: 100, statsMs: 500 } });
    base = await h.dashboard.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await ctx?.close();
    await browser?.close();
    await h?.close();
  });

  it('says why a sign-in failed in words, in Chinese and in English', async () => {
    ctx = await browser.newContext({ ...PHONE });
    const page = await ctx.newPage();
    await signIn(page, base, 'inst-a', 'not-the-password');
    const error = page.getByRole('alert');
    await expect.poll(() => error.textContent()).toBe('用户名或密码错误');
    await page.getByRole('button', { name: 'English' }).click();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => error.textContent()).toBe('Wrong username or password');
    expect(await text(page)).not.toMatch(CODE);
    await page.getByRole('button', { name: '中文' }).click();
    await ctx.close();
  });

  it('offers closing a fire alarm only once verified, and words a refused action plainly', async () => {
    ctx = await browser.newContext({ ...PHONE });
    const phone = await ctx.newPage();
    await signIn(phone, base, 'inst-a', h.demo.managers[0]?.password ?? '');
    await phone.getByTestId('all-clear').waitFor();
    h.ingest(fireEvent('inst-a', 'gw-a', 'smk-1'));
    const card = phone.getByTestId('alert-card').first();
    await card.waitFor();
    // Open: acknowledge and verify, no close (alerting refuses it until a person verified it).
    expect(await card.getByRole('button').allTextContents()).toEqual(['确认', '核实']);
    expect(await card.getByTestId('close-hint').textContent()).toBe('核实后才能关闭');

    // The county's operator acknowledges it first; the manager's tap then fails: in words.
    const [alert] = (await h.alerts.list({ status: ['open'] })).alerts;
    await phone.route('**/acknowledge', async (route) => {
      await h.alerts.acknowledge(alert?.id ?? '', 'operator');
      await route.continue();
    });
    await card.getByTestId('ack').tap();
    const error = card.getByRole('alert');
    await expect.poll(() => error.textContent()).toBe('这条告警的状态已经变化（可能已有他人处理），请查看最新状态');
    expect(await text(phone)).not.toMatch(CODE);
    await phone.screenshot({ path: `${ARTIFACTS}plain-refused-action.png` });
    await phone.getByRole('button', { name: 'EN' }).click();
    await expect.poll(() => card.getByRole('button').allTextContents()).toEqual(['Verify']);
    expect(await card.getByTestId('close-hint').textContent()).toBe('Verify it before closing');
    expect(await text(phone)).not.toMatch(CODE);
    await phone.getByRole('button', { name: '中文' }).click();

    // Verified: now it may be closed.
    await card.getByRole('button', { name: '核实' }).tap();
    await card.locator('select[name=verdict]').selectOption('test');
    await card.getByRole('button', { name: '提交' }).tap();
    await expect.poll(() => card.getByRole('button').allTextContents()).toEqual(['关闭']);
    expect(await card.getByTestId('close-hint').count()).toBe(0);
    await ctx.close();
  });

  it('shows the audit log and the wall in words, not codes', async () => {
    // A failed sign-in and a gateway going offline: the audit log's and the ticker's news.
    await h.dashboard.app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'x', password: 'y' } });
    h.ingest(statusEvent('inst-b', 'gw-b', 'offline'));
    ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
    const page = await ctx.newPage();
    await signIn(page, base, 'admin', h.demo.admin.password);
    await page.getByTestId('wall').waitFor();
    await expect.poll(() => page.locator('.ticker').innerText()).toContain('测试养老院B 网关离线');
    await page.waitForTimeout(500);
    expect(await text(page)).not.toMatch(CODE);
    await page.getByRole('button', { name: 'EN' }).click();
    await expect.poll(() => page.locator('.ticker').innerText()).toContain('测试养老院B gateway offline');
    expect(await page.locator('.ticker').innerText()).not.toContain('inst-');
    expect(await text(page)).not.toMatch(CODE);
    await page.getByRole('button', { name: '中文' }).click();

    await page.getByRole('button', { name: '管理' }).click();
    await page.locator('[data-tab=audit]').click();
    const failed = page.locator('td[data-action=login_failed]').first();
    await expect.poll(() => failed.textContent()).toBe('登录失败');
    expect(await page.locator('td[data-action="alert.verify"]').first().textContent()).toBe('核实告警');
    await page.screenshot({ path: `${ARTIFACTS}plain-audit-log.png` });
    expect((await text(page)).match(new RegExp(CODE.source, 'g'))).toEqual(null);
  });
});
