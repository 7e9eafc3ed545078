import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchBrowser, signIn } from './browser.js';
import { DEVICE_PROBES, tones } from './browser-probes.js';
import { fireEvent, type Harness, startHarness } from './dashboard-harness.js';
import { ensureWebBuilt } from './web-build.js';

/**
 * The wall screen keeping a fire in view (Debian chromium through playwright-core, on the
 * dashboard harness): the idle rotation stays on the institution with a fire alarm; a lost
 * connection covers the wall with the time of its last update until the socket is back; the
 * alarm's mute and volume persist in the browser. Screenshots: dashboard/test-artifacts/wall-*.png.
 */
describe('wall screen: attention', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let ctx: BrowserContext;
  let wall: Page;

  /**
   * The dashboard's socket.io server going away and coming back: its engine drops every client
   * and refuses new handshakes (HTTP 403) until `up`; the wall's socket.io client reconnects with
   * its usual back-off (1 s doubling, at most 5 s).
   */
  interface EngineInternals {
    opts: { allowRequest?: (req: unknown, cb: (err: string | null | undefined, ok: boolean) => void) => void };
    clients: Record<string, { close(): void }>;
  }
  const engine = () => h.dashboard.io.engine as unknown as EngineInternals;
  const linkDown = () => {
    engine().opts.allowRequest = (_req, cb) => cb('the dashboard is away', false);
    for (const client of Object.values(engine().clients)) client.close();
  };
  const linkUp = () => {
    delete engine().opts.allowRequest;
  };

  beforeAll(async () => {
    const webRoot = await ensureWebBuilt();
    h = await startHarness({ deps: { webRoot, flushMs: 100, statsMs: 500 } });
    base = await h.dashboard.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
    ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
    await ctx.addInitScript(DEVICE_PROBES);
    wall = await ctx.newPage();
    await signIn(wall, base, 'operator', h.demo.operator.password);
    await wall.getByTestId('stat-institutions').waitFor();
  });
  afterAll(async () => {
    await ctx?.close();
    await browser?.close();
    await h?.close();
  });

  const spotlight = () => wall.getByTestId('spotlight');

  it('covers the wall with the time of its last update while the connection is lost', async () => {
    expect(await wall.getByTestId('offline-overlay').count()).toBe(0);
    const before = Date.now();
    const overlay = wall.getByTestId('offline-overlay');
    try {
      linkDown();
      await overlay.waitFor({ timeout: 5000 });
      expect(await overlay.textContent()).toMatch(
        /与监测中心的连接已中断画面最后更新于 \d\d\/\d\d \d\d:\d\d:\d\d正在重新连接/,
      );
      // The picture is from just before the drop (the figures arrive every half second here).
      const clock = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(11, 19);
      const shown = (await overlay.locator('time').textContent())?.slice(-8);
      expect(shown).toBeOneOf([clock(before), clock(before - 1000)]);
      await wall.screenshot({ path: `${ARTIFACTS}wall-offline.png` });
    } finally {
      linkUp();
    }
    // socket.io's reconnection backs off up to 5 s.
    await overlay.waitFor({ state: 'detached', timeout: 15_000 });
  });

  it('mutes and sets the alarm volume, and keeps both after a reload', async () => {
    h.ingest(fireEvent('inst-a', 'gw-a', 'smk-1'));
    await wall.getByTestId('fire-banner').waitFor();
    // Default volume: the level the wall always had (gain 0.08).
    await expect.poll(async () => (await tones(wall)).at(-1)?.gain).toBeCloseTo(0.08, 5);
    const volume = wall.locator('input[name=alarm-volume]');
    expect(await volume.inputValue()).toBe('50');
    await volume.focus();
    await wall.keyboard.press('End');
    expect(await volume.inputValue()).toBe('100');
    await expect.poll(async () => (await tones(wall)).at(-1)?.gain).toBeCloseTo(0.16, 5);

    await wall.getByTestId('sound-toggle').click();
    expect(await wall.getByTestId('muted-note').textContent()).toBe('报警声音已关闭');
    const heard = (await tones(wall)).length;
    await wall.waitForTimeout(2500);
    expect((await tones(wall)).length).toBe(heard);
    await wall.screenshot({ path: `${ARTIFACTS}wall-muted.png` });

    // A restarted kiosk comes back as its operators left it: muted, at full volume.
    await wall.reload();
    await wall.getByTestId('fire-banner').waitFor();
    expect(await wall.getByTestId('muted-note').count()).toBe(1);
    expect(await wall.locator('input[name=alarm-volume]').inputValue()).toBe('100');
    await wall.waitForTimeout(1500);
    expect(await tones(wall)).toEqual([]);
    await wall.getByTestId('sound-toggle').click();
    await expect.poll(async () => (await tones(wall)).at(-1)?.gain).toBeCloseTo(0.16, 5);
    expect(await wall.getByTestId('muted-note').count()).toBe(0);
  });

  // Last: it freezes the page's clock a minute ahead.
  it('keeps the idle rotation on the institution with a fire alarm', async () => {
    // A minute without input: the wall is idle and rotates every 10 s (timers run in real time).
    await wall.clock.setFixedTime(Date.now() + 61_000);
    await spotlight().waitFor({ timeout: 11_000 });
    // Over two more turns of the rotation it never leaves the fire for the calm institution.
    const seen = new Set<string | null>();
    for (let i = 0; i < 44; i++) {
      seen.add(await spotlight().getAttribute('data-institution', { timeout: 1000 }));
      await wall.waitForTimeout(500);
    }
    expect([...seen]).toEqual(['inst-a']);
    expect(await spotlight().textContent()).toContain('火警 · 主楼 1F 101 · ');
    await wall.screenshot({ path: `${ARTIFACTS}wall-idle-fire.png` });
  });
});
