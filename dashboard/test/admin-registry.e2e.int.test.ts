import { fileURLToPath } from 'node:url';
import { Registry } from '@anlian/store';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { login } from './dashboard-harness.js';
import { type RealCounty, startRealCounty } from './real-county.js';
import { ScriptedGateway } from './scripted-gateway.js';
import { ensureWebBuilt } from './web-build.js';

const DEMO_FILE = fileURLToPath(new URL('../../deploy/counties/youyang-demo.json', import.meta.url));
const INSTITUTION = 'yy-longtan';
/** Left out of the simulator and driven by the test: the gateway whose secret is rotated. */
const GATEWAY = 'gw-yy-longtan-2';
const NEW_DEVICE = 'smk-3f-399';

/**
 * The admin pages in a real browser on the real stack (the wall-screen test's county: influxd,
 * ingest with its broker, alerting, the dashboard, the simulator). A county admin edits an
 * institution, adds a device, rotates a gateway's secret (shown once; the gateway logs in with
 * the new one, not the old), edits contacts and the escalation policy, seeing the server's
 * validation errors next to the fields on the way; each change is checked in the store or the
 * service that acts on it. Screenshots go to dashboard/test-artifacts/.
 */
describe('admin pages end to end', () => {
  let c: RealCounty;
  let browser: Browser;
  let ctx: BrowserContext;
  let page: Page;
  let admin: string;
  const started: ScriptedGateway[] = [];
  /** The secret the admin page showed once, for the broker tests after the page's. */
  let rotatedSecret = '';

  beforeAll(async () => {
    const webRoot = await ensureWebBuilt();
    c = await startRealCounty({ countyFile: DEMO_FILE, scriptedGateway: GATEWAY, webRoot, speed: 1 });
    browser = await launchBrowser();
    admin = await login(c, 'admin', c.demo.admin.password);
  });
  afterAll(async () => {
    for (const g of started) await g.stop();
    await ctx?.close();
    await browser?.close();
    await c?.close();
  });

  const get = async (url: string) => {
    const res = await c.dashboard.app.inject({ method: 'GET', url, headers: { cookie: admin } });
    expect(res.statusCode).toBe(200);
    return res.json();
  };
  const section = (name: string) => page.locator(`[data-section=${name}]`).click();
  const shot = (name: string) => page.screenshot({ path: `${ARTIFACTS}${name}.png` });

  it('edits an institution, adds a device, rotates a secret, edits contacts and the escalation policy', async () => {
    ctx = await browser.newContext({
      viewport: { width: 1920, height: 1080 },
      locale: 'zh-CN',
      permissions: ['clipboard-read', 'clipboard-write'],
    });
    page = await ctx.newPage();
    await page.goto(`${c.base}/#/login`);
    await page.locator('input[name=username]').fill('admin');
    await page.locator('input[name=password]').fill(c.demo.admin.password);
    await page.getByRole('button', { name: '登录' }).click();
    // Signed in, the app opens the wall screen; the admin goes on to the admin pages from there.
    await page.waitForURL(/#\/wall$/);
    await page.evaluate("window.location.hash = '#/admin'");
    await page.locator(`[data-institution=${INSTITUTION}]`).click();
    await expect.poll(() => page.getByTestId('institution-title').textContent()).toBe('龙潭镇中心敬老院');

    // —— the institution: a bad bed count is refused next to its field, then a good edit is saved.
    const form = page.getByTestId('institution-form');
    await form.locator('input[name=name]').fill('龙潭镇中心敬老院（新院区）');
    await form.locator('input[name=beds]').fill('-5');
    await page.getByTestId('save-institution').click();
    const bedsError = form.locator('label', { has: page.locator('input[name=beds]') }).getByTestId('field-error');
    await expect.poll(() => bedsError.textContent()).toBe('不能小于 0');
    expect(await form.getByTestId('form-error').textContent()).toContain('有 1 处需要修改');
    await shot('admin-institution-invalid');
    await form.locator('input[name=beds]').fill('132');
    await page.getByTestId('save-institution').click();
    await form.getByRole('status').waitFor();
    await expect.poll(() => page.getByTestId('institution-title').textContent()).toBe('龙潭镇中心敬老院（新院区）');
    const row = await c.ingest.database.db
      .selectFrom('institutions')
      .select(['name', 'beds'])
      .where('id', '=', INSTITUTION)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ name: '龙潭镇中心敬老院（新院区）', beds: 132 });
    expect(c.dashboard.registryView.snapshot.institutions.get(INSTITUTION)).toMatchObject({ beds: 132 });

    // —— a new smoke detector under the first gateway, with its own report interval.
    await section('devices');
    await page.getByTestId('add-device').click();
    const dev = page.getByTestId('device-form');
    await dev.locator('select[name=device-gateway]').selectOption('gw-yy-longtan-1');
    await dev.locator('input[name=device-id]').fill(NEW_DEVICE);
    await dev.locator('select[name=device-kind]').selectOption('fire');
    await dev.locator('input[name=device-name]').fill('3F 399 感烟探测器');
    await dev.locator('input[name=device-building]').fill('主楼');
    await dev.locator('input[name=device-floor]').fill('3F');
    await dev.locator('input[name=device-room]').fill('399');
    await dev.locator('input[name=device-interval]').fill('120');
    await shot('admin-device-form');
    await page.getByTestId('save-device').click();
    const newRow = page.locator(`[data-device="gw-yy-longtan-1/${NEW_DEVICE}"]`);
    await newRow.waitFor();
    const devices = (await get(`/api/admin/devices?institution=${INSTITUTION}`)).devices;
    expect(devices.find((d: { deviceId: string }) => d.deviceId === NEW_DEVICE)).toMatchObject({
      gatewayId: 'gw-yy-longtan-1',
      kind: 'fire',
      name: '3F 399 感烟探测器',
      reportIntervalS: 120,
      location: { building: '主楼', floor: '3F', room: '399' },
    });
    // Deleting asks first; cancelling keeps the device.
    await newRow.getByTestId('delete-device').click();
    const confirm = page.getByTestId('confirm-dialog');
    await expect.poll(() => confirm.textContent()).toContain(`gw-yy-longtan-1/${NEW_DEVICE}`);
    await shot('admin-device-delete-confirm');
    await confirm.getByRole('button', { name: '取消' }).click();
    await confirm.waitFor({ state: 'detached' });
    expect(await newRow.count()).toBe(1);
    expect(c.dashboard.registryView.snapshot.devices.has(`gw-yy-longtan-1/${NEW_DEVICE}`)).toBe(true);

    // —— rotate the gateway's secret: asked first, shown once with a copy button.
    await section('gateways');
    const gwRow = page.locator(`[data-gateway=${GATEWAY}]`);
    const rotatedAfter = Date.now();
    await gwRow.getByTestId('rotate').click();
    await confirm.getByTestId('confirm').click();
    const dialog = page.getByTestId('secret-dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('此密钥只显示这一次');
    const secret = await dialog.getByTestId('one-time-secret').inputValue();
    expect(secret.length).toBeGreaterThanOrEqual(24);
    await dialog.getByTestId('copy-secret').click();
    await expect.poll(() => dialog.getByTestId('copy-secret').textContent()).toContain('已复制');
    // A string, not a function: the tests' type-check has no DOM library.
    expect(await page.evaluate('navigator.clipboard.readText()')).toBe(secret);
    await shot('admin-gateway-secret');
    await dialog.getByTestId('secret-done').click();
    await dialog.waitFor({ state: 'detached' });
    // Gone from the page and never in the API's answers; only its hashes are stored.
    expect(await page.content()).not.toContain(secret);
    const { gateways } = await get('/api/admin/gateways');
    expect(JSON.stringify(gateways)).not.toContain(secret);
    expect(gateways.find((g: { id: string }) => g.id === GATEWAY).credentialsRotatedAt).toBeGreaterThanOrEqual(
      rotatedAfter,
    );
    // The store now takes the new secret and refuses the old one (a fresh registry: no cache).
    const fresh = new Registry(c.ingest.database.db);
    expect(await fresh.verifyGateway(GATEWAY, secret)).toMatchObject({ id: GATEWAY, institution: INSTITUTION });
    expect(await fresh.verifyGateway(GATEWAY, c.gateway.config.secret ?? '')).toBeNull();
    rotatedSecret = secret;

    // —— contacts: a bad number is refused next to it; a night duty officer is added.
    await section('contacts');
    const contacts = page.getByTestId('contacts-panel');
    await contacts.locator('input[name=contact-0-name]').waitFor();
    await contacts.locator('input[name=contact-0-phone]').fill('12345');
    await page.getByTestId('save-contacts').click();
    await expect
      .poll(() => contacts.locator('[data-contact="0"]').getByTestId('field-error').textContent())
      .toBe('请填写大陆手机号，如 13800138000');
    await shot('admin-contacts-invalid');
    await contacts.locator('input[name=contact-0-phone]').fill('13900139000');
    await page.getByTestId('add-contact').click();
    const added = (await contacts.locator('tbody tr').count()) - 1;
    await contacts.locator(`input[name=contact-${added}-id]`).fill('night-duty');
    await contacts.locator(`input[name=contact-${added}-name]`).fill('夜班值班员王强');
    await contacts.locator(`select[name=contact-${added}-role]`).selectOption('duty_officer');
    await contacts.locator(`input[name=contact-${added}-phone]`).fill('13700137000');
    await page.getByTestId('save-contacts').click();
    await contacts.getByRole('status').waitFor();
    const stored = (await get(`/api/admin/institutions/${INSTITUTION}/contacts`)).contacts;
    expect(stored).toHaveLength(added + 1);
    expect(stored[0].phone).toBe('13900139000');
    expect(stored).toContainEqual({
      id: 'night-duty',
      name: '夜班值班员王强',
      role: 'duty_officer',
      phone: '13700137000',
    });

    // —— the escalation policy: out-of-order levels are refused at the level; then saved.
    await section('policy');
    const policy = page.getByTestId('policy-panel');
    await policy.locator('input[name=level-1-after]').waitFor();
    await policy.locator('input[name=level-1-after]').fill('60');
    await policy.locator('input[name=level-2-after]').fill('30');
    await page.getByTestId('save-policy').click();
    await expect
      .poll(() => policy.locator('[data-level="2"]').getByTestId('field-error').textContent())
      .toBe('须晚于上一级的时间');
    await policy.locator('input[name=level-2-after]').fill('240');
    await page.getByTestId('add-level').click();
    await policy.locator('input[name=level-3-after]').fill('900');
    await policy.locator('input[name=level-3-manager]').check();
    await policy.locator('input[name=level-3-duty_officer]').check();
    await policy.locator('input[name=repeat-every]').fill('600');
    await page.getByTestId('save-policy').click();
    await policy.getByRole('status').waitFor();
    const expected = {
      levels: [
        { afterS: 0, roles: ['manager', 'fire_safety'] },
        { afterS: 60, roles: ['deputy'] },
        { afterS: 240, roles: ['duty_officer'] },
        { afterS: 900, roles: ['manager', 'duty_officer'] },
      ],
      repeatEveryS: 600,
    };
    // What alerting escalates by from now on, and what the API answers.
    expect(c.alerting.service.policyFor(INSTITUTION)).toMatchObject(expected);
    expect(await get(`/api/institutions/${INSTITUTION}/escalation-policy`)).toMatchObject(expected);
    expect(await policy.getByTestId('policy-summary').textContent()).toContain('之后每10分钟提醒所有人');
    await shot('admin-policy');

    // —— the registry as a spreadsheet: the county's export, imported back through the page, changes nothing.
    const csv = await c.dashboard.app.inject({
      method: 'GET',
      url: '/api/admin/registry/export?format=csv',
      headers: { cookie: admin },
    });
    await page.locator('input[name=registry-file]').setInputFiles({
      name: 'registry.csv',
      mimeType: 'text/csv',
      buffer: csv.rawPayload,
    });
    await page.getByTestId('import').click();
    const transfer = page.getByTestId('registry-transfer');
    await expect.poll(() => transfer.getByRole('status').textContent()).toContain('导入完成');
    expect(await transfer.getByRole('status').textContent()).toContain('没有变更');
    // The English toggle.
    await page.getByRole('button', { name: 'EN' }).click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('County administration');
    expect(await policy.getByTestId('policy-summary').textContent()).toContain('then everyone every 10 min');
    await shot('admin-policy-en');

    // Every change is in the audit log, by the admin.
    const actions = (await get(`/api/admin/audit?institution=${INSTITUTION}`)).entries
      .filter((e: { actor: string }) => e.actor === 'admin')
      .map((e: { action: string }) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'institution.update',
        'device.create',
        'gateway.rotate',
        'contacts.replace',
        'policy.set',
      ]),
    );
  });
  // The dashboard and ingest are separate Registry instances on one store: ingest's broker must
  // see the rotation at the next CONNECT, not when a cached verification expires.
  it('the broker refuses the old secret at once after a rotation', async () => {
    expect(rotatedSecret).not.toBe('');
    await c.gateway.stop();
    const withOld = new ScriptedGateway(c.gateway.config, c.county.county.id, INSTITUTION);
    started.push(withOld);
    await expect(withOld.start(c.brokerUrl)).rejects.toThrow();
  });

  it('the gateway logs in to the broker with the new secret', async () => {
    expect(rotatedSecret).not.toBe('');
    await c.gateway.stop();
    const renewed = new ScriptedGateway(
      { ...c.gateway.config, secret: rotatedSecret },
      c.county.county.id,
      INSTITUTION,
    );
    started.push(renewed);
    await renewed.start(c.brokerUrl);
  });
});
