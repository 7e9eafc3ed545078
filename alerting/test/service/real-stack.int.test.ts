import { createHmac } from 'node:crypto';
import type { CountyConfigInput } from '@anlian/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type County, startCounty, TestGateway, until } from './real-stack.js';
import { testCounty } from './service-support.js';

const PREFIX_A = 'anlian/v1/youyang/yy-a/gw-1';
const PREFIX_B = 'anlian/v1/youyang/yy-b/gw-2';

/** The unit-test county, plus devices that report every second (absence in seconds, not hours). */
function county(): CountyConfigInput {
  const c = testCounty();
  const loc = { building: '1号楼', floor: '1层', room: '值班室' };
  const [a, b] = c.institutions;
  a?.gateways?.[0]?.devices?.push(
    { id: 'ext-2', kind: 'extinguisher', name: '灭火器 2', location: loc, reportIntervalS: 1 },
    { id: 'smoke-2', kind: 'fire', name: '烟感 2', location: loc },
  );
  b?.gateways?.[0]?.devices?.push(
    { id: 'k-9', kind: 'kitchen', name: '厨房 9', location: loc, reportIntervalS: 1 },
    { id: 'smoke-2', kind: 'fire', name: '烟感 2', location: loc },
    { id: 'smoke-3', kind: 'fire', name: '烟感 3', location: loc },
  );
  b?.contacts?.push({ id: 'dep', name: '田伟', role: 'deputy', phone: '13800130201' });
  return c;
}

// A duration rule (none ships by default): a camera below 5 fps for 2 s.
const RULES = `
rules:
  - id: camera-low-fps
    name: { zh: 摄像机帧率过低, en: Camera frame rate low }
    kind: duration
    severity: major
    resolve: auto
    scope: { kinds: [camera] }
    field: fps
    op: '<'
    raise: 5
    clear: 10
    forS: 2
`;

let c: County;
let gwA: TestGateway;
let gwB: TestGateway;

beforeAll(async () => {
  c = await startCounty(county(), { rulesYaml: RULES });
  gwA = new TestGateway(await c.connect('gw-1', 'secret-of-gateway-1'), PREFIX_A).startHeartbeats();
  gwB = new TestGateway(
    await c.connect('gw-2', 'secret-of-gateway-2', {
      will: {
        topic: `${PREFIX_B}/status`,
        payload: Buffer.from(JSON.stringify({ v: 1, ts: Date.now(), seq: 0, state: 'offline', reason: 'will' })),
        qos: 1,
        retain: true,
      },
    }),
    PREFIX_B,
  ).startHeartbeats();
}, 60_000);

afterAll(async () => {
  gwA?.stopHeartbeats();
  gwB?.stopHeartbeats();
  await c?.close();
});

const open = (rule: string, device?: string) =>
  c.alerting.service.openAlerts().find((a) => a.rule === rule && (device === undefined || a.device === device));
const pushesFor = (alertId: string) => c.receiver.received.filter((r) => r.body.notification.alertId === alertId);

describe('alerting on the real stack (MQTT → ingest → alerting → webhook, InfluxDB)', () => {
  it('pushes a fire alarm to a signed webhook and records every transition in alert_event', async () => {
    await gwA.event('smoke-1', 'fire', 'fire');
    const alert = await until(() => open('fire-alarm', 'smoke-1'), 'the fire alert');
    const push = await until(() => pushesFor(alert.id)[0], 'the push');
    expect(push.body.notification).toMatchObject({ kind: 'raised', severity: 'critical', level: 0, drill: false });
    expect(push.body.message.text).toContain('桃花源养老院');
    const [t, v1] = String(push.headers['x-anlian-signature']).split(',');
    const body = JSON.stringify(push.body);
    const expected = createHmac('sha256', 'a-secret-of-16-chars')
      .update(`${t?.slice(2)}.${body}`)
      .digest('hex');
    expect(v1).toBe(`v1=${expected}`);

    await c.alerting.service.acknowledge(alert.id, 'mgr', '收到');
    await c.alerting.service.verify(alert.id, 'mgr', 'test', '月度模拟测试');
    await c.alerting.service.close(alert.id, 'mgr');
    const rows = await until(async () => {
      const r = await c.query(`SELECT "to", "actor" FROM events_1y.alert_event WHERE "alertId" = '${alert.id}'`);
      return r.length === 4 ? r : undefined;
    }, 'four alert_event points');
    expect(rows.map((r) => r[1])).toEqual(['open', 'acknowledged', 'verified', 'closed']);
  });

  it('fires and clears every rule kind: event, threshold, duration, rate-of-rise, absence, inhibition', async () => {
    const svc = c.alerting.service;
    // event, auto-resolving: a fault, then its restore.
    await gwA.event('cam-1', 'camera', 'fault');
    await until(() => open('device-fault', 'cam-1'), 'device-fault');
    await gwA.event('cam-1', 'camera', 'restore');
    await until(() => !open('device-fault', 'cam-1'), 'device-fault cleared');

    // threshold with hysteresis: under-pressure below 1.0 MPa, cleared back in the green zone.
    await gwA.telemetry('ext-1', { kind: 'extinguisher', medium: 'dry_powder', pressure: 0.8 });
    await until(() => open('extinguisher-under-pressure', 'ext-1'), 'under-pressure');
    await gwA.telemetry('ext-1', { kind: 'extinguisher', medium: 'dry_powder', pressure: 1.2 });
    await until(() => !open('extinguisher-under-pressure', 'ext-1'), 'under-pressure cleared');

    // duration: held for 2 s of device time.
    const t0 = Date.now() - 10_000;
    await gwA.telemetry('cam-1', { kind: 'camera', online: true, streamOk: true, fps: 2 }, t0);
    await gwA.telemetry('cam-1', { kind: 'camera', online: true, streamOk: true, fps: 3 }, t0 + 1000);
    expect(open('camera-low-fps')).toBeUndefined();
    await gwA.telemetry('cam-1', { kind: 'camera', online: true, streamOk: true, fps: 2 }, t0 + 2500);
    await until(() => open('camera-low-fps', 'cam-1'), 'camera-low-fps');
    await gwA.telemetry('cam-1', { kind: 'camera', online: true, streamOk: true, fps: 25 }, t0 + 3000);
    await until(() => !open('camera-low-fps', 'cam-1'), 'camera-low-fps cleared');

    // rate-of-rise: ≥ 8 °C/min over a minute of device time, below the static thresholds.
    const r0 = Date.now() - 120_000;
    for (const [s, temp] of [
      [0, 25],
      [20, 28],
      [40, 31],
      [60, 34],
      [70, 37],
      [80, 40],
      [100, 43],
      [120, 46],
    ] as const) {
      await gwA.telemetry('k-1', { kind: 'kitchen', temperature: temp }, r0 + s * 1000);
    }
    const rise = await until(() => open('kitchen-rate-of-rise', 'k-1'), 'kitchen-rate-of-rise');
    // A rate-of-rise alarm is a fire alarm: it clears by a person, not by cooling down.
    await gwA.telemetry('k-1', { kind: 'kitchen', temperature: 30 });
    await new Promise((r) => setTimeout(r, 300));
    expect(open('kitchen-rate-of-rise', 'k-1')?.id).toBe(rise.id);
    await svc.verify(rise.id, 'mgr', 'false_alarm', '蒸箱开门');
    await svc.close(rise.id, 'mgr');
    expect(open('kitchen-rate-of-rise', 'k-1')).toBeUndefined();

    // absence: ext-2 reports every second; three missed reports take it offline, one brings it back.
    await gwA.telemetry('ext-2', { kind: 'extinguisher', medium: 'dry_powder', pressure: 1.2 });
    await until(() => open('device-offline', 'ext-2'), 'device-offline', 10_000);
    await gwA.telemetry('ext-2', { kind: 'extinguisher', medium: 'dry_powder', pressure: 1.2 });
    await until(() => !open('device-offline', 'ext-2'), 'device-offline cleared');

    // inhibition: gw-2's connection drops; its will raises one institution-blind alert and k-9's
    // silence behind it raises none. Back online, the gateway alert clears.
    await gwB.telemetry('k-9', { kind: 'kitchen', temperature: 25 });
    gwB.stopHeartbeats();
    gwB.client.stream.destroy();
    const blind = await until(() => open('gateway-offline'), 'gateway-offline');
    expect(blind).toMatchObject({ gateway: 'gw-2', institution: 'yy-b', severity: 'critical' });
    await new Promise((r) => setTimeout(r, 3500));
    expect(svc.openAlerts('yy-b').map((a) => a.rule)).toEqual(['gateway-offline']);
    gwB = new TestGateway(await c.connect('gw-2', 'secret-of-gateway-2'), PREFIX_B).startHeartbeats();
    await gwB.status('online');
    await until(() => !open('gateway-offline'), 'gateway-offline cleared');
  });

  it('retries a failing webhook: fails twice, then exactly one delivery, every attempt recorded', async () => {
    let failures = 0;
    c.receiver.respond = (push) => {
      if (push.body.notification.device?.id === 'smoke-2' && failures < 2) {
        failures++;
        return 500;
      }
      return 200;
    };
    await gwB.event('smoke-2', 'fire', 'fire');
    const alert = await until(() => open('fire-alarm', 'smoke-2'), 'the alert');
    await until(() => pushesFor(alert.id).some((p) => p.status === 200), 'the delivery');
    const pushes = pushesFor(alert.id);
    expect(pushes.map((p) => p.status)).toEqual([500, 500, 200]);
    expect(new Set(pushes.map((p) => p.headers['idempotency-key'])).size).toBe(1);
    const records = await until(async () => {
      await c.alerting.service.flushed();
      const d = (await c.alerting.service.get(alert.id)).deliveries.filter((r) => r.channelId === 'county-hook');
      return d.length === 3 ? d : undefined;
    }, 'three delivery records');
    expect(records.map((r) => [r.attempt, r.status])).toEqual([
      [1, 'retrying'],
      [2, 'retrying'],
      [3, 'sent'],
    ]);
    c.receiver.respond = () => 200;
    await c.alerting.service.verify(alert.id, 'mgr', 'test');
    await c.alerting.service.close(alert.id, 'mgr');
  });

  it('escalates to the next level after its timeout and stops at acknowledge', async () => {
    const svc = c.alerting.service;
    await svc.setPolicy(
      'yy-a',
      {
        levels: [
          { afterS: 0, roles: ['manager'] },
          { afterS: 1, roles: ['deputy'] },
          { afterS: 3, roles: ['duty_officer'] },
        ],
        repeatEveryS: 0,
      },
      'admin',
    );
    await gwA.telemetry('k-1', { kind: 'kitchen', temperature: 30, gasLel: 40 });
    const alert = await until(() => open('kitchen-gas', 'k-1'), 'kitchen-gas');
    const l1 = await until(() => pushesFor(alert.id).find((p) => p.body.notification.level === 1), 'level 1');
    expect(l1.body.notification).toMatchObject({
      kind: 'escalated',
      recipients: [expect.objectContaining({ contactId: 'dep' })],
    });
    await svc.acknowledge(alert.id, 'dep');
    await new Promise((r) => setTimeout(r, 3000));
    expect(pushesFor(alert.id).map((p) => p.body.notification.level)).toEqual([0, 1]);
    await svc.resetPolicy('yy-a');
  });

  it('resumes an escalation after a restart in the middle of it', async () => {
    await c.alerting.service.setPolicy(
      'yy-b',
      {
        levels: [
          { afterS: 0, roles: ['manager'] },
          { afterS: 2, roles: ['deputy'] },
        ],
        repeatEveryS: 0,
      },
      'admin',
    );
    await gwB.event('smoke-3', 'fire', 'fire');
    const alert = await until(() => open('fire-alarm', 'smoke-3'), 'the alert');
    await until(() => pushesFor(alert.id).length === 1, 'level 0');
    await c.alerting.stop();
    await new Promise((r) => setTimeout(r, 2500));
    expect(pushesFor(alert.id)).toHaveLength(1);
    await c.restartAlerting();
    const l1 = await until(
      () => pushesFor(alert.id).find((p) => p.body.notification.level === 1),
      'level 1 after restart',
    );
    expect(l1.body.notification.notificationId).toBe(`${alert.id}/L1R0`);
    await new Promise((r) => setTimeout(r, 500));
    expect(pushesFor(alert.id).map((p) => p.body.notification.level)).toEqual([0, 1]);
    expect(c.alerting.service.openAlerts('yy-b').find((a) => a.id === alert.id)?.escalation.state).toBe('done');
  });
});
