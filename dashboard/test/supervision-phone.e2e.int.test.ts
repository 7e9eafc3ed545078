import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { type Harness, login, startHarness } from './dashboard-harness.js';
import { ensureWebBuilt } from './web-build.js';

const run = promisify(execFile);
const HOUR = 3_600_000;
const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  locale: 'zh-CN',
};

/** A camera-sized photo (ffmpeg's test card, 2592 × 1944 JPEG), as a phone would take it. */
async function cameraPhoto(dir: string): Promise<Buffer> {
  const out = join(dir, 'photo.jpg');
  await run('ffmpeg', [
    '-v',
    'error',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=2592x1944',
    '-frames:v',
    '1',
    '-q:v',
    '2',
    out,
  ]);
  return readFile(out);
}

/** Width and height from a JPEG's start-of-frame marker. */
function jpegSize(b: Buffer): { width: number; height: number } {
  let i = 2;
  while (i < b.length) {
    const marker = b[i + 1] ?? 0;
    const len = b.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc3) return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    i += 2 + len;
  }
  throw new Error('no SOF marker');
}

/**
 * The phone flows in a real browser (Debian chromium through playwright-core) on the dashboard
 * with supervision: a manager sees their hazards with the deadline counting down and a reminder
 * banner, starts the work and submits it with a photo from the phone's camera; an inspector fills
 * a checklist on site and opens a hazard from it; the county reviews on the desktop. Screenshots
 * go to dashboard/test-artifacts/ (supervision-*.png).
 */
describe('supervision phone flows end to end', () => {
  let h: Harness;
  let base: string;
  let browser: Browser;
  let dir: string;
  let photo: Buffer;
  let operator: string;
  let hazardA = '';
  let hazardB = '';
  const contexts: BrowserContext[] = [];

  const api = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await h.dashboard.app.inject({
      method,
      url,
      headers: { cookie: operator },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const signIn = async (username: string, password: string, device: object): Promise<Page> => {
    const ctx = await browser.newContext(device);
    contexts.push(ctx);
    const page = await ctx.newPage();
    await page.goto(`${base}/#/login`);
    await page.locator('input[name=username]').fill(username);
    await page.locator('input[name=password]').fill(password);
    await page.getByRole('button', { name: '登录' }).click();
    return page;
  };

  beforeAll(async () => {
    const webRoot = await ensureWebBuilt();
    h = await startHarness({ supervision: true, deps: { webRoot } });
    base = await h.dashboard.listen({ host: '127.0.0.1', port: 0 });
    browser = await launchBrowser();
    dir = await mkdtemp(join(tmpdir(), 'anlian-phone-'));
    photo = await cameraPhoto(dir);
    operator = await login(h, 'operator', h.demo.operator.password);
    // The county found two hazards: one at A due in 20 hours (the reminder is due), one at B.
    hazardA = (
      await api('POST', '/api/hazards', {
        institution: 'inst-a',
        category: 'fire_facilities',
        severity: 'general',
        title: '二层走廊灭火器压力不足',
        description: '二层走廊2具干粉灭火器压力指针在红区',
        location: '主楼 2F 走廊',
        ownerContactId: 'mgr',
        deadlineAt: Date.now() + 20 * HOUR,
      })
    ).id;
    hazardB = (
      await api('POST', '/api/hazards', {
        institution: 'inst-b',
        category: 'daily_management',
        severity: 'major',
        title: '安全出口上锁',
        description: '一层东侧安全出口上锁',
        ownerContactId: 'mgr',
        deadlineAt: Date.now() + 5 * 24 * HOUR,
      })
    ).id;
  });
  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await h?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a manager sees their hazards with a reminder, starts the work and submits it with a camera photo', async () => {
    const page = await signIn('inst-a', h.demo.managers[0]?.password ?? '', PHONE);
    await page.waitForURL(/#\/manager$/);
    const card = page.getByTestId('manager-hazards');
    await expect.poll(() => card.textContent()).toContain('隐患整改 1');
    expect(await card.textContent()).toContain('整改期限不足24小时');
    await page.screenshot({ path: `${ARTIFACTS}supervision-phone-manager.png` });

    await card.click();
    await page.waitForURL(/#\/m\/hazards$/);
    await expect.poll(() => page.getByTestId('due-soon-banner').textContent()).toContain('1 项隐患整改期限不足24小时');
    // Only their own institution's hazard is listed.
    expect(await page.locator('[data-hazard]').count()).toBe(1);
    expect(await page.locator(`[data-hazard="${hazardB}"]`).count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}supervision-phone-hazards.png` });

    await page.locator(`[data-hazard="${hazardA}"]`).click();
    await page.waitForURL(/#\/m\/hazard\//);
    await expect.poll(() => page.getByTestId('deadline').textContent()).toMatch(/还剩 (19|20) 小时/);
    await page.getByTestId('start').click();
    await expect.poll(() => page.locator('[data-status]').getAttribute('data-status')).toBe('rectifying');

    // The camera input: images only, the rear camera first.
    const input = page.getByTestId('photo-input');
    expect(await input.getAttribute('accept')).toBe('image/*');
    expect(await input.getAttribute('capture')).toBe('environment');
    await page.getByTestId('measures').fill('更换2具灭火器，并对全楼灭火器逐一检查');
    await input.setInputFiles({ name: 'IMG_0001.jpg', mimeType: 'image/jpeg', buffer: photo });
    await expect.poll(() => page.locator('.thumbs img').count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}supervision-phone-submit.png` });
    await page.getByTestId('submit-work').click();
    await expect.poll(() => page.locator('[data-status]').getAttribute('data-status')).toBe('submitted');
    await expect.poll(() => page.getByTestId('rectification').count()).toBe(1);
    await page.screenshot({ path: `${ARTIFACTS}supervision-phone-submitted.png`, fullPage: true });

    // Stored: the rectification with its photo, downsized on the phone to ≤ 1600 px JPEG.
    const detail = await api('GET', `/api/hazards/${hazardA}`);
    expect(detail.hazard.status).toBe('submitted');
    expect(detail.rectifications[0]).toMatchObject({
      measures: '更换2具灭火器，并对全楼灭火器逐一检查',
      submittedBy: 'inst-a',
    });
    const [photoId] = detail.rectifications[0].photos as string[];
    const stored = await h.dashboard.app.inject({
      method: 'GET',
      url: `/api/photos/${photoId}`,
      headers: { cookie: operator },
    });
    expect(stored.headers['content-type']).toBe('image/jpeg');
    const size = jpegSize(stored.rawPayload);
    expect(Math.max(size.width, size.height)).toBe(1600);
    expect(stored.rawPayload.length).toBeLessThan(photo.length);

    // Another institution's hazard is not theirs to see.
    await page.goto(`${base}/#/m/hazard/${hazardB}`);
    await expect.poll(() => page.locator('.error').textContent()).toContain('ANL_DASH_FORBIDDEN');
  });

  it('an inspector fills a checklist on site and opens a hazard from a failed item', async () => {
    const page = await signIn('operator', h.demo.operator.password, PHONE);
    await page.waitForURL(/#\/wall$/);
    await page.goto(`${base}/#/m/inspect`);
    await page.getByTestId('inspect-institution').selectOption('inst-b');
    await page.getByTestId('inspect-checklist').selectOption('gb-38600-2019');
    await page.getByTestId('inspect-start').click();
    await page.waitForURL(/#\/m\/inspect\/insp_/);
    const items = page.locator('[data-item]');
    await expect.poll(() => items.count()).toBe(9);
    for (const id of ['C1', 'C2', 'C3', 'C4', 'C5', 'C7', 'C8', 'C9']) {
      await page.locator(`[data-item=${id}] [data-result=pass]`).click();
    }
    await page.locator('[data-item=C6] [data-result=fail]').click();
    await page.locator('[data-item=C6]').getByTestId('fail-note').fill('二楼卫生间无扶手，地面湿滑');
    await page.locator('[data-item=C6]').getByTestId('fail-photo').setInputFiles({
      name: 'IMG_0002.jpg',
      mimeType: 'image/jpeg',
      buffer: photo,
    });
    await expect.poll(() => page.locator('[data-item=C6] .thumbs img').count()).toBe(1);
    await expect.poll(() => page.locator('.progress').textContent()).toContain('已检查 9/9');
    await page.screenshot({ path: `${ARTIFACTS}supervision-phone-inspection.png`, fullPage: true });
    await page.getByTestId('inspect-submit').click();
    await expect.poll(() => page.getByTestId('inspect-done').textContent()).toContain('生成 1 项隐患');
    await page.screenshot({ path: `${ARTIFACTS}supervision-phone-inspection-done.png` });

    const list = await api('GET', '/api/hazards?institution=inst-b&source=inspection');
    expect(list.hazards).toHaveLength(1);
    expect(list.hazards[0]).toMatchObject({
      itemRef: 'C6',
      description: '二楼卫生间无扶手，地面湿滑',
      status: 'assigned',
      evidence: expect.objectContaining({ basis: 'GB 38600-2019 6.6' }),
    });
    expect((list.hazards[0].evidence.photos as string[]).length).toBe(1);
  });

  it('the county reviews the submitted work on the desktop, and the ledger and the file show it', async () => {
    const page = await signIn('operator', h.demo.operator.password, {
      viewport: { width: 1600, height: 1000 },
      locale: 'zh-CN',
    });
    await page.waitForURL(/#\/wall$/);
    await page.getByTestId('to-hazards').click();
    await page.waitForURL(/#\/hazards$/);
    await expect.poll(() => page.getByTestId('total').textContent()).toBe('共 3 项');
    await page.locator(`[data-hazard="${hazardA}"]`).click();
    await page.getByTestId('review-accept').click();
    await page.getByTestId('review-note').fill('照片核实，合格');
    await page.getByTestId('review-confirm').click();
    await expect.poll(() => page.locator('[data-status]').getAttribute('data-status')).toBe('closed');
    await expect.poll(() => page.locator('[data-event]').count()).toBe(6);
    await page.screenshot({ path: `${ARTIFACTS}supervision-hazards.png` });

    await h.supervision?.grader.recompute('testcounty', { reason: 'request' });
    await page.goto(`${base}/#/file/inst-b`);
    await expect.poll(() => page.getByTestId('file-hazards').textContent()).toContain('安全出口上锁');
    await expect.poll(() => page.getByTestId('grade-sum').textContent()).not.toBe('');
    await page.screenshot({ path: `${ARTIFACTS}supervision-file.png`, fullPage: true });
    await page.goto(`${base}/#/grades/inst-b`);
    await expect.poll(() => page.getByTestId('grade-detail').textContent()).toContain('评定依据');
    await page.screenshot({ path: `${ARTIFACTS}supervision-grades.png`, fullPage: true });
  });
});
