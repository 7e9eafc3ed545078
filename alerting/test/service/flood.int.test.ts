import type { CountyConfigInput } from '@anlian/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type County, startCounty, TestGateway, until } from './real-stack.js';
import { testCounty } from './service-support.js';

/** yy-a gets 2,500 smoke detectors: 4 alarm kinds each make a flood of 10,000 distinct alerts. */
function floodCounty(): CountyConfigInput {
  const c = testCounty();
  const gw = c.institutions[0]?.gateways?.[0];
  for (let i = 0; i < 2500; i++) {
    gw?.devices?.push({
      id: `f-${i}`,
      kind: 'fire',
      name: `烟感 ${i}`,
      location: { building: '2号楼', floor: '3层', room: `${i}室` },
    });
  }
  return c;
}

let c: County;

beforeAll(async () => {
  c = await startCounty(floodCounty());
}, 60_000);

afterAll(async () => {
  await c?.close();
});

it('a flood of 10,000 alarms from one institution does not delay a fire alarm from another', async () => {
  // yy-a's pushes are slow to answer (200 ms): its deliveries back up in the dispatcher.
  c.receiver.respond = async (push) => {
    if (push.body.notification.institution.id === 'yy-a') await new Promise((r) => setTimeout(r, 200));
    return 200;
  };
  const gwA = new TestGateway(
    await c.connect('gw-1', 'secret-of-gateway-1'),
    'anlian/v1/youyang/yy-a/gw-1',
  ).startHeartbeats();
  const gwB = new TestGateway(
    await c.connect('gw-2', 'secret-of-gateway-2'),
    'anlian/v1/youyang/yy-b/gw-2',
  ).startHeartbeats();
  try {
    const flood: Promise<void>[] = [];
    for (let i = 0; i < 2500; i++) {
      for (const event of ['fire', 'fault', 'tamper', 'disabled']) flood.push(gwA.event(`f-${i}`, 'fire', event));
    }
    await Promise.all(flood);
    await until(() => c.alerting.service.openAlerts('yy-a').length >= 10_000, '10,000 open alerts in yy-a', 60_000);

    await gwB.event('smoke-1', 'fire', 'fire');
    const push = await until(
      () =>
        c.receiver.received.find(
          (r) => r.body.notification.institution.id === 'yy-b' && r.body.notification.rule === 'fire-alarm',
        ),
      "yy-b's fire alarm push",
      20_000,
    );
    // yy-b's fire alarm overtook yy-a's backlog: most of yy-a's 10,000 pushes (2,500 of them fire
    // alarms in the same critical lane) had not been delivered when yy-b's arrived.
    const aBefore = c.receiver.received.filter((r) => r.at <= push.at && r.body.notification.institution.id === 'yy-a');
    const aFireBefore = aBefore.filter((r) => r.body.notification.rule === 'fire-alarm');
    expect(aFireBefore.length).toBeLessThan(2500);
    expect(aBefore.length).toBeLessThan(5000);
    expect(c.alerting.dispatcher.queueDepth()).toBeGreaterThan(1000);
  } finally {
    gwA.stopHeartbeats();
    gwB.stopHeartbeats();
  }
}, 120_000);
