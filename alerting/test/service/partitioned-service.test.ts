import type { CommandReplyPayload } from '@anlian/protocol';
import { silentLogger } from '@anlian/runtime';
import type { LeaseChange, PartitionLeases } from '@anlian/store';
import { afterEach, describe, expect, it } from 'vitest';
import { alertingApiOf } from '../../src/api/alerting-facade.js';
import type { GatewayCommands } from '../../src/commands/gateway-commands.js';
import { DutyCheckService } from '../../src/duty-checks/duty-check-service.js';
import type { AlertInput } from '../../src/engine/alert-input.js';
import { deviceEvent, S, T0 } from '../support.js';
import { openTestStore, type ServiceFixture, type StoreFixture, startService } from './service-support.js';

/** Leases the test hands out by hand: one partition (the whole county), held or not. */
class HandLeases implements PartitionLeases {
  readonly partitions = 1;
  #held = false;
  readonly #listeners = new Set<(c: LeaseChange) => void>();
  constructor(held: boolean) {
    this.#held = held;
  }
  holds(): boolean {
    return this.#held;
  }
  held(): number[] {
    return this.#held ? [0] : [];
  }
  onChange(l: (c: LeaseChange) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  describe() {
    return { holder: 'test', held: this.held(), partitions: 1 };
  }
  /** Gives the partition to this node and tells the service; resolves once it has taken over. */
  async take(service: { flushed(): Promise<void> }): Promise<void> {
    this.#held = true;
    for (const l of this.#listeners) l({ acquired: [0], lost: [] });
    // The takeover reads the store asynchronously; let it finish.
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 5));
    await service.flushed();
  }
}

let store: StoreFixture;
const nodes: ServiceFixture[] = [];
afterEach(async () => {
  for (const n of nodes.splice(0)) await n.service.stop();
  await store?.close();
});

const node = async (leases: HandLeases, now = T0): Promise<ServiceFixture> => {
  const fx = await startService(store, { now, deps: { leases, nodeId: leases.held().length ? 'active' : 'standby' } });
  nodes.push(fx);
  return fx;
};
const both = (a: ServiceFixture, b: ServiceFixture, e: AlertInput) => {
  a.service.handle(e);
  b.service.handle(e);
};

describe('an alerting node and its standby on one store', () => {
  it('the standby evaluates but does not act; it raises what the active node never stored when it takes over', async () => {
    store = await openTestStore();
    const activeLeases = new HandLeases(true);
    const standbyLeases = new HandLeases(false);
    const active = await node(activeLeases);
    const standby = await node(standbyLeases);

    // A fire alarm both hear: the active node raises and pushes it, the standby only remembers.
    both(active, standby, deviceEvent('smoke-1', 'fire', 'fire', T0 + S));
    await active.service.flushed();
    expect(active.notifier.sent).toHaveLength(1);
    expect(standby.notifier.sent).toHaveLength(0);
    expect(standby.service.openAlerts()).toHaveLength(0);

    // A second alarm reaches only the standby: the active node died before it could act on it.
    standby.service.handle(deviceEvent('k-1', 'kitchen', 'overheat', T0 + 2 * S));
    await standby.service.flushed();
    expect(standby.notifier.sent).toHaveLength(0);

    await standbyLeases.take(standby.service);
    // It took over the stored fire alarm and pushed its current level again (the dispatcher skips
    // what the delivery log shows as sent), and raised the alarm nobody had stored.
    const open = standby.service.openAlerts();
    expect(open.map((a) => a.rule).sort()).toEqual(['fire-alarm', 'kitchen-device-alarm'].sort());
    expect(open.find((a) => a.rule === 'fire-alarm')?.id).toBe(active.service.openAlerts()[0]?.id);
    expect(standby.notifier.sent.map((n) => n.rule).sort()).toEqual(['fire-alarm', 'kitchen-device-alarm'].sort());
    expect((await standby.service.list({ rule: 'fire-alarm' })).length).toBe(1);
  });

  it('does not raise again what a person closed after the standby saw it', async () => {
    store = await openTestStore();
    const activeLeases = new HandLeases(true);
    const standbyLeases = new HandLeases(false);
    const active = await node(activeLeases);
    const standby = await node(standbyLeases);
    both(active, standby, deviceEvent('smoke-1', 'fire', 'fire', T0 + S));
    const id = active.service.openAlerts()[0]?.id as string;
    active.clock.now = T0 + 60 * S;
    await active.service.verify(id, 'mgr', 'false_alarm');
    await active.service.close(id, 'mgr');
    await standbyLeases.take(standby.service);
    expect(standby.service.openAlerts()).toHaveLength(0);
    expect(standby.notifier.sent).toHaveLength(0);
  });

  it('refuses a person’s action on an alert of an institution it does not act for', async () => {
    store = await openTestStore();
    const active = await node(new HandLeases(true));
    const standby = await node(new HandLeases(false));
    both(active, standby, deviceEvent('smoke-1', 'fire', 'fire', T0 + S));
    await active.service.flushed();
    const id = active.service.openAlerts()[0]?.id as string;
    await expect(standby.service.acknowledge(id, 'mgr')).rejects.toMatchObject({ code: 'ANL_ALERT_NOT_OWNER' });
    // Reads work on any node: the county's open alerts from the store.
    expect((await standby.service.allOpenAlerts()).map((a) => a.id)).toEqual([id]);
  });

  it('an alert the active node raised but has not written yet: the standby sends the client on, it does not say "no such alert"', async () => {
    store = await openTestStore();
    const active = await node(new HandLeases(true));
    const standby = await node(new HandLeases(false));
    // Raised and published at once; its store write is behind, held here until the test lets it go.
    const alerts = active.service.store;
    const writeChanges = alerts.writeChanges.bind(alerts);
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    alerts.writeChanges = async (...args) => {
      await gate;
      return writeChanges(...args);
    };
    active.service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + S));
    const id = active.service.openAlerts()[0]?.id as string;
    expect(await standby.service.store.get(id)).toBeUndefined();
    await expect(standby.service.acknowledge(id, 'mgr')).rejects.toMatchObject({ code: 'ANL_ALERT_NOT_OWNER' });
    await expect(standby.service.get(id)).rejects.toMatchObject({ code: 'ANL_ALERT_NOT_OWNER' });
    release();
    await active.service.flushed();
    // The node that acts for the whole county knows: an id nobody raised does not exist.
    await expect(active.service.get('no-such-alert')).rejects.toMatchObject({ code: 'ANL_ALERT_NOT_FOUND' });
    await expect(active.service.acknowledge(id, 'mgr')).resolves.toMatchObject({ status: 'acknowledged' });
  });

  it('a partition taken while the node is still starting (its bulk lane thread starting) is taken over, not acted for blind', async () => {
    store = await openTestStore();
    const activeLeases = new HandLeases(true);
    const active = await node(activeLeases);
    active.service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + S));
    await active.service.flushed();
    const id = active.service.openAlerts()[0]?.id as string;

    // A restarted node: it has read the open alerts (none of its partitions) when the other node
    // gives it the partition, while its bulk lane thread is still starting.
    const leases = new HandLeases(false);
    let laneStarted = () => {};
    const laneGate = new Promise<void>((r) => {
      laneStarted = r;
    });
    let laneStarting = () => {};
    const inLaneStart = new Promise<void>((r) => {
      laneStarting = r;
    });
    const bulkLane = {
      start: async () => {
        laneStarting();
        await laneGate;
      },
      forward: () => {},
      closed: () => {},
      stop: async () => {},
    };
    const restarted = startService(store, { now: T0 + 10 * S, deps: { leases, nodeId: 'restarted', bulkLane } });
    await inLaneStart;
    await leases.take({ flushed: async () => {} });
    laneStarted();
    const fx = await restarted;
    nodes.push(fx);
    // Lets a takeover under way read the store.
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 5));
    await fx.service.flushed();

    // The fire alarm repeats (the broker replays what the restarted node's session kept): a repeat
    // of the stored alert, not a second alert and a second push.
    fx.service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 11 * S));
    await fx.service.flushed();
    expect(fx.service.openAlerts().map((a) => a.id)).toEqual([id]);
    expect(fx.notifier.sent.filter((n) => n.alertId !== id)).toEqual([]);
    expect((await fx.service.list({ rule: 'fire-alarm' })).map((a) => a.id)).toEqual([id]);
  });

  it('two nodes acting at once for a moment keep one open alert per key: the second takes the first’s', async () => {
    store = await openTestStore();
    const a = await node(new HandLeases(true));
    const b = await node(new HandLeases(true));
    both(a, b, deviceEvent('smoke-1', 'fire', 'fire', T0 + S));
    await a.service.flushed();
    await b.service.flushed();
    // b's own alert was not stored; b now holds a's.
    await b.service.flushed();
    expect(b.service.openAlerts().map((x) => x.id)).toEqual(a.service.openAlerts().map((x) => x.id));
    expect((await a.service.list({ rule: 'fire-alarm' })).length).toBe(1);
  });
});

describe('duty checks (查岗) on several alerting nodes', () => {
  it('a node that does not act for the institution refuses an operator’s check (503, the client asks the next node); once it does, it puts it', async () => {
    store = await openTestStore();
    const leases = new HandLeases(false);
    const standby = await node(leases);
    const sent: string[] = [];
    const commands: GatewayCommands = {
      async send(target, name) {
        sent.push(`${target.gateway}:${name}`);
        const reply: CommandReplyPayload = {
          v: 1,
          ts: T0,
          seq: 1,
          id: 'reply-1',
          ok: true,
          result: { answered: true },
        };
        return reply;
      },
    };
    const dutyChecks = new DutyCheckService({
      db: store.db,
      commands,
      raise: (s) => standby.service.signal(s),
      owns: (institution) => standby.service.actsFor(institution),
      logger: silentLogger(),
      clock: () => standby.clock.now,
    });
    const api = alertingApiOf(standby.service, dutyChecks);

    await expect(api.requestDutyCheck({ institution: 'yy-a', requestedBy: 'op' })).rejects.toMatchObject({
      code: 'ANL_ALERT_NOT_OWNER',
      statusCode: 503,
    });
    expect(sent).toEqual([]);
    expect(await api.listDutyChecks({ institution: 'yy-a' })).toEqual([]);

    await leases.take(standby.service);
    const [check] = await api.requestDutyCheck({ institution: 'yy-a', requestedBy: 'op' });
    expect(check).toMatchObject({ institution: 'yy-a', gateway: 'gw-1', status: 'pending', source: 'operator' });
    expect(sent).toEqual(['gw-1:duty-check']);
    await dutyChecks.stop();
    expect((await api.listDutyChecks({ institution: 'yy-a' })).map((c) => c.status)).toEqual(['answered']);
  });
});
