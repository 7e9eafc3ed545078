import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { replayDraw } from '../src/inspections/inspection-draw.js';
import { DAY, type Fixture, OPERATOR, openFixture, T0 } from './support.js';

describe('inspections', () => {
  let f: Fixture;
  beforeAll(async () => {
    f = await openFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  it('opens one hazard per failed item on submit, of the item’s severity, owned by the manager', async () => {
    f.clock.now = T0;
    const insp = await f.sup.inspections.start(
      { institution: 'yy-a', checklistId: 'mca-2023-major-hazards', kind: 'random' },
      OPERATOR,
    );
    expect(insp).toMatchObject({ status: 'draft', inspector: 'operator', checklistVersion: 0 });
    await f.sup.inspections.save(
      insp.id,
      { results: { F1: { result: 'pass' }, M6: { result: 'fail', note: '二层安全出口上锁' } } },
      OPERATOR,
    );
    await expect(
      f.sup.inspections.save(insp.id, { results: { NOPE: { result: 'pass' } } }, OPERATOR),
    ).rejects.toMatchObject({ code: 'ANL_SUP_INVALID' });
    const { inspection, hazards } = await f.sup.inspections.submit(
      insp.id,
      {
        results: {
          F1: { result: 'pass' },
          M6: { result: 'fail', note: '二层安全出口上锁', photos: ['ph_x'] },
          M9: { result: 'fail', note: '无演练记录' },
          O1: { result: 'na' },
        },
        summary: '抽查发现2项重大事故隐患',
        hazards: [{ itemId: 'M9', severity: 'general', deadlineAt: T0 + 10 * DAY }],
      },
      OPERATOR,
    );
    expect(inspection).toMatchObject({ status: 'submitted', findings: 2, submittedAt: T0 });
    expect(hazards.map((h) => [h.itemRef, h.severity, h.status, h.owner?.contactId, h.deadlineAt])).toEqual([
      ['M6', 'major', 'assigned', 'mgr', T0 + 30 * DAY],
      ['M9', 'general', 'assigned', 'mgr', T0 + 10 * DAY],
    ]);
    expect(hazards[0]).toMatchObject({
      source: 'inspection',
      inspectionId: insp.id,
      category: 'daily_management',
      description: '二层安全出口上锁',
      evidence: expect.objectContaining({ basis: '第六条', photos: ['ph_x'] }),
    });
    await expect(f.sup.inspections.submit(insp.id, {}, OPERATOR)).rejects.toMatchObject({
      code: 'ANL_SUP_INSPECTION_SUBMITTED',
    });
    expect((await f.sup.inspections.lastInspections('youyang')).get('yy-a')).toBe(T0);
  });
});

describe('the random inspection draw (双随机)', () => {
  it('is reproducible from its seed and weights institutions by grade', () => {
    const candidates = Array.from({ length: 40 }, (_, i) => ({
      institution: `i-${String(i).padStart(2, '0')}`,
      grade: i < 4 ? ('red' as const) : ('blue' as const),
      weight: i < 4 ? 8 : 1,
    }));
    const a = replayDraw(candidates, 5, ['甲', '乙', '丙', '丁'], 2, 'seed-1');
    expect(replayDraw(candidates, 5, ['甲', '乙', '丙', '丁'], 2, 'seed-1')).toEqual(a);
    expect(a).toHaveLength(5);
    expect(new Set(a.map((d) => d.institution)).size).toBe(5);
    for (const d of a) {
      expect(d.inspectors).toHaveLength(2);
      expect(new Set(d.inspectors).size).toBe(2);
    }
    // Over many draws a red institution (weight 8) is drawn far more often than a blue one (weight 1).
    const counts = new Map<string, number>();
    for (let s = 0; s < 400; s++) {
      for (const d of replayDraw(candidates, 5, [], 0, `s-${s}`)) counts.set(d.grade, (counts.get(d.grade) ?? 0) + 1);
    }
    const perRed = (counts.get('red') ?? 0) / 4;
    const perBlue = (counts.get('blue') ?? 0) / 36;
    expect(perRed / perBlue).toBeGreaterThan(3);
  });

  it('records who was drawn, with the seed and the grades at the time', async () => {
    const f = await openFixture();
    try {
      await f.sup.grader.recompute('youyang', { reason: 'request' });
      const d = await f.sup.draws.draw('youyang', { count: 1, inspectors: ['李明', '王芳', '张建国'] }, OPERATOR);
      expect(d.drawn).toHaveLength(1);
      expect(d.drawn[0]?.inspectors).toHaveLength(2);
      const [listed] = await f.sup.draws.list('youyang');
      expect(listed).toEqual(d);
      await expect(f.sup.draws.draw('youyang', { count: 3 }, OPERATOR)).rejects.toMatchObject({
        code: 'ANL_SUP_INVALID',
      });
    } finally {
      await f.close();
    }
  });
});
