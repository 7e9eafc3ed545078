import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchBrowser, signIn } from './browser.js';
import { fireEvent, type Harness, startHarness } from './dashboard-harness.js';
import { ensureWebBuilt } from './web-build.js';

/** A day on the county's clock (UTC+8), as a date input holds it. */
const countyDay = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 10);

/**
 * The operator's pages in a real browser (Debian chromium through playwright-core) on the
 * dashboard harness: the alert history (filters by institution, kind, date and verdict; paging;
 * each alert's handling record) and the searchable list of institutions that leads to an
 * institution's view. Screenshots go to dashboard/test-artifacts/operator-*.png.
 */
describe('operator pages', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    const webRoot = await ensureWebBuilt();
    h = await startHarness({ deps: { webRoot, flushMs: 100, statsMs: 500 } });
    base = await h.dashboard.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();

    // Two handled fire alarms: a false alarm at A (by its manager), a real fire at B (by the operator).
    h.ingest(fireEvent('inst-a', 'gw-a', 'smk-1'));
    h.ingest(fireEvent('inst-b', 'gw-b', 'smk-1'));
    const [fireB, fireA] = (await h.alerts.list({ kind: 'fire' })).alerts;
    if (!fireA || !fireB) throw new Error('no fire alarms raised');
    await h.alerts.acknowledge(fireA.id, 'inst-a', '已到现场');
    await h.alerts.verify(fireA.id, 'inst-a', 'false_alarm', '厨房油烟误报');
    await h.alerts.close(fireA.id, 'inst-a', '已通风');
    await h.alerts.verify(fireB.id, 'operator', 'real_fire', '确认火情，已报119');
    // And 23 camera alerts over the last hours: 25 in all, two pages of 20.
    for (let n = 1; n <= 23; n++) {
      const x = n % 2 === 0 ? 'a' : 'b';
      h.alerts.raise({
        key: `camera-signal-loss:gw-${x}/cam-${n}`,
        rule: 'camera-signal-loss',
        severity: 'major',
        name: { zh: '视频信号丢失', en: 'Camera signal loss' },
        county: 'testcounty',
        institution: `inst-${x}`,
        gateway: `gw-${x}`,
        device: `cam-${n}`,
        deviceKind: 'camera',
        reason: `视频信号丢失：${n} 号摄像机`,
        at: Date.now() - n * 600_000,
      });
    }
  });
  afterAll(async () => {
    await ctx?.close();
    await browser?.close();
    await h?.close();
  });

  const rows = () => page.getByTestId('history-row');

  it('finds alerts by institution, kind, date and verdict, pages through them, and shows how each was handled', async () => {
    ctx = await browser.newContext({ viewport: { width: 1600, height: 1000 }, locale: 'zh-CN' });
    page = await ctx.newPage();
    await signIn(page, base, 'operator', h.demo.operator.password);
    await page.getByTestId('wall').waitFor();
    await page.getByRole('button', { name: '告警记录' }).click();
    await page.getByTestId('alert-history').waitFor();

    // Newest first, 20 a page.
    await expect.poll(() => rows().count()).toBe(20);
    expect(await page.getByTestId('page').textContent()).toBe('第 1 页');
    await page.getByRole('button', { name: '下一页' }).click();
    await expect.poll(() => rows().count()).toBe(5);
    expect(await page.getByTestId('page').textContent()).toBe('第 2 页');
    expect(await page.getByRole('button', { name: '下一页' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: '上一页' }).click();
    await expect.poll(() => rows().count()).toBe(20);

    // The false alarm, and how it was handled.
    await page.locator('select[name=verdict]').selectOption('false_alarm');
    await expect.poll(() => rows().count()).toBe(1);
    const row = rows().first();
    expect(await row.textContent()).toContain('测试养老院A');
    expect(await row.textContent()).toContain('误报');
    await row.getByTestId('show-record').click();
    const record = page.getByTestId('alert-timeline');
    await expect.poll(() => record.textContent()).toContain('核实：误报测试养老院A负责人厨房油烟误报');
    expect(await record.textContent()).toContain('确认测试养老院A负责人已到现场');
    expect(await record.textContent()).toContain('关闭测试养老院A负责人已通风');
    await page.screenshot({ path: `${ARTIFACTS}operator-alert-history.png` });

    // B's fire alarms: the real fire, verified by the county's operator.
    await page.locator('select[name=verdict]').selectOption('');
    await page.locator('select[name=institution]').selectOption('inst-b');
    await page.locator('select[name=kind]').selectOption('fire');
    await expect.poll(() => rows().count()).toBe(1);
    expect(await rows().first().textContent()).toContain('真实火情');
    await rows().first().getByTestId('show-record').click();
    await expect.poll(() => page.getByTestId('alert-timeline').textContent()).toContain('核实：真实火情监管中心值班员');

    // Dates on the county's clock: nothing opened tomorrow; B's fire alarm today.
    await page.locator('input[name=from]').fill(countyDay(Date.now() + 86_400_000));
    await page.getByText('没有符合条件的告警').waitFor();
    await page.locator('input[name=from]').fill(countyDay(Date.now()));
    await page.locator('input[name=to]').fill(countyDay(Date.now()));
    await expect.poll(() => rows().count()).toBe(1);
    await page.locator('select[name=kind]').selectOption('camera');
    await expect.poll(() => rows().count()).toBeGreaterThan(0);
    await page.screenshot({ path: `${ARTIFACTS}operator-alert-history-filtered.png` });
  });

  it('finds an institution by name, town or address and opens its view', async () => {
    await page.getByRole('button', { name: '返回' }).click();
    await page.getByTestId('wall').waitFor();
    await page.getByRole('button', { name: '机构列表' }).click();
    const list = page.getByTestId('institution-row');
    await expect.poll(() => list.count()).toBe(2);
    // Worst first: B has a real fire standing.
    expect(await list.first().getAttribute('data-institution')).toBe('inst-b');
    expect(await list.first().textContent()).toContain('火警/报警');
    await page.screenshot({ path: `${ARTIFACTS}operator-institutions.png` });

    const search = page.locator('input[name=search]');
    await search.fill('养老院A');
    await expect.poll(() => list.count()).toBe(1);
    await search.fill('测试路2');
    await expect
      .poll(async () => (await list.count()) === 1 && (await list.first().getAttribute('data-institution')))
      .toBe('inst-b');
    await search.fill('inst-');
    await expect.poll(() => list.count()).toBe(2);
    await search.fill('没有这个机构');
    await page.getByText('没有符合条件的机构').waitFor();
    await search.fill('养老院A');
    await expect.poll(() => list.count()).toBe(1);
    await list.first().getByRole('link', { name: '进入 →' }).click();
    await page.waitForURL(/#\/institution\/inst-a$/);
    await page.getByTestId('institution').waitFor();
    expect(await page.locator('h1').textContent()).toBe('测试养老院A');
  });

  it('starts a duty check (查岗) from the institution view and shows its outcome when the room answers', async () => {
    const panel = page.getByTestId('duty-checks');
    await panel.getByText('暂无查岗记录').waitFor();
    const button = page.getByTestId('duty-check-start');
    await button.click();
    await panel.getByText('已向消防控制室发出查岗，请等待应答').waitFor();
    const row = panel.locator('tr[data-status]');
    await expect.poll(() => row.first().getAttribute('data-status')).toBe('pending');
    expect(await row.first().textContent()).toContain('等待应答（10 分钟内）');
    // One check at a time: the button waits for the answer.
    expect(await button.isDisabled()).toBe(true);

    const [check] = await h.alerts.listDutyChecks({ institution: 'inst-a' });
    expect(check).toMatchObject({ status: 'pending', requestedBy: 'operator' });
    h.alerts.settleDutyCheck(check?.id ?? '', { status: 'answered', operator: 7 });
    await expect.poll(() => row.first().getAttribute('data-status'), { timeout: 10_000 }).toBe('answered');
    expect(await row.first().textContent()).toContain('已应答 · 值班员 7');
    expect(await button.isDisabled()).toBe(false);
    // The "waiting" note goes with the wait.
    expect(await panel.getByText('请等待应答').count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}operator-duty-check.png` });
  });
});
