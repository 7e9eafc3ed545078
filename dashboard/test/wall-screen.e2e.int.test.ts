import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { type RealCounty, startRealCounty } from './real-county.js';
import { ensureWebBuilt } from './web-build.js';

const DEMO_FILE = fileURLToPath(new URL('../../deploy/counties/youyang-demo.json', import.meta.url));
const INSTITUTION = 'yy-fuli-zhongxin';
const GATEWAY = 'gw-yy-fuli-zhongxin-1';
const DETECTOR = 'smk-1f-110';

/**
 * The whole path in a real browser (Debian chromium through playwright-core) on the real stack:
 * influxd, ingest with its embedded broker, alerting, the dashboard, and the device simulator
 * driving the demo county over MQTT. An operator signs in and sees the county; a detector goes
 * into alarm (published by its gateway); alerting raises the fire alarm; the wall shows the banner
 * and the red institution within 2 s; the institution's manager acknowledges, verifies and closes
 * it from a 360 px phone; the wall clears. Screenshots go to dashboard/test-artifacts/.
 */
describe('wall screen end to end', () => {
  let c: RealCounty;
  let base: string;
  let browser: Browser;

  beforeAll(async () => {
    const webRoot = await ensureWebBuilt();
    c = await startRealCounty({
      countyFile: DEMO_FILE,
      scriptedGateway: GATEWAY,
      webRoot,
      speed: 20,
      dashboard: { flushMs: 200, statsMs: 1000 },
    });
    base = c.base;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await c?.close();
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
    await wall.locator('input[name=password]').fill(c.demo.operator.password);
    await wall.getByRole('button', { name: '登录' }).click();
    await expect.poll(() => wall.getByTestId('stat-institutions').textContent(), { timeout: 15_000 }).toBe('26');
    await expect.poll(() => alarmIds(wall)).toBe('');
    // Electrical fire monitoring beside the other kinds: every circuit of the county, none over its limit.
    const electrical = wall.getByTestId('electrical-panel');
    expect(await electrical.locator('h3').textContent()).toBe('电气火灾监控');
    await expect.poll(() => electrical.locator('.big-line').textContent()).toMatch(/^0 \/ 116 回路超限$/);
    await expect.poll(() => electrical.locator('li').count(), { timeout: 15_000 }).toBe(3);
    expect(await electrical.locator('li b').first().textContent()).toMatch(/^\d+ mA · \d+\.\d °C$/);
    expect(await wall.locator('.by-kind li[data-kind=electrical]').textContent()).toBe('电气火灾监控0');
    // Let the map draw and the figures settle before the picture.
    await wall.waitForTimeout(1500);
    await wall.screenshot({ path: `${ARTIFACTS}wall-screen-normal.png` });

    // The detector in room 110 goes into alarm: its gateway publishes the event over MQTT.
    const t0 = Date.now();
    await c.gateway.event(DETECTOR, { kind: 'fire', event: 'fire', zone: '主楼 1F 110室' });
    await wall.getByTestId('fire-banner').waitFor({ state: 'visible', timeout: 2000 });
    await expect.poll(() => alarmIds(wall), { timeout: 2000, interval: 50 }).toBe(INSTITUTION);
    const shownInMs = Date.now() - t0;
    expect(shownInMs).toBeLessThan(2000);
    await expect.poll(() => wall.getByTestId('fire-banner').textContent()).toContain('酉阳县社会福利中心');
    // alerting's reason, in words for people (issue 13): what and where, no `fire/fire` code.
    expect(await wall.getByTestId('fire-banner').textContent()).toContain('火警：主楼 1F 110室');
    await wall.waitForTimeout(800);
    await wall.screenshot({ path: `${ARTIFACTS}wall-screen-fire.png` });

    // The institution view, as an operator drills in from the wall.
    const inst = await wallCtx.newPage();
    await inst.goto(`${base}/#/institution/${INSTITUTION}`);
    await inst.getByTestId('alert-card').first().waitFor();
    // Its circuits among the devices (residual current and cable temperature), and their history:
    // 3 in the main building (this gateway), 4 in the annex with the kitchen (the simulator's).
    await expect.poll(() => inst.locator('.chip:has(i.k-electrical)').count()).toBe(7);
    await expect
      .poll(() => inst.locator('.chip:has(i.k-electrical) small').first().textContent())
      .toMatch(/^\d+mA \d+\.\d°C$/);
    expect(await inst.getByTestId('history-residual-current').locator('h3').textContent()).toContain(
      '电气火灾监控 · 剩余电流',
    );
    expect(await inst.getByTestId('history-cable-temperature').locator('h3').textContent()).toContain('线缆温度');
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
    await phone.locator('input[name=password]').fill(c.demo.managers[0]?.password ?? '');
    await phone.getByRole('button', { name: '登录' }).click();
    const card = phone.getByTestId('alert-card').first();
    await card.waitFor();
    // alerting's name for the fire-alarm rule.
    expect(await card.textContent()).toContain('火灾报警');
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
    // The figures follow within a stats period (alerting's summary is re-read after each change).
    await expect.poll(() => wall.getByTestId('stat-open').textContent(), { timeout: 5000 }).toBe('0');
    // Let the charts finish animating the latest values before the picture.
    await wall.waitForTimeout(800);
    await wall.screenshot({ path: `${ARTIFACTS}wall-screen-cleared.png` });

    // The lighting circuit leaks 336 mA, over GB 50116's 300 mA: alerting raises it, the wall counts
    // it under 电气火灾监控 and puts the circuit on top of the panel in red — a warning, not a fire.
    await c.gateway.telemetry('elec-1f-light', { kind: 'electrical', residualCurrent: 336, cableTemperature: 38.5 });
    await expect
      .poll(() => wall.locator('.by-kind li[data-kind=electrical]').textContent(), { timeout: 5000 })
      .toBe('电气火灾监控1');
    await expect.poll(() => electrical.locator('.big-line b').textContent(), { timeout: 5000 }).toBe('1');
    const top = electrical.locator('li').first();
    expect(await top.getAttribute('data-level')).toBe('alarm');
    expect(await top.textContent()).toContain('社会福利中心 · 照明回路336 mA · 38.5 °C');
    expect(await top.locator('b').getAttribute('class')).toBe('status-alarm');
    await expect.poll(() => wall.getByTestId('alarm-list').textContent()).toContain('剩余电流超限');
    expect(await wall.getByTestId('fire-banner').count()).toBe(0);
    await wall.waitForTimeout(800);
    await wall.screenshot({ path: `${ARTIFACTS}wall-screen-electrical.png` });
    // The same layout on a 4K wall.
    await wall.setViewportSize({ width: 3840, height: 2160 });
    await wall.waitForTimeout(1000);
    await wall.screenshot({ path: `${ARTIFACTS}wall-screen-4k.png` });
    // English on the toggle, times still on the county's clock.
    await wall.getByRole('button', { name: 'EN' }).click();
    await expect.poll(() => wall.locator('h1').textContent()).toContain('elder-care safety monitoring');

    // In alerting's store: the whole timeline, by the manager.
    const audit = await c.dashboard.app.inject({
      method: 'GET',
      url: `/api/alerts?institution=${INSTITUTION}&status=closed`,
      headers: { cookie: await adminCookie() },
    });
    const [closed] = audit.json().alerts;
    expect(closed).toMatchObject({
      rule: 'fire-alarm',
      device: DETECTOR,
      severity: 'critical',
      verdict: 'false_alarm',
      acknowledgedBy: INSTITUTION,
      verifiedBy: INSTITUTION,
      closedBy: INSTITUTION,
    });
    const detail = (await c.alerting.service.get(closed.id)).transitions.map((t) => `${t.to}:${t.actor}`);
    expect(detail).toEqual([
      'open:system',
      `acknowledged:${INSTITUTION}`,
      `verified:${INSTITUTION}`,
      `closed:${INSTITUTION}`,
    ]);
    await phoneCtx.close();
    await wallCtx.close();
  });

  async function adminCookie(): Promise<string> {
    const res = await c.dashboard.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username: 'admin', password: c.demo.admin.password },
    });
    return `anl_session=${res.cookies.find((c) => c.name === 'anl_session')?.value}`;
  }
});
