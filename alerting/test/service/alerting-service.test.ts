import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AlertingError } from '../../src/errors.js';
import { deviceEvent, GW, heartbeat, kitchen, S, status, T0 } from '../support.js';
import { openTestStore, type ServiceFixture, type StoreFixture, startService, testCounty } from './service-support.js';

let store: StoreFixture;
let fx: ServiceFixture;

afterEach(async () => {
  await fx?.service.stop();
  await store?.close();
});

describe('the alarm path', () => {
  beforeEach(async () => {
    store = await openTestStore();
    fx = await startService(store);
  });

  it('raises one alert for a fire event, pushes it at once to level 0, and counts repeats', async () => {
    const { service, notifier } = fx;
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0));
    // Dispatched synchronously in handle(): nothing stored yet, nothing awaited.
    expect(notifier.sent).toHaveLength(1);
    const n = notifier.sent[0];
    expect(n).toMatchObject({
      kind: 'raised',
      severity: 'critical',
      rule: 'fire-alarm',
      level: 0,
      drill: false,
      institution: { id: 'yy-a', name: '桃花源养老院' },
      location: { building: '1号楼', floor: '2层', room: '201室' },
      device: { id: 'smoke-1', kind: 'fire', name: '烟感 201' },
    });
    expect(n?.recipients.map((r) => r.contactId)).toEqual(['mgr']);

    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 2 * S));
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 4 * S));
    expect(notifier.sent).toHaveLength(1);
    const open = service.openAlerts();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ status: 'open', occurrences: 3, lastSeenAt: T0 + 4 * S });

    const [stored] = await service.list({});
    expect(stored).toMatchObject({ id: open[0]?.id, occurrences: 3, status: 'open' });
    const detail = await service.get(open[0]?.id as string);
    expect(detail.transitions).toEqual([expect.objectContaining({ seq: 1, from: null, to: 'open', actor: 'system' })]);
  });

  it('never closes a fire alarm when the detector recovers; a person verifies, then closes', async () => {
    const { service } = fx;
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0));
    service.handle(deviceEvent('smoke-1', 'fire', 'restore', T0 + 30 * S));
    const [alert] = service.openAlerts();
    expect(alert?.status).toBe('open');
    const id = alert?.id as string;

    await expect(service.close(id, 'operator-1')).rejects.toMatchObject({ code: 'ANL_ALERT_TRANSITION_INVALID' });
    fx.clock.now = T0 + 60 * S;
    await service.acknowledge(id, 'manager:yy-a', '已到现场');
    fx.clock.now = T0 + 120 * S;
    await service.verify(id, 'manager:yy-a', 'false_alarm', '厨房油烟误报');
    fx.clock.now = T0 + 180 * S;
    const closed = await service.close(id, 'manager:yy-a', '已复位');
    expect(closed).toMatchObject({ status: 'closed', verdict: 'false_alarm', closedBy: 'manager:yy-a' });
    expect(service.openAlerts()).toHaveLength(0);

    const detail = await service.get(id);
    expect(detail.transitions.map((t) => [t.from, t.to, t.actor, t.note ?? null])).toEqual([
      [null, 'open', 'system', '火警'],
      ['open', 'acknowledged', 'manager:yy-a', '已到现场'],
      ['acknowledged', 'verified', 'manager:yy-a', '厨房油烟误报'],
      ['verified', 'closed', 'manager:yy-a', '已复位'],
    ]);
    expect(detail.transitions.map((t) => t.at)).toEqual([T0, T0 + 60 * S, T0 + 120 * S, T0 + 180 * S]);
    await expect(service.acknowledge(id, 'x')).rejects.toBeInstanceOf(AlertingError);

    // A new fire event after closing opens a new alert.
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 200 * S));
    expect(service.openAlerts()[0]?.id).not.toBe(id);
  });

  it('gives every transition its own alert_event time, also when several fall in one millisecond', async () => {
    await fx.service.stop();
    const written: string[] = [];
    fx = await startService(store, {
      deps: {
        events: {
          write: async (lines: string[]) => {
            written.push(...lines);
          },
        },
      },
    });
    const { service } = fx;
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0));
    const id = service.openAlerts()[0]?.id as string;
    // The clock stands still: acknowledged, verified and closed in the millisecond it opened.
    await service.acknowledge(id, 'mgr', '收到');
    await service.verify(id, 'mgr', 'test', '演示');
    await service.close(id, 'mgr');
    const times = written.map((l) => Number(l.slice(l.lastIndexOf(' ') + 1)));
    expect(written.map((l) => /,to="([a-z]+)"/.exec(l)?.[1])).toEqual(['open', 'acknowledged', 'verified', 'closed']);
    expect(times).toEqual([T0, T0 + 1, T0 + 2, T0 + 3]);
    // The store keeps each transition's exact time.
    expect((await service.get(id)).transitions.map((t) => t.at)).toEqual([T0, T0, T0, T0]);
  });

  it('closes an auto-resolving alert when its condition clears', async () => {
    const { service } = fx;
    service.handle(kitchen('k-1', 51, T0));
    const [warning] = service.openAlerts();
    expect(warning).toMatchObject({ rule: 'kitchen-heat-warning', severity: 'major', resolve: 'auto' });
    service.handle(kitchen('k-1', 40, T0 + 60 * S));
    expect(service.openAlerts()).toHaveLength(0);
    const detail = await service.get(warning?.id as string);
    expect(detail.alert).toMatchObject({ status: 'closed', closedBy: 'system', clearedAt: T0 + 60 * S });
  });

  it('escalates to the deputy, then the duty officer, then reminds, and stops at acknowledge', async () => {
    const { service, notifier, clock } = fx;
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0));
    const id = service.openAlerts()[0]?.id as string;
    const at = (s: number) => {
      clock.now = T0 + s * S;
      service.handle(heartbeat(clock.now)); // keeps the gateway-offline rule out of the way
      service.tick();
    };
    // Only this alert's pushes: devices that never report raise their own offline alerts meanwhile.
    const sent = () => notifier.sent.filter((n) => n.alertId === id);
    at(119);
    expect(sent()).toHaveLength(1);
    at(120);
    expect(sent().at(-1)).toMatchObject({ kind: 'escalated', level: 1, notificationId: `${id}/L1R0` });
    expect(
      sent()
        .at(-1)
        ?.recipients.map((r) => r.contactId),
    ).toEqual(['dep']);
    at(300);
    expect(sent().at(-1)).toMatchObject({ kind: 'escalated', level: 2 });
    expect(
      sent()
        .at(-1)
        ?.recipients.map((r) => r.contactId),
    ).toEqual(['duty']);
    at(600);
    expect(sent().at(-1)).toMatchObject({ kind: 'reminder', level: 2, notificationId: `${id}/L2R1` });
    expect(
      sent()
        .at(-1)
        ?.recipients.map((r) => r.contactId)
        .sort(),
    ).toEqual(['dep', 'duty', 'mgr']);
    expect(sent()).toHaveLength(4);

    clock.now = T0 + 650 * S;
    await service.acknowledge(id, 'duty-officer');
    expect(notifier.cancelled).toContain(id);
    at(3600);
    expect(sent()).toHaveLength(4);
    expect(service.openAlerts()[0]?.escalation).toEqual({ level: 2, round: 1, state: 'stopped' });
  });

  it('keeps major alerts to the first level and pushes minor ones to nobody', () => {
    const { service, notifier, clock } = fx;
    service.handle(kitchen('k-1', 51, T0)); // kitchen-heat-warning: major
    expect(notifier.sent).toHaveLength(1);
    const warning = service.openAlerts()[0];
    expect(warning?.escalation.state).toBe('done');
    clock.now = T0 + 3600 * S;
    service.tick();
    expect(notifier.sent.filter((n) => n.alertId === warning?.id)).toHaveLength(1);
    const before = notifier.sent.length;
    service.handle(deviceEvent('smoke-1', 'fire', 'supervisory', clock.now)); // fire-supervisory: minor
    expect(service.openAlerts().some((a) => a.rule === 'fire-supervisory')).toBe(true);
    expect(notifier.sent).toHaveLength(before);
  });

  it('a silence records alerts in its scope without pushing them; others still push', async () => {
    const { service, notifier } = fx;
    const silence = await service.createSilence(
      { scope: { institution: 'yy-a' }, endsAt: T0 + 3600 * S, reason: '消防系统年检' },
      'admin',
    );
    service.handle(deviceEvent('ext-1', 'extinguisher', 'low_pressure', T0 + S));
    service.handle(deviceEvent('smoke-1', 'fire', 'fault', T0 + S, { institution: 'yy-b', gateway: 'gw-2' }));
    const [a, b] = [...service.openAlerts()].sort((x, y) => x.institution.localeCompare(y.institution));
    expect(a).toMatchObject({ institution: 'yy-a', silenced: true, silenceId: silence.id });
    expect(b).toMatchObject({ institution: 'yy-b', silenced: false });
    expect(notifier.sent.map((n) => n.institution.id)).toEqual(['yy-b']);

    await service.expireSilence(silence.id, 'admin');
    service.handle(deviceEvent('k-1', 'kitchen', 'fault', T0 + 2 * S));
    expect(notifier.sent.map((n) => n.institution.id)).toEqual(['yy-b', 'yy-a']);
    await expect(service.createSilence({ scope: {}, endsAt: T0 + S, reason: 'x' }, 'admin')).rejects.toMatchObject({
      code: 'ANL_ALERT_REQUEST_INVALID',
    });
  });

  it('tags drill alerts, pushes them marked as drill, and scores the drill', async () => {
    const { service, notifier, clock } = fx;
    const drill = await service.createDrill(
      { name: '2026年冬季消防演练', institutions: ['yy-a'], endsAt: T0 + 3600 * S },
      'admin',
    );
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 10 * S, { drillId: drill.id }));
    const alert = service.openAlerts()[0];
    expect(alert).toMatchObject({ drill: true, drillId: drill.id });
    expect(notifier.sent[0]?.drill).toBe(true);
    clock.now = T0 + 40 * S;
    await service.acknowledge(alert?.id as string, 'mgr');
    clock.now = T0 + 100 * S;
    await service.verify(alert?.id as string, 'mgr', 'test');
    clock.now = T0 + 130 * S;
    await service.close(alert?.id as string, 'mgr');
    await service.endDrill(drill.id, 'admin');

    const { report, csv } = await service.drillReport(drill.id);
    expect(report.summary).toMatchObject({
      alerts: 1,
      acknowledged: 1,
      closed: 1,
      meanToAcknowledgeS: 30,
      meanToVerifyS: 90,
      meanToCloseS: 120,
      silentInstitutions: [],
    });
    expect(csv.startsWith('\uFEFFalertId,institution,')).toBe(true);
    expect(csv).toContain(',30,90,120,test,closed');

    // After the drill, alarms are real again, its mark or not.
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 200 * S, { drillId: drill.id }));
    expect(service.openAlerts()[0]?.drill).toBe(false);
    // Drills are not counted in the county's figures.
    const summary = await service.summary(T0);
    expect(summary.openedSince).toBe(1);
  });

  it('marks the pushes of a drill for drill channels only', async () => {
    const { service, notifier } = fx;
    const drill = await service.createDrill(
      { name: '夜间演练', institutions: ['yy-b'], endsAt: T0 + 3600 * S, recipients: 'drill-channels' },
      'admin',
    );
    service.handle(
      deviceEvent('smoke-1', 'fire', 'fire', T0 + S, { institution: 'yy-b', gateway: 'gw-2', drillId: drill.id }),
    );
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + S));
    expect(notifier.sent.map((n) => [n.institution.id, n.drill, n.drillChannelsOnly ?? false])).toEqual([
      ['yy-b', true, true],
      ['yy-a', false, false],
    ]);
  });

  it('validates escalation policies and follows an institution’s own', async () => {
    const { service, notifier, clock } = fx;
    await expect(service.setPolicy('yy-a', { levels: [{ afterS: 10, roles: ['manager'] }] }, 'admin')).rejects.toThrow(
      /levels\.0\.afterS: the first level is notified at once/,
    );
    await service.setPolicy(
      'yy-a',
      {
        levels: [
          { afterS: 0, roles: ['manager'] },
          { afterS: 30, roles: ['duty_officer'] },
        ],
        repeatEveryS: 0,
      },
      'admin',
    );
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0));
    clock.now = T0 + 30 * S;
    service.tick();
    expect(notifier.sent.map((n) => n.recipients.map((r) => r.contactId))).toEqual([['mgr'], ['duty']]);
    expect(service.openAlerts()[0]?.escalation.state).toBe('done');
  });
});

describe('restarts', () => {
  it('resumes open alerts and a pending escalation after a restart, notifying the due level once', async () => {
    store = await openTestStore();
    fx = await startService(store);
    fx.service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0));
    const id = fx.service.openAlerts()[0]?.id as string;
    await fx.service.stop();

    // Down for 5 minutes: level 1 (120 s) and level 2 (300 s) both fell due meanwhile.
    fx = await startService(store, { now: T0 + 310 * S });
    expect(fx.service.openAlerts().map((a) => a.id)).toEqual([id]);
    expect(fx.notifier.sent.map((n) => n.notificationId)).toEqual([`${id}/L2R0`]);
    // The engine kept its latch: the detector still in alarm is a repeat, not a new alert.
    fx.service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 320 * S));
    expect(fx.service.openAlerts()).toHaveLength(1);
    expect(fx.service.openAlerts()[0]?.occurrences).toBe(2);
    await fx.service.acknowledge(id, 'mgr');
    await fx.service.stop();

    fx = await startService(store, { now: T0 + 2000 * S });
    expect(fx.notifier.sent).toHaveLength(0);
    expect(fx.service.openAlerts()[0]).toMatchObject({ id, status: 'acknowledged', occurrences: 2 });
  });

  it('a person closing an alert after the engine state was saved does not leave the engine latched', async () => {
    store = await openTestStore();
    fx = await startService(store);
    fx.service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0));
    const id = fx.service.openAlerts()[0]?.id as string;
    await fx.service.stop(); // saves the engine state with the alert open
    fx = await startService(store, { now: T0 + 10 * S });
    await fx.service.verify(id, 'mgr', 'test');
    await fx.service.close(id, 'mgr');
    await fx.service.stop();
    fx = await startService(store, { now: T0 + 20 * S });
    fx.service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 21 * S));
    expect(fx.service.openAlerts()).toHaveLength(1);
    expect(fx.notifier.sent).toHaveLength(1);
  });
});

describe('the store away (issue 12: PostgreSQL stopped while a fire alarm is raised)', () => {
  /** The store's writes fail while `down` is set; `failures` counts the refused attempts. */
  function storeOutage(service: ServiceFixture['service']) {
    const state = { down: true, failures: 0 };
    const write = service.store.writeChanges.bind(service.store);
    vi.spyOn(service.store, 'writeChanges').mockImplementation(async (changes, now) => {
      if (state.down) {
        state.failures++;
        throw new Error('connect ECONNREFUSED (store down)');
      }
      return write(changes, now);
    });
    return state;
  }

  it('keeps a write that failed and stores it when the store is back: the alarm, its repeat, its transition', async () => {
    store = await openTestStore();
    fx = await startService(store);
    const { service, notifier } = fx;
    const outage = storeOutage(service);
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0));
    // Pushed at once, whatever the store does.
    expect(notifier.sent).toHaveLength(1);
    const id = service.openAlerts()[0]?.id as string;
    await vi.waitFor(() => expect(outage.failures).toBeGreaterThanOrEqual(2), { timeout: 5000 });
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 2 * S));
    outage.down = false;
    await service.flushed();

    const stored = await service.store.get(id);
    expect(stored).toMatchObject({ id, status: 'open', occurrences: 2 });
    expect(await service.store.transitions(id)).toEqual([
      expect.objectContaining({ seq: 1, from: null, to: 'open', actor: 'system' }),
    ]);
    expect(notifier.cancelled).toEqual([]);
    expect(service.openAlerts().map((a) => a.id)).toEqual([id]);
  });

  it('a write that reached the store although its answer was lost is written again without harm', async () => {
    store = await openTestStore();
    fx = await startService(store);
    const { service, notifier } = fx;
    const write = service.store.writeChanges.bind(service.store);
    // The commit goes through, the connection breaks before its answer (PostgreSQL shutting
    // down): the alarm's insert twice (and its retry once more), the acknowledgement's update once.
    const lose = new Set([1, 2, 4]);
    let calls = 0;
    vi.spyOn(service.store, 'writeChanges').mockImplementation(async (changes, now) => {
      const r = await write(changes, now);
      if (lose.has(++calls)) throw new Error('Connection terminated unexpectedly');
      return r;
    });
    service.handle(deviceEvent('smoke-1', 'fire', 'fire', T0));
    const id = service.openAlerts()[0]?.id as string;
    await service.flushed();
    await service.acknowledge(id, 'mgr');

    expect(calls).toBe(5);
    expect(await service.store.get(id)).toMatchObject({ id, status: 'acknowledged' });
    expect((await service.store.transitions(id)).map((t) => t.seq)).toEqual([1, 2]);
    // Still this node's alert: nothing adopted in its place, its escalation not cancelled by a mix-up.
    expect(service.openAlerts().map((a) => a.id)).toEqual([id]);
    expect(notifier.cancelled).toEqual([id]);
  });
});

describe('inhibition', () => {
  it('a dropped gateway with 200 devices yields exactly one alert', async () => {
    store = await openTestStore(testCounty(196));
    fx = await startService(store);
    const { service, notifier, clock } = fx;
    service.handle(status('online', T0));
    service.handle(heartbeat(T0));
    // The gateway's last will, then a long silence: every device behind it misses its reports.
    service.handle(status('offline', T0 + 10 * S, 'will'));
    for (const s of [60, 600, 3600, 4 * 3600]) {
      clock.now = T0 + s * S;
      service.tick();
    }
    // (yy-b's gateway never reported at all, and raises its own gateway-offline alert.)
    const open = service.openAlerts(GW.institution);
    expect(open.map((a) => `${a.rule}:${a.device ?? ''}`)).toEqual(['gateway-offline:']);
    expect(open[0]).toMatchObject({ gateway: GW.gateway, severity: 'critical' });
    expect(notifier.sent.filter((n) => n.kind === 'raised' && n.institution.id === GW.institution)).toHaveLength(1);
  });
});
