import type { AlertingDatabase } from '@anlian/alerting';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { explainGrade, type GradeInputs } from '../src/grading/grade-explanation.js';
import {
  DEFAULT_GRADING_POLICY,
  GRADE_RANK,
  type GradingPolicy,
  GradingPolicy as GradingPolicySchema,
  gradeOfScore,
} from '../src/grading/grading-policy.js';
import { seededRandom } from '../src/seeded-random.js';
import { DAY, type Fixture, HOUR, OPERATOR, openFixture, T0 } from './support.js';

const quiet: GradeInputs = {
  fireAlarms: 0,
  fireAlarmsTotal: 0,
  falseAlarms: 0,
  deviceOfflineShare: 0,
  openGeneral: 0,
  openMajor: 0,
  overdueGeneral: 0,
  overdueMajor: 0,
  drillMissed: 0,
  dutyChecksMissed: 0,
  complaints: 0,
  violations: 0,
  inspectionFindings: 0,
};
const ctx = { institution: 'yy-a', county: 'youyang', at: T0 };

describe('the grade and its explanation', () => {
  it('adds up: the factors’ contributions sum to the score, and the grade is the score’s unless a floor says so', () => {
    const random = seededRandom('grading-property');
    const int = (n: number) => Math.floor(random() * (n + 1));
    for (let k = 0; k < 500; k++) {
      const inputs: GradeInputs = {
        fireAlarms: int(4),
        fireAlarmsTotal: 0,
        falseAlarms: int(8),
        deviceOfflineShare: random() * 0.4,
        openGeneral: int(8),
        openMajor: int(2),
        overdueGeneral: int(4),
        overdueMajor: random() < 0.2 ? 1 : 0,
        drillMissed: random() < 0.3 ? 1 : 0,
        dutyChecksMissed: random() < 0.1 ? null : int(5),
        complaints: int(5),
        violations: int(2),
        inspectionFindings: int(7),
      };
      inputs.fireAlarmsTotal = (inputs.fireAlarms ?? 0) + (inputs.falseAlarms ?? 0);
      const policy: GradingPolicy = GradingPolicySchema.parse({
        factors: DEFAULT_GRADING_POLICY.factors.map((f) => ({
          ...f,
          weight: Math.round(random() * 2000) / 100,
          saturation: 0.1 + random() * 5,
        })),
      });
      const e = explainGrade(inputs, policy, ctx);
      const sumCents = e.factors.reduce((s, f) => s + Math.round(f.contribution * 100), 0);
      expect(Math.round(e.score * 100)).toBe(sumCents);
      for (const f of e.factors) {
        expect(f.contribution).toBeGreaterThanOrEqual(0);
        expect(f.contribution).toBeLessThanOrEqual(f.weight);
      }
      expect(e.scoreGrade).toBe(gradeOfScore(e.score, policy.thresholds));
      if (e.floor === null) expect(e.grade).toBe(e.scoreGrade);
      else {
        expect(GRADE_RANK[e.grade]).toBeGreaterThan(GRADE_RANK[e.scoreGrade]);
        expect(e.grade).toBe(e.floor.grade);
      }
      if (inputs.overdueMajor > 0) expect(e.grade).toBe('red');
      else if (inputs.openMajor > 0) expect(GRADE_RANK[e.grade]).toBeGreaterThanOrEqual(GRADE_RANK.orange);
      expect(e.inspectionsPerYear).toBe(policy.inspectionsPerYear[e.grade]);
    }
  });

  it('follows its inputs: more of any factor never lowers the score, and enough of them turns the grade', () => {
    const base = explainGrade(quiet, DEFAULT_GRADING_POLICY, ctx);
    expect(base).toMatchObject({ score: 0, grade: 'blue', floor: null });
    const keys = Object.keys(quiet) as (keyof GradeInputs)[];
    for (const k of keys) {
      let last = 0;
      for (let v = 0; v <= 6; v++) {
        const inputs = { ...quiet, [k]: k === 'deviceOfflineShare' ? v / 20 : v };
        if (k === 'falseAlarms') inputs.fireAlarmsTotal = v + 1;
        const s = explainGrade(inputs, DEFAULT_GRADING_POLICY, ctx).score;
        expect(s).toBeGreaterThanOrEqual(last);
        last = s;
      }
    }
    // Complaints and violations (seeds 003/004), general hazards and findings: a poor institution.
    const poor = explainGrade(
      { ...quiet, complaints: 3, violations: 1, openGeneral: 5, overdueGeneral: 3, inspectionFindings: 5 },
      DEFAULT_GRADING_POLICY,
      ctx,
    );
    expect(poor.score).toBe(10 + 5 + 10 + 10 + 5);
    expect(poor.grade).toBe('orange');
    const worse = explainGrade(
      {
        ...quiet,
        complaints: 3,
        violations: 1,
        openGeneral: 5,
        overdueGeneral: 3,
        inspectionFindings: 5,
        fireAlarms: 2,
      },
      DEFAULT_GRADING_POLICY,
      ctx,
    );
    expect(worse.grade).toBe('red');
  });

  it('names inputs missing on this store and scores them zero', () => {
    const e = explainGrade(
      { ...quiet, fireAlarms: null, fireAlarmsTotal: null, falseAlarms: null, deviceOfflineShare: null },
      DEFAULT_GRADING_POLICY,
      { ...ctx, dataGaps: ['alerts'] },
    );
    expect(e.dataGaps).toEqual(['alerts']);
    expect(e.factors.find((f) => f.id === 'fire_alarms')).toMatchObject({ value: null, contribution: 0 });
  });
});

describe('grading from the store', () => {
  let f: Fixture;
  let adb: Kysely<AlertingDatabase>;
  let n = 0;
  const alert = (
    institution: string,
    gateway: string,
    rule: string,
    opened: number,
    extra: Partial<{
      verdict: string;
      closed_at: number;
      cleared_at: number;
      drill_id: string;
      device_id: string;
    }> = {},
  ) => ({
    id: `al_${n++}`,
    key: `${rule}:${gateway}/${extra.device_id ?? '-'}:${n}`,
    open_key: extra.closed_at === undefined ? `${rule}:${gateway}:${n}` : null,
    rule,
    name_zh: rule,
    name_en: rule,
    severity: 'critical',
    resolve: 'manual',
    status: extra.closed_at === undefined ? 'open' : 'closed',
    verdict: extra.verdict ?? null,
    drill_id: extra.drill_id ?? null,
    silence_id: null,
    county_id: 'youyang',
    institution_id: institution,
    gateway_id: gateway,
    device_id: extra.device_id ?? null,
    device_kind: extra.device_id ? 'fire' : null,
    value: null,
    reason: '测试',
    occurrences: 1,
    opened_at: opened,
    last_seen_at: opened,
    cleared_at: extra.cleared_at ?? null,
    acknowledged_at: null,
    acknowledged_by: null,
    verified_at: null,
    verified_by: null,
    closed_at: extra.closed_at ?? null,
    closed_by: null,
    escalation_level: 0,
    escalation_round: 0,
    escalation_state: 'stopped',
    escalation_next_at: null,
    updated_at: opened,
  });

  beforeAll(async () => {
    f = await openFixture();
    adb = f.db as unknown as Kysely<AlertingDatabase>;
    const at = T0 - 10 * DAY;
    await adb
      .insertInto('alerts')
      .values([
        // yy-a: a real fire, an unverified alarm, two false alarms, a drill alarm (left out), one outside the window.
        alert('yy-a', 'gw-1', 'fire-alarm', at, { verdict: 'real_fire', closed_at: at + HOUR, device_id: 'smoke-1' }),
        alert('yy-a', 'gw-1', 'fire-alarm', at + DAY, { device_id: 'smoke-1' }),
        alert('yy-a', 'gw-1', 'fire-alarm', at + 2 * DAY, {
          verdict: 'false_alarm',
          closed_at: at + 2 * DAY + 60_000,
          device_id: 'smoke-2',
        }),
        alert('yy-a', 'gw-1', 'fire-alarm', at + 3 * DAY, {
          verdict: 'false_alarm',
          closed_at: at + 3 * DAY + 60_000,
          device_id: 'smoke-2',
        }),
        alert('yy-a', 'gw-1', 'fire-alarm', at + 4 * DAY, {
          drill_id: 'dr_1',
          closed_at: at + 4 * DAY + 60_000,
          device_id: 'smoke-1',
        }),
        alert('yy-a', 'gw-1', 'fire-alarm', T0 - 40 * DAY, {
          verdict: 'real_fire',
          closed_at: T0 - 40 * DAY + HOUR,
          device_id: 'smoke-1',
        }),
        // yy-b's only gateway (one device) offline for 3 of the 30 days: 10 % of its device-time.
        alert('yy-b', 'gw-2', 'gateway-offline', T0 - 6 * DAY, { cleared_at: T0 - 3 * DAY, closed_at: T0 - 3 * DAY }),
      ])
      .execute();
  });
  afterAll(async () => {
    await f?.close();
  });

  it('counts fire alarms, the false-alarm rate and the offline share from alerting’s tables', async () => {
    const [a, b] = await f.sup.grader.explain('youyang', { at: T0 });
    const fa = (id: string) => a?.factors.find((x) => x.id === id);
    // Alerting's migrations bring duty_checks too: every input is on this store.
    expect(a?.dataGaps).toEqual([]);
    expect(fa('fire_alarms')).toMatchObject({ value: 2, contribution: 10 });
    expect(fa('false_alarm_rate')).toMatchObject({ value: 0.5, contribution: 5 });
    expect(fa('device_offline')?.value).toBe(0);
    expect(fa('drills_missed')).toMatchObject({ value: 1, contribution: 5 });
    expect(fa('duty_checks_missed')).toMatchObject({ value: 0, contribution: 0 });
    expect(b?.factors.find((x) => x.id === 'device_offline')).toMatchObject({ value: 0.1, contribution: 5 });
  });

  it('moves with the ledger and the county’s inputs, and the stored explanation is the one shown', async () => {
    f.clock.now = T0;
    const before = (await f.sup.grader.recompute('youyang', { reason: 'request' })).find(
      (e) => e.institution === 'yy-b',
    );
    await f.sup.countyInputs.record(
      { institution: 'yy-b', kind: 'violation', at: T0 - DAY, note: '未按规定公示收费标准' },
      OPERATOR,
    );
    const { hazard } = await f.sup.ledger.open(
      {
        institution: 'yy-b',
        category: 'daily_management',
        severity: 'major',
        source: 'manual',
        title: '疏散通道被封闭',
        description: '二层疏散门上锁',
        ownerContactId: 'mgr',
        deadlineAt: T0 + HOUR,
      },
      OPERATOR,
    );
    f.clock.now = T0 + 2 * HOUR;
    const after = (await f.sup.grader.recompute('youyang', { reason: 'inputs', institutions: ['yy-b'] }))[0];
    expect(after?.score).toBe((before?.score ?? 0) + 5 + 15 + 10);
    // An overdue major hazard: red whatever the score (重大隐患挂牌督办).
    expect(after).toMatchObject({ grade: 'red', floor: { rule: 'overdueMajorHazard', grade: 'red' } });
    expect((await f.sup.grader.currentOf('yy-b'))?.explanation).toEqual(after);
    // Closing it brings the grade back down.
    await f.sup.ledger.submit(
      hazard.id,
      { measures: '已拆除门锁', photos: [] },
      { name: 'yy-b', role: 'institution_manager' },
    );
    await f.sup.ledger.review(hazard.id, { result: 'accepted' }, OPERATOR);
    const closed = (await f.sup.grader.recompute('youyang', { reason: 'inputs', institutions: ['yy-b'] }))[0];
    expect(closed?.score).toBe((before?.score ?? 0) + 5);
    expect(closed?.floor).toBeNull();
  });
});
