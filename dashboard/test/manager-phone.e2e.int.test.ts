import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchBrowser, PHONE, signIn } from './browser.js';
import { DEVICE_PROBES, shownNotifications, tones, vibrations } from './browser-probes.js';
import { fireEvent, type Harness, startHarness } from './dashboard-harness.js';
import { ensureWebBuilt } from './web-build.js';

/**
 * The institution manager's phone (360 px, Debian chromium through playwright-core) on the
 * dashboard harness, with no push channel configured: a new fire alarm sounds, vibrates and shows
 * a system notification (through the PWA's service worker); the verdict must be chosen before a
 * verification is sent; the handling record stays on the phone after the alert is closed.
 * Screenshots go to dashboard/test-artifacts/manager-phone-*.png.
 */
describe('manager phone view', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let ctx: BrowserContext;
  let phone: Page;

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

  const shot = (name: string) => phone.screenshot({ path: `${ARTIFACTS}manager-phone-${name}.png` });

  it('rings, vibrates and notifies on a new fire alarm; verdict chosen by hand; the record stays after close', async () => {
    ctx = await browser.newContext({ ...PHONE, permissions: ['notifications'] });
    await ctx.addInitScript(DEVICE_PROBES);
    phone = await ctx.newPage();
    await signIn(phone, base, 'inst-a', h.demo.managers[0]?.password ?? '');
    await phone.getByTestId('all-clear').waitFor();
    // The PWA's worker is in control before the alarm (it shows the notification).
    expect(await phone.evaluate('navigator.serviceWorker.ready.then((r) => r.active.state)')).toBe('activated');
    expect(await tones(phone)).toEqual([]);

    // A detector in room 101 goes into alarm.
    h.ingest(fireEvent('inst-a', 'gw-a', 'smk-1'));
    const card = phone.getByTestId('alert-card').first();
    await card.waitFor();
    await expect.poll(() => vibrations(phone)).toEqual([[600, 200, 600, 200, 1200]]);
    await expect.poll(async () => (await tones(phone)).length).toBeGreaterThan(0);
    await expect
      .poll(() => shownNotifications(phone))
      .toEqual([{ via: 'worker', title: '火警 · 测试养老院A', body: expect.stringContaining('主楼 1F 101') }]);
    // Nothing wider than the phone: no sideways scrolling.
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await shot('alarm');

    // Acknowledged: the sound stops, and the record says by whom.
    await card.getByTestId('ack').tap();
    await expect.poll(() => card.textContent()).toContain('已确认');
    const heard = (await tones(phone)).length;
    await phone.waitForTimeout(1500);
    expect((await tones(phone)).length).toBe(heard);
    await expect
      .poll(() => phone.getByTestId('alert-timeline').first().textContent())
      .toContain('确认测试养老院A负责人');

    // Verifying: no verdict is chosen for the manager; nothing is sent until one is.
    await card.getByRole('button', { name: '核实' }).tap();
    const verdict = card.locator('select[name=verdict]');
    expect(await verdict.inputValue()).toBe('');
    const submit = card.getByRole('button', { name: '提交' });
    expect(await submit.isDisabled()).toBe(true);
    await shot('verify-empty');
    await verdict.selectOption('false_alarm');
    await card.locator('textarea[name=note]').fill('厨房油烟误报，已通风');
    expect(await submit.isDisabled()).toBe(false);
    await submit.tap();
    await expect.poll(() => card.textContent()).toContain('已核实');

    await card.getByRole('button', { name: '关闭' }).tap();
    await card.locator('textarea[name=note]').fill('已处置');
    await card.getByRole('button', { name: '提交' }).tap();
    await phone.getByTestId('all-clear').waitFor();

    // The alert is closed; its handling record stays: who, what it was, the notes, with times.
    const [closed] = (await h.alerts.list({ status: ['closed'] })).alerts;
    const done = phone.getByTestId('handled').locator(`[data-alert="${closed?.id}"]`);
    await done.waitFor();
    const steps = await done.locator('li').allTextContents();
    expect(steps).toHaveLength(4);
    expect(steps[0]).toMatch(/^\d\d\/\d\d \d\d:\d\d:\d\d报警$/);
    expect(steps[1]).toMatch(/确认测试养老院A负责人$/);
    expect(steps[2]).toMatch(/核实：误报测试养老院A负责人厨房油烟误报，已通风$/);
    expect(steps[3]).toMatch(/关闭测试养老院A负责人已处置$/);
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await shot('handled');

    // The institution's alert history, from the footer: on the phone too, nothing wider than it.
    await phone.getByRole('link', { name: '告警记录' }).tap();
    await phone.locator(`[data-testid=history-row][data-alert="${closed?.id}"]`).waitFor();
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await shot('history');
  });
});
