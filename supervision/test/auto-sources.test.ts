import { type AlertingDatabase, AlertingService, defaultRuleSet, type NotificationSink } from '@anlian/alerting';
import { silentLogger } from '@anlian/runtime';
import type { Kysely } from 'kysely';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hazard } from '../src/hazards/hazard.js';
import type { DutyCheckReadModel } from '../src/read-model/duty-check-read-model.js';
import {
  DAY,
  deviceEvent,
  type Fixture,
  gatewayStatus,
  gauge,
  HOUR,
  MANAGER_A,
  MIN,
  OPERATOR,
  openFixture,
  T0,
} from './support.js';

const quietSink: NotificationSink = { start() {}, async stop() {}, dispatch() {}, cancel() {} };

/**
 * Every automatic source, fed by the real alerting service writing its real tables: each cause
 * opens exactly one hazard, however often the sources are scanned, and a hazard closes only once
 * its cause has cleared and a person has reviewed it — in either order.
 */
describe('automatic hazard sources', () => {
  let f: Fixture;
  let alerting: AlertingService;
  const clock = { now: T0 };

  const byRule = async (rule: string, institution?: string): Promise<Hazard[]> =>
    (await f.sup.ledger.list({ county: 'youyang', source: 'auto', limit: 500 })).hazards.filter(
      (h) => h.sourceRule === rule && (institution === undefined || h.institution === institution),
    );
  const reconcile = async (at: number) => {
    clock.now = at;
    f.clock.now = at;
    await alerting.flushed();
    return f.sup.reconciler.reconcile('youyang', at);
  };

  beforeAll(async () => {
    f = await openFixture();
    alerting = new AlertingService({
      db: f.db as unknown as Kysely<AlertingDatabase>,
      logger: silentLogger(),
      metrics: new Registry(),
      rules: defaultRuleSet(),
      notifier: quietSink,
      clock: () => clock.now,
      // Absence rules are not under test: the service ticks only when a test says so.
      tickMs: 3_600_000,
      snapshotMs: 3_600_000,
    });
    await alerting.start();
    // What goes wrong at T0: a gauge under pressure, a camera losing its signal, a detector
    // disabled (屏蔽), six fire alarms at yy-b, each verified false, and then yy-b's gateway gone.
    alerting.handle(gauge('ext-1', 0.6, T0));
    alerting.handle(deviceEvent('yy-a', 'gw-1', 'cam-1', 'camera', 'signal_loss', T0));
    alerting.handle(deviceEvent('yy-a', 'gw-1', 'smoke-2', 'fire', 'disabled', T0));
    for (let i = 0; i < 6; i++) {
      clock.now = T0 + i * MIN;
      alerting.handle(deviceEvent('yy-b', 'gw-2', 'smoke-1', 'fire', 'fire', clock.now));
      const alert = alerting.openAlerts('yy-b').find((a) => a.rule === 'fire-alarm');
      if (!alert) throw new Error('no fire alarm raised');
      await alerting.verify(alert.id, 'yy-b', 'false_alarm', '厨房油烟');
      await alerting.close(alert.id, 'yy-b');
    }
    // After the alarms (a message from a gateway is a sign of life), gw-2's last will.
    clock.now = T0 + 10 * MIN;
    alerting.handle(gatewayStatus('gw-2', 'yy-b', 'offline', clock.now));
    await alerting.flushed();
  });
  afterAll(async () => {
    await alerting?.stop();
    await f?.close();
  });

  it('opens nothing for a condition younger than 24 h; six false alarms in a day open one hazard', async () => {
    const r = await reconcile(T0 + 23 * HOUR);
    expect(r.failed).toEqual([]);
    expect(await byRule('extinguisher-pressure')).toEqual([]);
    expect(await byRule('camera-down')).toEqual([]);
    expect(await byRule('detector-fault')).toEqual([]);
    expect(await byRule('gateway-offline')).toEqual([]);
    const fa = await byRule('false-alarms');
    expect(fa).toHaveLength(1);
    expect(fa[0]).toMatchObject({
      institution: 'yy-b',
      source: 'auto',
      status: 'assigned',
      category: 'fire_facilities',
      evidence: expect.objectContaining({ falseAlarms: 6, fireAlarms: 6, limit: 5 }),
      // yy-b has no fire-safety officer: its manager owns it.
      owner: { contactId: 'mgr', name: '冉小红' },
      deadlineAt: T0 + 23 * HOUR + 7 * DAY,
    });
    // Both institutions were registered 400 days ago and never held a drill (seed 001: one a year).
    expect((await byRule('drill-missed')).map((h) => h.institution).sort()).toEqual(['yy-a', 'yy-b']);
  });

  it('opens exactly one hazard per cause after 24 h, however often the sources are scanned', async () => {
    await reconcile(T0 + 25 * HOUR);
    await reconcile(T0 + 26 * HOUR);
    await reconcile(T0 + 26 * HOUR + 5 * MIN);
    const ext = await byRule('extinguisher-pressure');
    expect(ext).toHaveLength(1);
    expect(ext[0]).toMatchObject({
      institution: 'yy-a',
      causeKey: 'extinguisher-pressure:extinguisher-under-pressure:gw-1/ext-1',
      location: '1号楼 2层 走廊',
      owner: { contactId: 'fire', name: '白国强' },
      evidence: expect.objectContaining({ rule: 'extinguisher-under-pressure', device: 'ext-1', value: 0.6 }),
    });
    expect(ext[0]?.description).toMatch(/灭火器欠压（灭火器 走廊）.*超过 24 小时未恢复/);
    expect(await byRule('camera-down')).toHaveLength(1);
    expect((await byRule('detector-fault'))[0]?.evidence).toMatchObject({
      rule: 'fire-detector-disabled',
      device: 'smoke-2',
    });
    expect((await byRule('gateway-offline'))[0]).toMatchObject({ institution: 'yy-b', severity: 'general' });
    expect(await byRule('false-alarms')).toHaveLength(1);
    expect(await byRule('drill-missed')).toHaveLength(2);
    // The false alarms are out of the 24 h window now: that cause is gone, its hazard stays open.
    const fa = (await byRule('false-alarms'))[0];
    expect(fa).toMatchObject({ status: 'assigned', causeClearedAt: T0 + 25 * HOUR });
    expect(f.audit.filter((a) => a.hazard === fa?.id).map((a) => a.action)).toEqual([
      'hazard.found',
      'hazard.assigned',
      'hazard.cause_cleared',
    ]);
  });

  it('closes a hazard whose cause cleared only after the county reviewed the work', async () => {
    // The gauge is back in range: alerting closes its alert; the hazard records the cause gone.
    clock.now = T0 + 27 * HOUR;
    alerting.handle(gauge('ext-1', 1.2, clock.now));
    await reconcile(T0 + 27 * HOUR + MIN);
    let [ext] = await byRule('extinguisher-pressure');
    if (!ext) throw new Error('no hazard');
    expect(ext).toMatchObject({ status: 'assigned', causeClearedAt: T0 + 27 * HOUR + MIN });
    // Nobody reviewed it: it stays open however long the gauge stays fine.
    await reconcile(T0 + 40 * HOUR);
    [ext] = await byRule('extinguisher-pressure');
    expect(ext?.status).toBe('assigned');
    await f.sup.ledger.submit(ext?.id ?? '', { measures: '更换灭火器并充装至1.2MPa', photos: [] }, MANAGER_A);
    const closed = await f.sup.ledger.review(ext?.id ?? '', { result: 'accepted', note: '照片核实' }, OPERATOR);
    expect(closed).toMatchObject({ status: 'closed' });
    expect((await f.sup.ledger.detail(closed.id))?.transitions.at(-1)).toMatchObject({
      event: 'closed',
      actor: 'system',
      note: '原因已消除且已复查通过，自动销号',
    });
  });

  it('keeps a reviewed hazard open until its cause clears, then closes it by itself', async () => {
    let [cam] = await byRule('camera-down');
    if (!cam) throw new Error('no hazard');
    await f.sup.ledger.submit(cam.id, { measures: '已报修，更换电源适配器', photos: [] }, MANAGER_A);
    cam = await f.sup.ledger.review(cam.id, { result: 'accepted' }, OPERATOR);
    expect(cam.status).toBe('reviewed');
    // The camera still reports no signal: reviewed, not closed.
    await reconcile(T0 + 41 * HOUR);
    expect((await byRule('camera-down'))[0]?.status).toBe('reviewed');
    clock.now = T0 + 42 * HOUR;
    alerting.handle(deviceEvent('yy-a', 'gw-1', 'cam-1', 'camera', 'restore', clock.now));
    await reconcile(T0 + 42 * HOUR + MIN);
    const [after] = await byRule('camera-down');
    expect(after).toMatchObject({ status: 'closed', closedAt: T0 + 42 * HOUR + MIN });
    // The cause is closed with its hazard: a new loss of signal is a new cause, later a new hazard.
  });

  it('keeps the same hazard when a cleared cause comes back before the hazard closed', async () => {
    clock.now = T0 + 43 * HOUR;
    alerting.handle(gatewayStatus('gw-2', 'yy-b', 'online', clock.now));
    await reconcile(T0 + 43 * HOUR + MIN);
    const [gw] = await byRule('gateway-offline');
    expect(gw?.causeClearedAt).toBe(T0 + 43 * HOUR + MIN);
    clock.now = T0 + 44 * HOUR;
    alerting.handle(gatewayStatus('gw-2', 'yy-b', 'offline', clock.now));
    // Offline again, for more than 24 h: the same cause, the same hazard, the cause back.
    await reconcile(T0 + 69 * HOUR);
    const again = await byRule('gateway-offline');
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ id: gw?.id, causeClearedAt: null });
    const events = (await f.sup.ledger.detail(gw?.id ?? ''))?.transitions.map((t) => t.event);
    expect(events).toEqual(['found', 'assigned', 'cause_cleared', 'cause_returned']);
  });

  it('clears a missed-drill cause when the institution holds a drill', async () => {
    await alerting.createDrill(
      { name: '消防疏散演练', institutions: ['yy-a'], startsAt: T0 + 70 * HOUR, endsAt: T0 + 71 * HOUR },
      'operator',
    );
    await reconcile(T0 + 72 * HOUR);
    const drills = await byRule('drill-missed');
    expect(drills.find((h) => h.institution === 'yy-a')?.causeClearedAt).toBe(T0 + 72 * HOUR);
    expect(drills.find((h) => h.institution === 'yy-b')?.causeClearedAt).toBeNull();
  });

  it('takes a configured source off: it neither opens nor clears', async () => {
    const sources = await f.sup.settings.get('youyang', 'sources');
    await f.sup.settings.set(
      'youyang',
      'sources',
      { ...sources, sources: sources.sources.map((s) => (s.id === 'detector-fault' ? { ...s, enabled: false } : s)) },
      'admin',
    );
    clock.now = T0 + 73 * HOUR;
    alerting.handle(deviceEvent('yy-a', 'gw-1', 'smoke-2', 'fire', 'restore', clock.now));
    await reconcile(T0 + 73 * HOUR + MIN);
    expect((await byRule('detector-fault'))[0]?.causeClearedAt).toBeNull();
    await f.sup.settings.reset('youyang', 'sources');
    await reconcile(T0 + 74 * HOUR);
    expect((await byRule('detector-fault'))[0]?.causeClearedAt).toBe(T0 + 74 * HOUR);
  });
});

describe('sources without their data', () => {
  it('leave their hazards as they are when alerting’s tables are not on the store', async () => {
    const f = await openFixture(undefined, { alerting: false });
    try {
      const { hazard } = await f.sup.ledger.open(
        {
          institution: 'yy-a',
          category: 'video',
          severity: 'general',
          source: 'auto',
          sourceRule: 'camera-down',
          causeKey: 'camera-down:camera-offline:gw-1/cam-1',
          title: '摄像机离线或故障超过24小时',
          description: '（旧数据）',
        },
        OPERATOR,
      );
      const r = await f.sup.reconciler.reconcile('youyang', T0);
      expect(r.skipped).toEqual(expect.arrayContaining(['camera-down', 'false-alarms', 'drill-missed']));
      expect((await f.sup.ledger.get(hazard.id))?.causeClearedAt).toBeNull();
    } finally {
      await f.close();
    }
  });

  it('opens one hazard for duty checks the fire control room did not answer (alerting’s duty_checks)', async () => {
    const f = await openFixture();
    try {
      const row = (id: string, status: string, at: number) => ({
        id,
        county_id: 'youyang',
        institution_id: 'yy-a',
        gateway_id: 'gw-1',
        requested_at: at,
        requested_by: 'operator',
        source: 'schedule',
        answer_window_s: 600,
        status,
        answered_at: status === 'answered' ? at + 60_000 : null,
        operator: null,
        completed_at: at + 600_000,
        detail: null,
      });
      await (f.db as unknown as Kysely<AlertingDatabase>)
        .insertInto('duty_checks')
        .values([
          row('dc_1', 'answered', T0 - 5 * HOUR),
          row('dc_2', 'unanswered', T0 - 3 * HOUR),
          row('dc_3', 'unreachable', T0 - 2 * HOUR),
        ])
        .execute();
      await f.sup.reconciler.reconcile('youyang', T0);
      await f.sup.reconciler.reconcile('youyang', T0 + MIN);
      const duty = (await f.sup.ledger.list({ county: 'youyang' })).hazards.filter(
        (h) => h.sourceRule === 'duty-check-missed',
      );
      expect(duty).toHaveLength(1);
      expect(duty[0]).toMatchObject({ institution: 'yy-a', evidence: expect.objectContaining({ unanswered: 2 }) });
      // A day without a missed check: the cause is gone (the hazard waits for its review).
      await f.sup.reconciler.reconcile('youyang', T0 + 23 * HOUR);
      expect((await f.sup.ledger.get(duty[0]?.id ?? ''))?.causeClearedAt).toBe(T0 + 23 * HOUR);
      // And the grade counts them.
      const [e] = await f.sup.grader.explain('youyang', { at: T0, institutions: ['yy-a'] });
      expect(e?.factors.find((x) => x.id === 'duty_checks_missed')?.value).toBe(2);
    } finally {
      await f.close();
    }
  });

  it('a duty-check source is one read model away: unanswered checks open one hazard per institution', async () => {
    const counts = new Map([['yy-a', 2]]);
    const dutyChecks: DutyCheckReadModel = { unansweredCounts: async () => counts };
    const f = await openFixture(undefined, { deps: { dutyChecks } });
    try {
      const sources = await f.sup.settings.get('youyang', 'sources');
      await f.sup.settings.set(
        'youyang',
        'sources',
        {
          ...sources,
          sources: sources.sources.map((s) => (s.id === 'duty-check-missed' ? { ...s, enabled: true } : s)),
        },
        'admin',
      );
      await f.sup.reconciler.reconcile('youyang', T0);
      await f.sup.reconciler.reconcile('youyang', T0 + MIN);
      const duty = (await f.sup.ledger.list({ county: 'youyang' })).hazards.filter(
        (h) => h.sourceRule === 'duty-check-missed',
      );
      expect(duty).toHaveLength(1);
      expect(duty[0]).toMatchObject({ institution: 'yy-a', owner: { contactId: 'fire' } });
      counts.clear();
      await f.sup.reconciler.reconcile('youyang', T0 + 2 * MIN);
      expect((await f.sup.ledger.get(duty[0]?.id ?? ''))?.causeClearedAt).toBe(T0 + 2 * MIN);
    } finally {
      await f.close();
    }
  });
});
