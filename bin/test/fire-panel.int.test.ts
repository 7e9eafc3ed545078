import { type Alert, registerAlertingRoutes } from '@anlian/alerting';
import { AlertingClient } from '@anlian/alerting/client';
import {
  type FirePanelCounty,
  FIRE_PANEL_GATEWAY as GATEWAY,
  FIRE_PANEL_INSTITUTION as INSTITUTION,
  startFirePanelCounty,
  UITD_ADDRESS,
  UITD_DEVICE,
  waitFor,
} from '@anlian/county/fire-panel-county';
import { SimulatedUitd } from '@anlian/device-simulators';
import { Command, ComponentType } from '@anlian/gb26875';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * A simulated UITD (device-simulators) speaking GB/T 26875.3 to a real gateway's fire-panel
 * adapter, the gateway forwarding over MQTT to the county's real ingest and alerting.
 */
describe('fire panel: simulated UITD → gateway (GB/T 26875.3) → county', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setUp(opts: Parameters<typeof startFirePanelCounty>[0] = {}) {
    const stack = await startFirePanelCounty({ alertTickMs: 200, ...opts });
    cleanup.push(() => stack.close());
    const uitd = new SimulatedUitd({
      host: '127.0.0.1',
      port: stack.panelPort,
      address: UITD_ADDRESS,
      heartbeatMs: 0,
      replyTimeoutMs: 2000,
      retries: 2,
      reconnectMs: false,
    });
    cleanup.push(() => uitd.stop());
    await uitd.start();
    await waitFor(() => stack.gateway.uplink.connected);
    return { stack, uitd };
  }

  const openAlert = (stack: FirePanelCounty, rule: string, device = UITD_DEVICE): Alert | undefined =>
    stack.alerting.service.openAlerts(INSTITUTION).find((a) => a.rule === rule && a.device === device);

  it('a panel fire alarm becomes a critical alert with the zone and the panel description', async () => {
    const { stack, uitd } = await setUp();
    const outcome = await uitd.component({
      componentType: 42, // 点型光电感烟火灾探测器
      loop: 3,
      point: 17,
      status: { fire: true },
      description: '二楼 东走廊 208房',
    });
    expect(outcome).toBe('confirmed');
    const alert = await waitFor(() => openAlert(stack, 'fire-alarm'));
    expect(alert).toMatchObject({ severity: 'critical', gateway: GATEWAY, device: UITD_DEVICE, deviceKind: 'fire' });
    // The county's record of the event carries the panel's zone and what the detector is.
    const latest = stack.ingest.service.cache.device(GATEWAY, UITD_DEVICE);
    expect(JSON.stringify(latest)).toContain('二楼 东走廊 208房');
    expect(alert.reason).toContain('二楼 东走廊 208房');
    expect(stack.gateway.stats().readings.rejected).toEqual({});
  });

  it('electrical-fire detectors: residual current over 300 mA raises its alert; the detector alarm is not a fire alarm', async () => {
    const { stack, uitd } = await setUp();
    expect(
      await uitd.analog([
        { componentType: ComponentType.residualCurrentDetector, loop: 2, point: 1, analogType: 128, raw: 320 },
      ]),
    ).toBe('confirmed');
    const alert = await waitFor(() => openAlert(stack, 'electrical-residual-current', 'elec-1'));
    expect(alert).toMatchObject({ deviceKind: 'electrical', value: 320 });
    expect(
      await uitd.component({
        componentType: ComponentType.residualCurrentDetector,
        loop: 2,
        point: 1,
        status: { fire: true },
      }),
    ).toBe('confirmed');
    await waitFor(() => openAlert(stack, 'electrical-detector-alarm', 'elec-1'));
    expect(stack.alerting.service.openAlerts(INSTITUTION).some((a) => a.rule === 'fire-alarm')).toBe(false);
  });

  it('a corrupted frame is denied, the link survives, and the resend goes through', async () => {
    const { stack, uitd } = await setUp();
    const denied = new Promise<number>((resolve) => uitd.once('denied', resolve));
    const serial = 4242;
    const good = uitd.frameBytes({
      serial,
      command: Command.send,
      data: Buffer.from('1501010905 0e140b1a'.replace(/\s/g, ''), 'hex'),
    });
    const bad = Buffer.from(good);
    bad[30] = (bad[30] ?? 0) ^ 0xff; // a flipped byte in the data: the checksum no longer matches
    uitd.sendRaw(Buffer.concat([Buffer.from('line noise'), bad]));
    expect(await denied).toBe(serial);
    // Same connection: a fault report after the noise is taken and confirmed.
    expect(await uitd.uitdStatus({ mainPowerFault: true })).toBe('confirmed');
    const fault = await waitFor(() => openAlert(stack, 'device-fault'));
    expect(fault.reason).toContain('主电故障');
    expect(stack.gateway.adapters()[0]?.health().detail).toContain('1 denied');
  });

  it('a resend of a confirmed frame (same serial) is confirmed again, not counted twice', async () => {
    const { stack, uitd } = await setUp();
    const frame = uitd.frameBytes({
      serial: 777,
      command: Command.send,
      data: Buffer.from(`0201010128010011000300${'00'.repeat(31)}09050e140b1a`, 'hex'),
    });
    uitd.sendRaw(frame);
    uitd.sendRaw(frame);
    const alert = await waitFor(() => openAlert(stack, 'fire-alarm'));
    await new Promise((r) => setTimeout(r, 500));
    expect((await stack.alerting.service.get(alert.id)).alert.occurrences).toBe(1);
    expect(stack.gateway.adapters()[0]?.health().detail).toContain('1 resends');
  });

  it('a lost UITD link is a device offline; its return restores it', async () => {
    const { stack, uitd } = await setUp({ offlineGraceS: 0 });
    await waitFor(() => stack.gateway.adapters()[0]?.health().ok);
    uitd.cut();
    const lost = await waitFor(() => openAlert(stack, 'device-link-lost'));
    expect(lost.reason).toContain('链路中断');
    const again = new SimulatedUitd({
      host: '127.0.0.1',
      port: stack.panelPort,
      address: UITD_ADDRESS,
      heartbeatMs: 0,
    });
    cleanup.push(() => again.stop());
    await again.start();
    await waitFor(() => !openAlert(stack, 'device-link-lost'));
  });

  it('a UITD that is not on the list is refused', async () => {
    const { stack } = await setUp();
    const stranger = new SimulatedUitd({
      host: '127.0.0.1',
      port: stack.panelPort,
      address: 12345,
      heartbeatMs: 0,
      replyTimeoutMs: 500,
      retries: 0,
      reconnectMs: false,
    });
    cleanup.push(() => stranger.stop());
    await stranger.start();
    expect(await stranger.component({ componentType: 40, loop: 1, point: 1, status: { fire: true } })).toBe(
      'unanswered',
    );
    await waitFor(() => !stranger.connected);
    expect(stack.alerting.service.openAlerts(INSTITUTION).some((a) => a.rule === 'fire-alarm')).toBe(false);
  });
});

describe('duty checks (查岗): county → gateway → UITD type 91 → answer or silence → county', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setUp(dutyCheck: { answer: true; afterMs: number; operator: number } | { answer: false }) {
    const stack = await startFirePanelCounty({ alertTickMs: 200 });
    cleanup.push(() => stack.close());
    const uitd = new SimulatedUitd({
      host: '127.0.0.1',
      port: stack.panelPort,
      address: UITD_ADDRESS,
      heartbeatMs: 0,
      reconnectMs: false,
      dutyCheck,
    });
    cleanup.push(() => uitd.stop());
    await uitd.start();
    // The link is up once the gateway's command subscription is acknowledged: a check sent now arrives.
    await waitFor(() => stack.gateway.uplink.connected && stack.gateway.adapters()[0]?.health().ok);
    return { stack, uitd };
  }

  it('answered: recorded as answered with the operator, no alert', async () => {
    const { stack, uitd } = await setUp({ answer: true, afterMs: 300, operator: 7 });
    const asked = new Promise<number>((resolve) => uitd.once('duty-check', resolve));
    const { checks, done } = await stack.dutyChecks.request({
      institution: INSTITUTION,
      requestedBy: 'operator-1',
      answerWindowS: 3,
    });
    expect(checks).toHaveLength(1);
    expect((await stack.dutyChecks.list({ institution: INSTITUTION }))[0]).toMatchObject({
      status: 'pending',
      requestedBy: 'operator-1',
    });
    expect(await asked).toBe(1); // one minute: the shortest window the frame carries
    const [check] = await done;
    expect(check).toMatchObject({ status: 'answered', operator: 7, gateway: GATEWAY });
    expect((await stack.dutyChecks.list({ institution: INSTITUTION }))[0]).toMatchObject({
      status: 'answered',
      operator: 7,
    });
    expect(stack.alerting.service.openAlerts(INSTITUTION).some((a) => a.rule === 'duty-check-unanswered')).toBe(false);
  });

  it('unanswered: recorded, and an alert on the gateway that the next answered check clears', async () => {
    const { stack, uitd } = await setUp({ answer: false });
    const { done } = await stack.dutyChecks.request({
      institution: INSTITUTION,
      requestedBy: 'operator-1',
      answerWindowS: 2,
    });
    const [check] = await done;
    expect(check).toMatchObject({ status: 'unanswered' });
    expect(check?.detail).toContain('无人应答');
    const alert = await waitFor(() =>
      stack.alerting.service.openAlerts(INSTITUTION).find((a) => a.rule === 'duty-check-unanswered'),
    );
    expect(alert).toMatchObject({ severity: 'major', gateway: GATEWAY });
    expect(alert.reason).toContain('未应答查岗');
    // Somebody is back in the room: the next check is answered by hand and the alert clears.
    uitd.once('duty-check', () => void uitd.answerDutyCheck(3));
    const again = await stack.dutyChecks.request({
      institution: INSTITUTION,
      requestedBy: 'operator-1',
      answerWindowS: 3,
    });
    expect((await again.done)[0]).toMatchObject({ status: 'answered', operator: 3 });
    await waitFor(
      () => !stack.alerting.service.openAlerts(INSTITUTION).some((a) => a.rule === 'duty-check-unanswered'),
    );
    expect((await stack.dutyChecks.list({ institution: INSTITUTION })).map((c) => c.status)).toEqual([
      'answered',
      'unanswered',
    ]);
  });

  it("over alerting's HTTP API (anlian alerting's routes, the dashboard's client): start a check, see it pending, then its outcome", async () => {
    const { stack } = await setUp({ answer: true, afterMs: 200, operator: 5 });
    const http = Fastify();
    registerAlertingRoutes(http, { api: stack.alerting.api });
    const url = await http.listen({ host: '127.0.0.1', port: 0 });
    cleanup.push(() => http.close());
    const client = new AlertingClient({ urls: [url], changes: () => () => {} });

    const [started, ...more] = await client.requestDutyCheck({
      institution: INSTITUTION,
      requestedBy: '县消防科 王敏',
      answerWindowS: 3,
    });
    expect(more).toEqual([]);
    expect(started).toMatchObject({
      institution: INSTITUTION,
      gateway: GATEWAY,
      requestedBy: '县消防科 王敏',
      source: 'operator',
      answerWindowS: 3,
      status: 'pending',
    });
    const answered = await waitFor(async () => {
      const [latest] = await client.listDutyChecks({ institution: INSTITUTION, limit: 5 });
      return latest?.status === 'answered' ? latest : undefined;
    });
    expect(answered).toMatchObject({ id: started?.id, operator: 5, gateway: GATEWAY });
    // The answer's time is the UITD's frame time: whole seconds (GB/T 26875.3's 6-byte time).
    const requestedAt = started?.requestedAt ?? Number.POSITIVE_INFINITY;
    expect(answered.answeredAt).toBeGreaterThanOrEqual(Math.floor(requestedAt / 1000) * 1000);
    expect(answered.completedAt).toBeGreaterThanOrEqual(requestedAt);
    // The list's filters: nothing before the check, nothing for another institution.
    expect(await client.listDutyChecks({ to: requestedAt })).toEqual([]);
    expect(await client.listDutyChecks({ institution: 'inst-none' })).toEqual([]);

    // Refusals keep alerting's codes: no such gateway is 404; a window over the standard's 10 minutes is 400.
    await expect(
      client.requestDutyCheck({ institution: INSTITUTION, gateway: 'gw-none', requestedBy: 'op' }),
    ).rejects.toMatchObject({ code: 'ANL_ALERT_NOT_FOUND', statusCode: 404 });
    await expect(
      client.requestDutyCheck({ institution: INSTITUTION, requestedBy: 'op', answerWindowS: 601 }),
    ).rejects.toMatchObject({ statusCode: 400 });
  });
});
