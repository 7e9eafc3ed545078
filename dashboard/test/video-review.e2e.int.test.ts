import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeviceModeSimulator, gatewayConfigFor, lanTopic } from '@anlian/device-simulators';
import { buildGateway, type Gateway, resolveGatewayConfig, silentLogger } from '@anlian/gateway';
import { freePort } from '@anlian/testing';
import { connectAsync, type MqttClient } from 'mqtt';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARTIFACTS, launchBrowser } from './browser.js';
import { type RealCounty, startRealCounty } from './real-county.js';
import { ensureWebBuilt } from './web-build.js';

const DEMO_FILE = fileURLToPath(new URL('../../deploy/counties/youyang-demo.json', import.meta.url));
const INSTITUTION = 'yy-fuli-zhongxin';
/** The main building's gateway, run here for real: camera adapter, LAN broker, disk queue, county link. */
const GATEWAY = 'gw-yy-fuli-zhongxin-1';
/** In the lobby (主楼 1F 接待大厅), which the 1F corridor camera (its floor) and the lobby camera see. */
const DETECTOR = 'smk-1f-lobby';
const CAMERAS = ['cam-1f-corr', 'cam-1f-lobby'];

/**
 * Video review (视频复核) through real parts, end to end: the demo county's simulated ONVIF cameras
 * (GStreamer RTSP, SOAP with WS-Security) and its sensors (`anlian sim --device-mode`) → a real
 * gateway configured as `--print-gateway-config` prints it (camera adapter with the county file's
 * coverage, LAN MQTT) → the real county (ingest with its media store, alerting, the dashboard) →
 * the manager's phone and the wall's alarm banner in Debian chromium. A detector in the lobby goes
 * into alarm; the alert carries both cameras' snapshots, at once and five seconds later, pushed
 * over socket.io. Screenshots go to dashboard/test-artifacts/.
 */
describe('video review end to end', () => {
  let c: RealCounty;
  let sim: DeviceModeSimulator;
  let gateway: Gateway;
  let lan: MqttClient;
  let browser: Browser;
  let dataDir: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    const webRoot = await ensureWebBuilt();
    c = await startRealCounty({
      countyFile: DEMO_FILE,
      scriptedGateway: 'gw-yy-daxi-1',
      ownGateways: [GATEWAY],
      webRoot,
      speed: 1,
      dashboard: { flushMs: 200, statsMs: 1000 },
    });
    dataDir = await mkdtemp(path.join(tmpdir(), 'anlian-video-review-'));
    const lanPort = await freePort();
    sim = new DeviceModeSimulator({
      county: c.county,
      gateway: GATEWAY,
      lanUrl: `mqtt://127.0.0.1:${lanPort}`,
      cameras: { host: '127.0.0.1', port: 0 },
      seed: 1,
      startMs: Date.now(),
    });
    await sim.start();
    const cameras = sim.cameraEndpoints();
    if (!cameras) throw new Error('no simulated cameras');
    const file = gatewayConfigFor(sim.layout, { countyUrl: c.brokerUrl, lanPort, cameras, dataDir });
    const adapters = (file.adapters as Record<string, unknown>[]).map((a) =>
      // Shorter diagnoses than a deployment's (4 s of stream each): nine cameras share two ffmpeg slots here.
      a.type === 'camera' ? { ...a, sampleS: 2, streamTimeoutMs: 5000 } : a,
    );
    gateway = buildGateway({
      config: resolveGatewayConfig({ ...file, adapters, logLevel: 'silent' }),
      logger: silentLogger(),
    });
    await gateway.start();
    lan = await connectAsync(`mqtt://127.0.0.1:${lanPort}`, { clientId: 'test-detector', protocolVersion: 4 });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const ctx of contexts) await ctx.close().catch(() => {});
    await browser?.close();
    await lan?.endAsync();
    await gateway?.stop();
    await sim?.stop();
    await c?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function signIn(
    ctx: BrowserContext,
    who: { username: string; password: string },
    wait: (p: Page) => Promise<unknown>,
  ): Promise<Page> {
    const page = await ctx.newPage();
    await page.goto(`${c.base}/#/login`);
    await page.locator('input[name=username]').fill(who.username);
    await page.locator('input[name=password]').fill(who.password);
    await page.getByRole('button', { name: '登录' }).click();
    await wait(page);
    return page;
  }

  async function cookieOf(username: string, password: string): Promise<string> {
    const res = await c.dashboard.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { username, password },
    });
    return `anl_session=${res.cookies.find((k) => k.name === 'anl_session')?.value}`;
  }

  /** The pictures an alert card shows that have loaded: `camera#shot`. */
  const shown = (page: Page, within: string) =>
    page.evaluate(`[...document.querySelectorAll('${within} [data-testid=alert-snapshot]')]
      .filter((f) => { const i = f.querySelector('img'); return i && i.complete && i.naturalWidth > 0; })
      .map((f) => f.dataset.camera + '#' + f.dataset.shot).sort()`) as Promise<string[]>;

  it('a fire alarm in a zone two cameras cover reaches the phone and the wall with both cameras’ snapshots, pushed as they arrive', async () => {
    // The gateway is online at the county, its cameras described and diagnosed by the adapter.
    await expect.poll(() => c.ingest.service.cache.gateway(GATEWAY)?.state, { timeout: 30_000 }).toBe('online');
    const arrived: { what: string; at: number }[] = [];
    const unsubscribe = c.ingest.service.pipeline.onEvent((e) => {
      if (e.gateway !== GATEWAY) return;
      if (e.type === 'snapshot') arrived.push({ what: `snapshot ${e.device}#${e.payload.shot}`, at: e.receivedAt });
      if (e.type === 'event' && e.device === DETECTOR)
        arrived.push({ what: `event ${e.payload.event}`, at: e.receivedAt });
    });

    const manager = c.demo.managers.find((m) => m.institution === INSTITUTION);
    if (!manager) throw new Error('no demo manager');
    const phoneCtx = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
    });
    contexts.push(phoneCtx);
    // The fallback poll answers nothing on the phone and on the wall: every picture they show
    // came over socket.io.
    let polls = 0;
    const answerNothing = (ctx: BrowserContext) =>
      ctx.route('**/api/alerts/*/snapshots', (route) => {
        polls++;
        return route.fulfill({ status: 200, contentType: 'application/json', body: '{"snapshots":[]}' });
      });
    await answerNothing(phoneCtx);
    const phone = await signIn(phoneCtx, manager, (p) => p.getByTestId('manager').waitFor());

    const wallCtx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: 'zh-CN' });
    contexts.push(wallCtx);
    await answerNothing(wallCtx);
    const wall = await signIn(wallCtx, { username: 'operator', password: c.demo.operator.password }, (p) =>
      expect.poll(() => p.getByTestId('stat-institutions').textContent(), { timeout: 15_000 }).toBe('26'),
    );

    // The detector in the lobby goes into alarm: it publishes on the gateway's LAN broker, as it would.
    const t0 = Date.now();
    await lan.publishAsync(
      lanTopic(DETECTOR, 'event'),
      JSON.stringify({ ts: t0, event: 'fire', detail: '烟雾浓度 0.21 dB/m' }),
      { qos: 1 },
    );
    const card = phone.getByTestId('alert-card').first();
    await card.waitFor({ timeout: 10_000 });
    const alarmShownMs = Date.now() - t0;
    expect(await card.textContent()).toContain('火灾报警');
    const alertId = await card.getAttribute('data-alert');

    // Both cameras' first snapshots, then the second round five seconds later (review.delaysMs [0, 5000]).
    await expect
      .poll(() => shown(phone, '[data-testid=alert-card]'), { timeout: 20_000, interval: 100 })
      .toEqual(expect.arrayContaining(CAMERAS.map((cam) => `${cam}#0`)));
    const snapshotShownMs = Date.now() - t0;
    await expect
      .poll(() => shown(phone, '[data-testid=alert-card]'), { timeout: 30_000, interval: 200 })
      .toEqual(['cam-1f-corr#0', 'cam-1f-corr#1', 'cam-1f-lobby#0', 'cam-1f-lobby#1']);
    expect(polls).toBeGreaterThanOrEqual(1);
    // Nothing wider than the phone.
    expect(await phone.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
    await phone.screenshot({ path: `${ARTIFACTS}manager-view-video-review.png`, fullPage: true });

    // The wall's alarm banner shows them too.
    const banner = wall.getByTestId('fire-banner');
    await banner.waitFor();
    await expect
      .poll(() => shown(wall, '[data-testid=fire-banner]'), { timeout: 10_000, interval: 200 })
      .toEqual(expect.arrayContaining(CAMERAS.map((cam) => `${cam}#0`)));
    await wall.waitForTimeout(500);
    await wall.screenshot({ path: `${ARTIFACTS}wall-screen-video-review.png` });

    // Through the dashboard API: the alert has both cameras' snapshots, the manager may fetch them.
    const cookie = await cookieOf(manager.username, manager.password);
    const res = await c.dashboard.app.inject({
      method: 'GET',
      url: `/api/alerts/${alertId}/snapshots`,
      headers: { cookie },
    });
    expect(res.statusCode).toBe(200);
    const snapshots = res.json().snapshots as { camera: string; shot: number; url: string; width?: number }[];
    expect(snapshots.map((s) => `${s.camera}#${s.shot}`).sort()).toEqual([
      'cam-1f-corr#0',
      'cam-1f-corr#1',
      'cam-1f-lobby#0',
      'cam-1f-lobby#1',
    ]);
    const picture = await c.dashboard.app.inject({ method: 'GET', url: snapshots[0]?.url ?? '', headers: { cookie } });
    expect(picture.headers['content-type']).toBe('image/jpeg');
    expect(picture.rawPayload.subarray(0, 2).toString('hex')).toBe('ffd8');
    // Another institution's manager may not.
    const other = c.demo.managers.find((m) => m.institution !== INSTITUTION);
    if (!other) throw new Error('no other manager');
    const refused = await c.dashboard.app.inject({
      method: 'GET',
      url: snapshots[0]?.url ?? '',
      headers: { cookie: await cookieOf(other.username, other.password) },
    });
    expect(refused.statusCode).toBe(403);

    // A phone that opens later gets them over HTTP (the fallback), without any push.
    const laterCtx = await browser.newContext({
      viewport: { width: 360, height: 740 },
      isMobile: true,
      locale: 'zh-CN',
    });
    contexts.push(laterCtx);
    const later = await signIn(laterCtx, manager, (p) => p.getByTestId('alert-card').first().waitFor());
    await expect
      .poll(() => shown(later, '[data-testid=alert-card]'), { timeout: 10_000, interval: 200 })
      .toEqual(['cam-1f-corr#0', 'cam-1f-corr#1', 'cam-1f-lobby#0', 'cam-1f-lobby#1']);

    // The gateway took them without delaying the alarm: the alarm reached the county first, and
    // the cameras of other zones took none.
    unsubscribe();
    expect(arrived[0]?.what).toBe('event fire');
    expect(arrived.filter((a) => a.what.startsWith('snapshot'))).toHaveLength(4);
    const stats = sim.cameraFleet?.cameras().map((cam) => [cam.id, cam.stats().snapshots] as const) ?? [];
    expect(stats.filter(([, n]) => n > 0).map(([id]) => id)).toEqual(CAMERAS);
    process.stdout.write(
      `video review: fire event → alert on the phone ${alarmShownMs} ms, → both cameras' first snapshots on the phone ${snapshotShownMs} ms\n`,
    );
  });
});
