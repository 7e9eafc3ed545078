import type { CommandName, CommandReplyPayload, GatewayAddress } from '@anlian/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayCommands } from '../../src/commands/gateway-commands.js';
import { AlertingError } from '../../src/errors.js';
import { formatNotification, smsTemplateParams } from '../../src/notify/message-format.js';
import { deviceEvent, kitchen, S, T0 } from '../support.js';
import { openTestStore, type ServiceFixture, type StoreFixture, startService } from './service-support.js';

/** Issue 13, item 3: only a drill's own signals are drill alerts; a fire during a drill is real. */
let store: StoreFixture;
let fx: ServiceFixture;

afterEach(async () => {
  await fx?.service.stop();
  await store?.close();
});

const HOUR = 3600 * S;
const text = (n: Parameters<typeof formatNotification>[0]) => formatNotification(n, n.at).text;

describe('drill tagging by drillId', () => {
  beforeEach(async () => {
    store = await openTestStore();
    fx = await startService(store);
  });

  it('a fire alarm without the drill’s mark during a drill is real, and its push says so', async () => {
    const { service, notifier } = fx;
    const drill = await service.createDrill({ name: '冬季消防演练', institutions: ['yy-a'], endsAt: T0 + HOUR }, 'op');
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + S));
    const alert = service.openAlerts()[0];
    expect(alert).toMatchObject({ rule: 'fire-alarm', drill: false, duringDrillId: drill.id });
    expect(alert?.drillId).toBeUndefined();
    const push = notifier.sent[0];
    expect(push).toMatchObject({ drill: false, realDuringDrill: true });
    const t = text(push as NonNullable<typeof push>);
    expect(t).toMatch(/^\[非演练\]【火警】桃花源养老院/);
    expect(t).toContain('非演练：真实火警');
    expect(t).not.toContain('[演练]');
    expect(t).not.toContain('无需拨打119');
    expect(smsTemplateParams(push as NonNullable<typeof push>, T0).tag).toBe('非演练火警');
    // It escalates like any real fire alarm, and counts in the county's figures.
    expect(alert?.escalation.state).toBe('active');
    expect((await service.summary(T0)).openedSince).toBe(1);
  });

  it('a drillId that names no running drill of the institution is treated as real, never dropped', async () => {
    const { service, notifier } = fx;
    const drill = await service.createDrill({ name: '演练', institutions: ['yy-b'], endsAt: T0 + HOUR }, 'op');
    // yy-a has no drill: a gateway left in drill mode, or another institution's drill id.
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + S, { drillId: drill.id }));
    service.handle(deviceEvent('k-1', 'kitchen', 'gas', T0 + S, { drillId: 'dr_unknown' }));
    expect(service.openAlerts().map((a) => [a.rule, a.drill])).toEqual([
      ['fire-alarm', false],
      ['kitchen-device-alarm', false],
    ]);
    expect(notifier.sent.map((n) => [n.rule, n.drill])).toEqual([
      ['fire-alarm', false],
      ['kitchen-device-alarm', false],
    ]);
  });

  it('drill telemetry raises drill alerts; the same reading without the mark is real', async () => {
    const { service } = fx;
    const drill = await service.createDrill({ name: '厨房演练', institutions: ['yy-a'], endsAt: T0 + HOUR }, 'op');
    service.handle(kitchen('k-1', 60, T0 + S, { drillId: drill.id }));
    expect(service.openAlerts().find((a) => a.rule === 'kitchen-heat-alarm')).toMatchObject({
      drill: true,
      drillId: drill.id,
    });
  });

  it('a real alarm on a device whose drill alert is still open closes the drill’s and opens a real one', async () => {
    const { service, notifier, clock } = fx;
    const drill = await service.createDrill({ name: '演练', institutions: ['yy-a'], endsAt: T0 + HOUR }, 'op');
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + S, { drillId: drill.id }));
    const drillAlert = service.openAlerts()[0];
    clock.now = T0 + 20 * S;
    await service.acknowledge(drillAlert?.id as string, 'mgr', '演练，已到场');
    // The same detector, now without the drill's mark: smoke for real.
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 30 * S));
    const open = service.openAlerts();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ drill: false, duringDrillId: drill.id, status: 'open', occurrences: 1 });
    expect(open[0]?.id).not.toBe(drillAlert?.id);
    expect(notifier.sent.map((n) => [n.alertId === drillAlert?.id ? 'drill' : 'real', n.drill])).toEqual([
      ['drill', true],
      ['real', false],
    ]);
    await service.flushed();
    const closed = await service.get(drillAlert?.id as string);
    expect(closed.alert).toMatchObject({ status: 'closed', drill: true, closedBy: 'system' });
    expect(closed.transitions.at(-1)?.note).toContain('按真实报警处理');
    // The drill's score keeps its alert as it was; the real one is not in it.
    const { report } = await service.drillReport(drill.id);
    expect(report.alerts.map((a) => a.alertId)).toEqual([drillAlert?.id]);
    // Repeats of the real alarm stay on the real alert.
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 40 * S));
    expect(service.openAlerts()[0]).toMatchObject({ id: open[0]?.id, occurrences: 2 });
  });
});

/** A gateway command transport that answers as each gateway is scripted to. */
class ScriptedCommands implements GatewayCommands {
  readonly sent: { gateway: string; name: CommandName; args?: Record<string, unknown> }[] = [];
  answer: (gateway: string, name: CommandName) => 'ok' | 'refuse' | 'silent' = () => 'ok';

  async send(target: GatewayAddress, name: CommandName, args?: Record<string, unknown>): Promise<CommandReplyPayload> {
    this.sent.push({ gateway: target.gateway, name, ...(args ? { args } : {}) });
    const a = this.answer(target.gateway, name);
    if (a === 'silent') throw new AlertingError('ANL_ALERT_COMMAND_TIMEOUT', `no reply from ${target.gateway}`);
    return { v: 1, ts: T0, seq: 1, id: 'c1', ok: a === 'ok', detail: a === 'ok' ? `${name} ok` : 'busy' };
  }
}

describe('the county starts and stops a drill at its gateways', () => {
  let commands: ScriptedCommands;
  beforeEach(async () => {
    store = await openTestStore();
    commands = new ScriptedCommands();
    fx = await startService(store, { deps: { commands } });
  });

  it('sends drill-start with the drill id to every gateway of its institutions, and records their answers', async () => {
    const { service, clock } = fx;
    commands.answer = (gateway) => (gateway === 'gw-2' ? 'silent' : 'ok');
    const drill = await service.createDrill({ name: '演练', institutions: ['yy-a', 'yy-b'], endsAt: T0 + HOUR }, 'op');
    await service.drillCommandsSettled();
    expect(commands.sent).toEqual([
      { gateway: 'gw-1', name: 'drill-start', args: { drill: drill.id, until: T0 + HOUR } },
      { gateway: 'gw-2', name: 'drill-start', args: { drill: drill.id, until: T0 + HOUR } },
    ]);
    const states = () =>
      (service.listDrills().find((d) => d.id === drill.id)?.gateways ?? []).map(
        (g) => `${g.command} ${g.gateway} ${g.state}`,
      );
    expect(states()).toEqual(['drill-start gw-1 confirmed', 'drill-start gw-2 no_reply']);

    // Ending it stops the gateways that were asked to start; the ticks after send nothing more.
    clock.now = T0 + 10 * S;
    await service.endDrill(drill.id, 'op');
    service.tick(T0 + 11 * S);
    await service.drillCommandsSettled();
    expect(commands.sent.map((c) => `${c.name} ${c.gateway}`)).toEqual([
      'drill-start gw-1',
      'drill-start gw-2',
      'drill-stop gw-1',
      'drill-stop gw-2',
    ]);
    expect(states()).toEqual([
      'drill-start gw-1 confirmed',
      'drill-stop gw-1 confirmed',
      'drill-start gw-2 no_reply',
      'drill-stop gw-2 no_reply',
    ]);
    // The answers are in the store: a restart shows them and sends nothing again.
    await service.flushed();
    await service.stop();
    fx = await startService(store, { deps: { commands }, now: T0 + 12 * S });
    fx.service.tick(T0 + 13 * S);
    await fx.service.drillCommandsSettled();
    expect(commands.sent).toHaveLength(4);
    expect(fx.service.listDrills()[0]?.gateways?.map((g) => g.state)).toEqual([
      'confirmed',
      'confirmed',
      'no_reply',
      'no_reply',
    ]);
  });

  it('a planned drill starts at its gateways when its window opens, and stops when it closes', async () => {
    const { service } = fx;
    const drill = await service.createDrill(
      { name: '演练', institutions: ['yy-b'], startsAt: T0 + 60 * S, endsAt: T0 + 120 * S },
      'op',
    );
    service.tick(T0 + 30 * S);
    await service.drillCommandsSettled();
    expect(commands.sent).toEqual([]);
    service.tick(T0 + 60 * S);
    await service.drillCommandsSettled();
    expect(commands.sent.map((c) => `${c.name} ${c.gateway}`)).toEqual(['drill-start gw-2']);
    service.tick(T0 + 121 * S);
    await service.drillCommandsSettled();
    expect(commands.sent.map((c) => `${c.name} ${c.gateway}`)).toEqual(['drill-start gw-2', 'drill-stop gw-2']);
    expect(
      service
        .listDrills()
        .find((d) => d.id === drill.id)
        ?.gateways?.every((g) => g.state === 'confirmed'),
    ).toBe(true);
  });
});
