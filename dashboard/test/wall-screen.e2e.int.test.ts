import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCountyFile } from '@anlian/ingest';
import type { CountyConfig } from '@anlian/protocol';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fireEvent, type Harness, startHarness } from './dashboard-harness.js';
import { demoCountyEvents, fakeHistory } from './demo-county-feed.js';
import { ensureWebBuilt } from './web-build.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const DEMO_FILE = fileURLToPath(new URL('../../deploy/counties/youyang-demo.json', import.meta.url));
const INSTITUTION = 'yy-fuli-zhongxin';

/**
 * The whole path in a real browser (Debian chromium through playwright-core): an operator signs
 * in and sees the demo county; a fire alarm arrives; the wall shows the banner and the red
 * institution; the institution's manager acknowledges, verifies and closes it from a 360 px phone;
 * the wall clears. Screenshots of the three views go to dashboard/test-artifacts/.
 */
describe('wall screen end to end', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let county: CountyConfig;

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const webRoot = await ensureWebBuilt();
    county = await readCountyFile(DEMO_FILE);
    h = await startHarness({
      county,
      deps: {
        webRoot,
        queryInflux: async (q) => fakeHistory(q),
        flushMs: 200,
        statsMs: 1000,
      },
    });
    for (const e of demoCountyEvents(county)) h.ingest(e);
    base = await h.dashboard.listen({ host: '127.0.0.1', port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Root in CI containers has no user namespaces for the sandbox; kiosk screens play the alarm without a click.
      args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required', '--disable-gpu'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  const alarmIds = (page: Page) => page.getByTestId('county-map').getAttribute('data-alarm');

  it('signs in, shows the county, raises a fire alarm on the wall within 2 s, clears after the manager acts', async () => {
    const wallCtx = await browser.newContext({
      viewport: { width: 1920, height: 1080 },
      locale: 'zh-CN',
      timezoneId: 'Europe/Berlin',
    });
    const wall = await wallCtx.newPage();
    await wall.goto(`${base}/#/login`);
    await wall.locator('input[name=username]').fill('operator');
    await wall.locator('input[name=password]').fill(h.demo.operator.password);
    await wall.getByRole('button', { name: '登录' }).click();
    await expect.poll(() => wall.getByTestId('stat-institutions').textContent(), { timeout: 15_000 }).toBe('26');
    await expect.poll(() => alarmIds(wall)).toBe('');
    // Let the map draw and the figures settle before the picture.
    await wall.waitForTimeout(1500);
    await wall.screenshot({ path: `${ARTIFACTS}wall-screen-normal.png` });

    const t0 = Date.now();
    h.ingest(fireEvent(INSTITUTION, 'gw-yy-fuli-zhongxin-1', 'smk-1f-110', county.county.id));
    await wall.getByTestId('fire-banner').waitFor({ state: 'visible', timeout: 2000 });
    await expect.poll(() => alarmIds(wall), { timeout: 2000, interval: 50 }).toBe(INSTITUTION);
    const shownInMs = Date.now() - t0;
    expect(shownInMs).toBeLessThan(2000);
    await expect.poll(() => wall.getByTestId('fire-banner').textContent()).toContain('酉阳县社会福利中心');
    await wall.waitForTimeout(800);
    await wall.screenshot({ path: `${ARTIFACTS}wall-screen-fire.png` });

    // The institution view, as an operator drills in from the wall.
    const inst = await wallCtx.newPage();
    await inst.goto(`${base}/#/institution/${INSTITUTION}`);
    await inst.getByTestId('alert-card').first().waitFor();
    await inst.waitForTimeout(1500);
    await inst.screenshot({ path: `${ARTIFACTS}institution-view.png`, fullPage: true });

    // The manager, on a 360 px phone.
    const phoneCtx = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
    });
    const phone = await phoneCtx.newPage();
    await phone.goto(`${base}/#/login`);
    await phone.locator('input[name=username]').fill(INSTITUTION);
    await phone.locator('input[name=password]').fill(h.demo.managers[0]?.password ?? '');
    await phone.getByRole('button', { name: '登录' }).click();
    const card = phone.getByTestId('alert-card').first();
    await card.waitFor();
    expect(await card.textContent()).toContain('火警');
    expect(await phone.getByTestId('escalation').first().textContent()).toContain('升级中');
    // Nothing wider than the phone: no sideways scrolling.
    // A string, not a function: the tests' type-check has no DOM library.
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await phone.screenshot({ path: `${ARTIFACTS}manager-view-alarm.png` });
    await card.getByTestId('ack').tap();
    await expect.poll(() => card.textContent()).toContain('已确认');
    await wall.getByTestId('fire-banner').waitFor({ state: 'detached', timeout: 2000 });

    // Verify as a false alarm with a note, then close: the wall goes back to normal.
    await card.getByRole('button', { name: '核实' }).tap();
    await card.locator('select[name=verdict]').selectOption('false_alarm');
    await card.locator('textarea[name=note]').fill('厨房油烟误报，已通风');
    await card.getByRole('button', { name: '提交' }).tap();
    await expect.poll(() => card.textContent()).toContain('已核实');
    await phone.screenshot({ path: `${ARTIFACTS}manager-view-verified.png` });
    await card.getByRole('button', { name: '关闭' }).tap();
    await phone.locator('textarea[name=note]').fill('已处置');
    await phone.getByRole('button', { name: '提交' }).tap();
    await phone.getByTestId('all-clear').waitFor();
    await expect.poll(() => alarmIds(wall), { timeout: 2000 }).toBe('');
    await wall.screenshot({ path: `${ARTIFACTS}wall-screen-cleared.png` });
    // The same layout on a 4K wall.
    await wall.setViewportSize({ width: 3840, height: 2160 });
    await wall.waitForTimeout(1000);
    await wall.screenshot({ path: `${ARTIFACTS}wall-screen-4k.png` });
    // English on the toggle, times still on the county's clock.
    await wall.getByRole('button', { name: 'EN' }).click();
    await expect.poll(() => wall.locator('h1').textContent()).toContain('elder-care safety monitoring');

    const audit = await h.dashboard.app.inject({
      method: 'GET',
      url: `/api/alerts?institution=${INSTITUTION}&status=closed`,
      headers: { cookie: await adminCookie() },
    });
    expect(audit.json().alerts[0]).toMatchObject({ verdict: 'false_alarm', closedBy: INSTITUTION });
    await phoneCtx.close();
    await wallCtx.close();
  });

  async function adminCookie(): Promise<string> {
    const res = await h.dashboard.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: h.demo.admin.password },
    });
    return `anl_session=${res.cookies.find((c) => c.name === 'anl_session')?.value}`;
  }
});
