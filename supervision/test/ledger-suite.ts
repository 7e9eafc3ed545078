import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreLease } from '../src/scheduler/store-lease.js';
import { DAY, type DialectFactory, type Fixture, HOUR, MANAGER_A, OPERATOR, openFixture, T0 } from './support.js';

/** The ledger, its store and the grade store, run on each dialect (SQLite here, PostgreSQL in the .int test). */
export function ledgerSuite(factory: DialectFactory): void {
  let f: Fixture;
  beforeAll(async () => {
    f = await openFixture(factory);
  });
  afterAll(async () => {
    await f?.close();
  });

  const manual = (title: string, extra: Record<string, unknown> = {}) =>
    f.sup.ledger.open(
      {
        institution: 'yy-a',
        category: 'daily_management',
        severity: 'general',
        source: 'manual',
        title,
        description: `${title}（检查时发现）`,
        ...extra,
      },
      OPERATOR,
    );

  describe('the closed loop', () => {
    it('goes found → assigned → rectifying → submitted → reviewed → closed, every step recorded and audited', async () => {
      f.clock.now = T0;
      const { hazard, created } = await manual('安全出口指示灯不亮');
      expect(created).toBe(true);
      expect(hazard.status).toBe('found');
      const assigned = await f.sup.ledger.assign(
        hazard.id,
        { ownerContactId: 'mgr', deadlineAt: T0 + 7 * DAY, note: '请一周内更换' },
        OPERATOR,
      );
      expect(assigned).toMatchObject({
        status: 'assigned',
        owner: { contactId: 'mgr', name: '龙丽萍' },
        deadlineAt: T0 + 7 * DAY,
        supervisor: 'operator',
        nextEscalationAt: T0 + 7 * DAY,
      });
      f.clock.now = T0 + DAY;
      expect((await f.sup.ledger.start(hazard.id, '已联系厂家', MANAGER_A)).status).toBe('rectifying');
      f.clock.now = T0 + 2 * DAY;
      const submitted = await f.sup.ledger.submit(
        hazard.id,
        { measures: '更换了2只应急指示灯并试验合格', photos: ['ph_1'] },
        MANAGER_A,
      );
      expect(submitted).toMatchObject({ status: 'submitted', submittedAt: T0 + 2 * DAY, nextEscalationAt: null });
      f.clock.now = T0 + 3 * DAY;
      const closed = await f.sup.ledger.review(hazard.id, { result: 'accepted', note: '现场复查合格' }, OPERATOR);
      expect(closed).toMatchObject({ status: 'closed', reviewedAt: T0 + 3 * DAY, closedAt: T0 + 3 * DAY });

      const d = await f.sup.ledger.detail(hazard.id);
      expect(d?.transitions.map((t) => [t.event, t.from, t.to, t.actor])).toEqual([
        ['found', null, 'found', 'operator'],
        ['assigned', 'found', 'assigned', 'operator'],
        ['rectifying', 'assigned', 'rectifying', 'yy-a'],
        ['submitted', 'rectifying', 'submitted', 'yy-a'],
        ['accepted', 'submitted', 'reviewed', 'operator'],
        ['closed', 'reviewed', 'closed', 'system'],
      ]);
      expect(d?.transitions[2]?.note).toBe('已联系厂家');
      expect(d?.rectifications).toEqual([
        expect.objectContaining({
          measures: '更换了2只应急指示灯并试验合格',
          photos: ['ph_1'],
          review: 'accepted',
          reviewedBy: 'operator',
          reviewNote: '现场复查合格',
        }),
      ]);
      expect(f.audit.filter((a) => a.hazard === hazard.id).map((a) => `${a.action}:${a.actor}`)).toEqual([
        'hazard.found:operator',
        'hazard.assigned:operator',
        'hazard.rectifying:yy-a',
        'hazard.submitted:yy-a',
        'hazard.accepted:operator',
        'hazard.closed:system',
      ]);
    });

    it('sends work back with a reason (required) and takes a second submission', async () => {
      f.clock.now = T0;
      const { hazard } = await manual('疏散通道堆放杂物', {
        ownerContactId: 'mgr',
        deadlineAt: T0 + 5 * DAY,
      });
      expect(hazard.status).toBe('assigned');
      await f.sup.ledger.submit(hazard.id, { measures: '已清理', photos: [] }, MANAGER_A);
      await expect(f.sup.ledger.review(hazard.id, { result: 'rejected' }, OPERATOR)).rejects.toThrow(/reason/);
      const back = await f.sup.ledger.review(hazard.id, { result: 'rejected', note: '二层仍有纸箱' }, OPERATOR);
      expect(back).toMatchObject({ status: 'rectifying', submittedAt: null, nextEscalationAt: T0 + 5 * DAY });
      await f.sup.ledger.submit(hazard.id, { measures: '二层纸箱已搬走', photos: ['ph_2'] }, MANAGER_A);
      const done = await f.sup.ledger.review(hazard.id, { result: 'accepted' }, OPERATOR);
      expect(done.status).toBe('closed');
      const d = await f.sup.ledger.detail(hazard.id);
      expect(d?.rectifications.map((r) => [r.review, r.reviewNote])).toEqual([
        ['rejected', '二层仍有纸箱'],
        ['accepted', null],
      ]);
    });

    it('refuses steps out of order, owners who are not the institution’s contacts and past deadlines', async () => {
      f.clock.now = T0;
      const { hazard } = await manual('配电箱周边堆放可燃物');
      await expect(f.sup.ledger.submit(hazard.id, { measures: 'x', photos: [] }, MANAGER_A)).rejects.toMatchObject({
        code: 'ANL_SUP_TRANSITION_INVALID',
        statusCode: 409,
      });
      await expect(f.sup.ledger.review(hazard.id, { result: 'accepted' }, OPERATOR)).rejects.toMatchObject({
        code: 'ANL_SUP_TRANSITION_INVALID',
      });
      // yy-b's manager is not a contact of yy-a.
      await expect(
        f.sup.ledger.assign(hazard.id, { ownerContactId: 'nobody', deadlineAt: T0 + DAY }, OPERATOR),
      ).rejects.toMatchObject({ code: 'ANL_SUP_INVALID' });
      await expect(
        f.sup.ledger.assign(hazard.id, { ownerContactId: 'mgr', deadlineAt: T0 - 1 }, OPERATOR),
      ).rejects.toMatchObject({ code: 'ANL_SUP_INVALID' });
      const w = await f.sup.ledger.withdraw(hazard.id, '录入重复', OPERATOR);
      expect(w.status).toBe('closed');
      await expect(f.sup.ledger.withdraw(hazard.id, '再次', OPERATOR)).rejects.toMatchObject({
        code: 'ANL_SUP_TRANSITION_INVALID',
      });
    });

    it('keeps one open hazard per cause, and a new one once the first is closed', async () => {
      const cause = 'test-cause:gw-1/ext-1';
      const a = await manual('同一原因', { causeKey: cause });
      const b = await manual('同一原因', { causeKey: cause });
      expect(a.created).toBe(true);
      expect(b.created).toBe(false);
      expect(b.hazard.id).toBe(a.hazard.id);
      // Both at once (two nodes): still one.
      const [c, d] = await Promise.all([manual('并发', { causeKey: 'race' }), manual('并发', { causeKey: 'race' })]);
      expect(c.hazard.id).toBe(d.hazard.id);
      expect([c.created, d.created].filter(Boolean)).toHaveLength(1);
      await f.sup.ledger.withdraw(a.hazard.id, '测试', OPERATOR);
      const again = await manual('同一原因', { causeKey: cause });
      expect(again.created).toBe(true);
      expect(again.hazard.id).not.toBe(a.hazard.id);
    });
  });

  describe('deadlines', () => {
    it('claims an overdue hazard for escalation once per round, across two claimers', async () => {
      f.clock.now = T0;
      const { hazard } = await manual('逾期测试', { ownerContactId: 'mgr', deadlineAt: T0 + DAY });
      expect(await f.sup.ledger.claimEscalations(DAY, T0 + DAY - 1)).toEqual([]);
      const [x, y] = await Promise.all([
        f.sup.ledger.claimEscalations(DAY, T0 + DAY),
        f.sup.ledger.claimEscalations(DAY, T0 + DAY),
      ]);
      const mine = [...x, ...y].filter((h) => h.id === hazard.id);
      expect(mine).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        escalationCount: 1,
        overdue: true,
        overdueAt: T0 + DAY,
        nextEscalationAt: T0 + 2 * DAY,
      });
      expect((await f.sup.ledger.claimEscalations(DAY, T0 + 2 * DAY - 1)).some((h) => h.id === hazard.id)).toBe(false);
      const second = await f.sup.ledger.claimEscalations(DAY, T0 + 2 * DAY);
      expect(second.find((h) => h.id === hazard.id)?.escalationCount).toBe(2);
      // Submitted: the county has the ball; no more escalation.
      f.clock.now = T0 + 2 * DAY + HOUR;
      await f.sup.ledger.submit(hazard.id, { measures: '已整改', photos: [] }, MANAGER_A);
      expect((await f.sup.ledger.claimEscalations(DAY, T0 + 10 * DAY)).some((h) => h.id === hazard.id)).toBe(false);
    });

    it('claims a reminder once, within the window before the deadline', async () => {
      f.clock.now = T0;
      const { hazard } = await manual('提醒测试', { ownerContactId: 'mgr', deadlineAt: T0 + 3 * DAY });
      expect((await f.sup.ledger.claimReminders(DAY, T0 + DAY)).some((h) => h.id === hazard.id)).toBe(false);
      const r = await f.sup.ledger.claimReminders(DAY, T0 + 2 * DAY);
      expect(r.find((h) => h.id === hazard.id)?.remindedAt).toBe(T0 + 2 * DAY);
      expect((await f.sup.ledger.claimReminders(DAY, T0 + 2 * DAY + HOUR)).some((h) => h.id === hazard.id)).toBe(false);
    });
  });

  describe('the lists', () => {
    it('filters and pages the hazard list, newest first, with the total', async () => {
      f.clock.now = T0 + 20 * DAY;
      for (let i = 0; i < 7; i++) {
        await f.sup.ledger.open(
          {
            institution: 'yy-b',
            category: 'service_safety',
            severity: i % 2 === 0 ? 'major' : 'general',
            source: 'inspection',
            title: `分页 ${i}`,
            description: `防跌倒 扶手松动 ${i}`,
            foundAt: T0 + 20 * DAY + i * HOUR,
          },
          OPERATOR,
        );
      }
      const p1 = await f.sup.ledger.list({ county: 'youyang', institution: 'yy-b', limit: 3 });
      expect(p1.total).toBe(7);
      expect(p1.hazards.map((h) => h.title)).toEqual(['分页 6', '分页 5', '分页 4']);
      const p2 = await f.sup.ledger.list({
        county: 'youyang',
        institution: 'yy-b',
        limit: 3,
        cursor: p1.nextCursor ?? '',
      });
      const p3 = await f.sup.ledger.list({
        county: 'youyang',
        institution: 'yy-b',
        limit: 3,
        cursor: p2.nextCursor ?? '',
      });
      expect([...p2.hazards, ...p3.hazards].map((h) => h.title)).toEqual(['分页 3', '分页 2', '分页 1', '分页 0']);
      expect(p3.nextCursor).toBeNull();
      const majors = await f.sup.ledger.list({ county: 'youyang', institution: 'yy-b', severity: 'major' });
      expect(majors.total).toBe(4);
      expect((await f.sup.ledger.list({ county: 'youyang', q: '扶手' })).total).toBe(7);
      // LIKE wildcards in the search text are literal.
      expect((await f.sup.ledger.list({ county: 'youyang', q: '%' })).total).toBe(0);
      expect((await f.sup.ledger.list({ county: 'other' })).total).toBe(0);
    });

    it('lists overdue hazards and the rectification list', async () => {
      f.clock.now = T0 + 30 * DAY;
      const overdue = await f.sup.ledger.list({ county: 'youyang', overdue: true });
      expect(overdue.hazards.length).toBeGreaterThan(0);
      expect(overdue.hazards.every((h) => h.overdue && h.deadlineAt !== null && h.deadlineAt <= f.clock.now)).toBe(
        true,
      );
      const rows = await f.sup.ledger.rectifications({ county: 'youyang', institution: 'yy-a' });
      expect(rows.length).toBeGreaterThanOrEqual(3);
      expect(rows[0]).toMatchObject({ institution: 'yy-a', hazardTitle: expect.any(String) });
    });
  });

  describe('figures for reports', () => {
    it('counts found, closed, on time, open and overdue for a period', async () => {
      const figures = await f.sup.figures.hazardFigures({
        county: 'youyang',
        institution: 'yy-a',
        from: T0 - DAY,
        to: T0 + 40 * DAY,
      });
      expect(figures.found).toBeGreaterThanOrEqual(6);
      expect(figures.closed).toBe(2); // the first two; withdrawn ones are counted apart
      expect(figures.closedOnTime).toBe(2);
      expect(figures.withdrawn).toBeGreaterThanOrEqual(2);
      expect(figures.openAtEnd).toBe(figures.found - figures.closed - figures.withdrawn);
      expect(figures.becameOverdue).toBeGreaterThanOrEqual(1);
      expect(figures.bySource.manual).toBe(figures.found);
      expect(figures.meanDaysToClose).toBeGreaterThan(0);
    });
  });

  describe('grades', () => {
    it('stores the current grade, a history point per change or day, and answers gradeAt', async () => {
      const at1 = T0 + 50 * DAY;
      await f.sup.grader.recompute('youyang', { at: at1, reason: 'request' });
      const current = await f.sup.grader.current('youyang');
      expect(current.map((g) => g.institution)).toEqual(['yy-a', 'yy-b']);
      const b1 = current.find((g) => g.institution === 'yy-b');
      // yy-b has 4 open major hazards: the floor makes it at least orange.
      expect(b1?.explanation.floor).toEqual({ rule: 'openMajorHazard', grade: 'orange' });
      // The same day, same grade: no new history point.
      await f.sup.grader.recompute('youyang', { at: at1 + HOUR, reason: 'schedule' });
      // Four complaints (the factor's full weight) under a stricter policy: yy-b turns red, a new point.
      f.clock.now = at1 + HOUR;
      for (let i = 0; i < 4; i++) {
        await f.sup.countyInputs.record(
          { institution: 'yy-b', kind: 'complaint', at: at1 + HOUR, note: `投诉${i}` },
          OPERATOR,
        );
      }
      await f.sup.settings.set('youyang', 'grading', { thresholds: { red: 30, orange: 20, yellow: 10 } }, 'admin');
      f.clock.now = at1 + 2 * HOUR;
      await f.sup.grader.recompute('youyang', { at: at1 + 2 * HOUR, reason: 'inputs' });
      const hist = await f.sup.grader.history('yy-b', at1 - DAY, at1 + DAY);
      expect(hist.map((h) => [h.at, h.grade])).toEqual([
        [at1, 'orange'],
        [at1 + 2 * HOUR, 'red'],
      ]);
      expect(hist[1]?.score).toBeGreaterThan(hist[0]?.score ?? Number.POSITIVE_INFINITY);
      expect((await f.sup.grader.gradeAt('yy-b', at1 + HOUR))?.at).toBe(at1);
      expect(await f.sup.grader.gradeAt('yy-b', at1 - 1)).toBeUndefined();
      // A new day: a point even without a change (the history is at least daily).
      await f.sup.grader.recompute('youyang', { at: at1 + DAY, reason: 'schedule' });
      expect((await f.sup.grader.history('yy-a', at1 - DAY, at1 + 2 * DAY)).map((h) => h.at)).toEqual([at1, at1 + DAY]);
      await f.sup.settings.reset('youyang', 'grading');
      const all = await f.sup.figures.gradesAt('youyang', at1 + 3 * HOUR);
      expect(all.map((g) => [g.institution, g.at])).toEqual([
        ['yy-a', at1],
        ['yy-b', at1 + 2 * HOUR],
      ]);
      const dist = await f.sup.figures.gradeDistribution('youyang', at1 + 3 * HOUR);
      expect(Object.values(dist).reduce((a, b) => a + b, 0)).toBe(2);
    });
  });

  describe('settings, checklists, photos, leases', () => {
    it('stores a county’s settings with defaults filled in and refuses invalid ones', async () => {
      expect((await f.sup.settings.record('youyang', 'ledger')).isDefault).toBe(true);
      const v = await f.sup.settings.set('youyang', 'ledger', { escalateEveryHours: 12 }, 'admin');
      expect(v).toMatchObject({ escalateEveryHours: 12, remindBeforeHours: 24 });
      expect(await f.sup.settings.get('youyang', 'ledger')).toEqual(v);
      await expect(
        f.sup.settings.set('youyang', 'grading', { thresholds: { red: 10, orange: 20, yellow: 5 } }, 'admin'),
      ).rejects.toMatchObject({ code: 'ANL_SUP_CONFIG_INVALID' });
      await f.sup.settings.reset('youyang', 'ledger');
      expect((await f.sup.settings.record('youyang', 'ledger')).isDefault).toBe(true);
    });

    it('ships the checklists and keeps the county’s edits with a version', async () => {
      const lists = await f.sup.checklists.list('youyang');
      const mca = lists.find((c) => c.checklist.id === 'mca-2023-major-hazards');
      expect(mca?.checklist.items).toHaveLength(22);
      expect(new Set(mca?.checklist.items.map((i) => i.category)).size).toBe(5);
      expect(lists.find((c) => c.checklist.id === 'gb-38600-2019')?.checklist.items).toHaveLength(9);
      const edited = structuredClone(mca?.checklist);
      if (!edited) throw new Error('no checklist');
      edited.items.push({
        ...edited.items[0],
        id: 'L1',
        text: '本县细化：彩钢板房未拆除',
        textEn: '',
        basis: '县细化',
        hint: '',
      } as never);
      const saved = await f.sup.checklists.save('youyang', edited, 'admin');
      expect(saved.version).toBe(1);
      expect((await f.sup.checklists.get('youyang', edited.id)).checklist.items).toHaveLength(23);
      expect((await f.sup.checklists.save('youyang', edited, 'admin')).version).toBe(2);
      await expect(
        f.sup.checklists.save('youyang', { ...edited, items: [{ ...edited.items[0], category: 'nope' }] }, 'admin'),
      ).rejects.toMatchObject({ code: 'ANL_SUP_CONFIG_INVALID' });
    });

    it('stores photos by their real type and refuses what is not an image', async () => {
      const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(32, 1)]);
      const id = await f.sup.photos.put({
        county: 'youyang',
        institution: 'yy-a',
        contentType: 'image/jpeg',
        bytes: png,
        by: 'yy-a',
      });
      const back = await f.sup.photos.get(id);
      expect(back?.contentType).toBe('image/png');
      expect(back?.bytes.equals(png)).toBe(true);
      await expect(
        f.sup.photos.put({
          county: 'youyang',
          institution: 'yy-a',
          contentType: 'image/jpeg',
          bytes: Buffer.from('<svg onload=alert(1)>'),
          by: 'yy-a',
        }),
      ).rejects.toMatchObject({ code: 'ANL_SUP_PHOTO_INVALID' });
    });

    it('gives a lease to one holder at a time, and to another once it expires or is released', async () => {
      const a = new StoreLease(f.sdb, 'test-lease', 'node-a', 1000);
      const b = new StoreLease(f.sdb, 'test-lease', 'node-b', 1000);
      const [ra, rb] = await Promise.all([a.acquire(T0), b.acquire(T0)]);
      expect([ra, rb].filter(Boolean)).toHaveLength(1);
      const holder = ra ? a : b;
      const other = ra ? b : a;
      expect(await holder.acquire(T0 + 500)).toBe(true);
      expect(await other.acquire(T0 + 1400)).toBe(false);
      expect(await other.acquire(T0 + 1501)).toBe(true);
      expect(await holder.acquire(T0 + 1600)).toBe(false);
      await other.release();
      expect(await holder.acquire(T0 + 1700)).toBe(true);
    });
  });
}
