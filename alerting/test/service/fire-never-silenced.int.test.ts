import type { CountyConfigInput } from '@anlian/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type County, startCounty, TestGateway, until } from './real-stack.js';
import { testCounty } from './service-support.js';

const PREFIX_A = 'anlian/v1/youyang/yy-a/gw-1';

function county(): CountyConfigInput {
  const c = testCounty();
  c.institutions[0]?.gateways?.[0]?.devices?.push({
    id: 'smoke-2',
    kind: 'fire',
    name: '烟感 202',
    location: { building: '1号楼', floor: '2层', room: '202室' },
  });
  return c;
}

let c: County;
let gw: TestGateway;

beforeAll(async () => {
  c = await startCounty(county());
  // A silence of the fire alarm rule as an older version stored it, and a maintenance silence of
  // the whole institution taken through the API today; alerting restarts and reads both back.
  const now = Date.now();
  await c.alerting.service.store.insertSilence({
    id: 'si_legacy_fire',
    scope: { institution: 'yy-a', rule: 'fire-alarm' },
    startsAt: now - 60_000,
    endsAt: now + 3600_000,
    reason: '旧版本允许的火警静默',
    author: 'op',
    createdAt: now - 60_000,
  });
  await c.alerting.service.createSilence(
    { scope: { institution: 'yy-a' }, endsAt: now + 3600_000, reason: '消防系统年检' },
    'op',
  );
  await c.alerting.stop();
  await c.restartAlerting();
  gw = new TestGateway(await c.connect('gw-1', 'secret-of-gateway-1'), PREFIX_A).startHeartbeats();
}, 60_000);

afterAll(async () => {
  gw?.stopHeartbeats();
  await c?.close();
});

const open = (rule: string, device: string) =>
  c.alerting.service.openAlerts().find((a) => a.rule === rule && a.device === device);
const pushesFor = (alertId: string) => c.receiver.delivered().filter((r) => r.body.notification.alertId === alertId);

describe('fire alarms are never silenced (MQTT → ingest → alerting → webhook)', () => {
  it('a silenced institution still gets its fire alarm pushed; its other alerts stay quiet', async () => {
    await gw.event('ext-1', 'extinguisher', 'low_pressure');
    const quiet = await until(() => open('extinguisher-low-pressure-event', 'ext-1'), 'the low-pressure alert');
    expect(quiet.silenced).toBe(true);

    await gw.event('smoke-1', 'fire', 'fire');
    const fire = await until(() => open('fire-alarm', 'smoke-1'), 'the fire alarm');
    expect(fire).toMatchObject({ silenced: false, escalation: { state: 'active' } });
    const push = await until(() => pushesFor(fire.id)[0], 'the fire alarm push');
    expect(push.body.message.text).toMatch(/^【火警】桃花源养老院/);
    // The silenced alert was recorded, and pushed to nobody.
    expect(pushesFor(quiet.id)).toEqual([]);
  });

  it('a detector under maintenance (disabled) that alarms is pushed, marked as such', async () => {
    await gw.event('smoke-2', 'fire', 'disabled');
    await until(() => open('fire-detector-disabled', 'smoke-2'), 'the disabled alert');
    await gw.event('smoke-2', 'fire', 'fire');
    const fire = await until(() => open('fire-alarm', 'smoke-2'), 'the fire alarm of the disabled detector');
    expect(fire).toMatchObject({ deviceDisabled: true, silenced: false });
    const push = await until(() => pushesFor(fire.id)[0], 'its push');
    expect(push.body.notification.deviceDisabled).toBe(true);
    expect(push.body.message.text).toMatch(/^\[设备屏蔽中\]【火警】桃花源养老院/);
    expect(push.body.message.text).toContain('该设备处于屏蔽（维护）状态时报警');
    await c.alerting.service.flushed();
    expect((await c.alerting.service.get(fire.id)).alert.deviceDisabled).toBe(true);
  });
});
