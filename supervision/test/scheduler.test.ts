import { silentLogger } from '@anlian/runtime';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HazardNotice, SupervisionNotifier } from '../src/hazards/supervision-notifier.js';
import { buildSupervision } from '../src/supervision.js';
import { DAY, type Fixture, HOUR, MANAGER_A, MIN, OPERATOR, openFixture, T0 } from './support.js';

class RecordingNotifier implements SupervisionNotifier {
  readonly duty: HazardNotice[] = [];
  readonly owners: HazardNotice[] = [];
  notifyCountyDutyOfficer(n: HazardNotice): void {
    this.duty.push(n);
  }
  remindOwner(n: HazardNotice): void {
    this.owners.push(n);
  }
}

/**
 * The scheduler on fake time: an overdue hazard goes to the county duty officer at its deadline
 * and again every escalation period until the work is submitted; the owner is reminded before;
 * with two dashboard nodes on one store, each notice goes out once.
 */
describe('supervision scheduler', () => {
  let f: Fixture;
  let notifier: RecordingNotifier;
  // Long ticks: escalations and reminders wake the scheduler at their own time, not a tick later.
  const TICK = 30 * 60_000;

  beforeEach(async () => {
    vi.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    notifier = new RecordingNotifier();
    f = await openFixture(undefined, { deps: { clock: () => Date.now(), notifier, scheduler: { tickMs: TICK } } });
  });
  afterEach(async () => {
    await f.close();
    vi.useRealTimers();
  });

  const openAssigned = async (deadlineAt: number) =>
    (
      await f.sup.ledger.open(
        {
          institution: 'yy-a',
          category: 'daily_management',
          severity: 'major',
          source: 'manual',
          title: '消防控制室夜间无人值班',
          description: '夜间检查时消防控制室无人',
          ownerContactId: 'mgr',
          deadlineAt,
        },
        OPERATOR,
      )
    ).hazard;

  it('escalates an overdue hazard at its deadline, again every period, and stops once submitted', async () => {
    const deadline = T0 + 30 * HOUR;
    const h = await openAssigned(deadline);
    f.sup.scheduler.start();
    await vi.advanceTimersByTimeAsync(deadline - T0 - 1);
    expect(notifier.duty).toEqual([]);
    // The reminder went to the owner 24 h before the deadline, once.
    expect(notifier.owners.map((n) => [n.kind, n.hazard.id, n.round])).toEqual([['due-soon', h.id, 0]]);
    expect(notifier.owners[0]?.at).toBe(deadline - DAY);

    await vi.advanceTimersByTimeAsync(1);
    expect(notifier.duty).toHaveLength(1);
    const first = notifier.duty[0];
    expect(first).toMatchObject({ kind: 'overdue', round: 1, institutionName: '桃花源养老院' });
    expect(first?.hazard).toMatchObject({ id: h.id, overdue: true, escalationCount: 1 });
    // At the deadline, to the millisecond, with 30-minute ticks.
    expect(first?.at).toBe(deadline);

    await vi.advanceTimersByTimeAsync(DAY - 1);
    expect(notifier.duty).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(notifier.duty.map((n) => [n.round, n.at])).toEqual([
      [1, deadline],
      [2, deadline + DAY],
    ]);
    await vi.advanceTimersByTimeAsync(DAY);
    expect(notifier.duty.map((n) => n.round)).toEqual([1, 2, 3]);

    await f.sup.ledger.submit(h.id, { measures: '已安排两人持证24小时值班', photos: [] }, MANAGER_A);
    await vi.advanceTimersByTimeAsync(3 * DAY);
    expect(notifier.duty).toHaveLength(3);
    const events = (await f.sup.ledger.detail(h.id))?.transitions.map((t) => t.event);
    expect(events).toEqual(['found', 'assigned', 'reminded', 'escalated', 'escalated', 'escalated', 'submitted']);
    // Sent back after the deadline: overdue again, the duty officer hears of it at the next tick.
    await f.sup.ledger.review(h.id, { result: 'rejected', note: '夜间仍为一人值班' }, OPERATOR);
    await vi.advanceTimersByTimeAsync(2000);
    expect(notifier.duty.map((n) => n.round)).toEqual([1, 2, 3, 4]);
  });

  it('follows the county’s escalation period', async () => {
    await f.sup.settings.set('youyang', 'ledger', { escalateEveryHours: 6 }, 'admin');
    await openAssigned(T0 + HOUR);
    f.sup.scheduler.start();
    await vi.advanceTimersByTimeAsync(HOUR + 13 * HOUR);
    expect(notifier.duty.map((n) => n.round)).toEqual([1, 2, 3]);
  });

  it('regrades an institution within seconds of a change to its hazards, and all on schedule', async () => {
    f.sup.scheduler.start();
    await vi.advanceTimersByTimeAsync(TICK);
    const before = await f.sup.grader.currentOf('yy-a');
    expect(before?.grade).toBe('blue');
    await openAssigned(T0 + 10 * DAY);
    await vi.advanceTimersByTimeAsync(2000);
    const after = await f.sup.grader.currentOf('yy-a');
    expect(after?.explanation.factors.find((x) => x.id === 'open_major_hazards')?.value).toBe(1);
    // One open major hazard: at least orange (the policy's floor).
    expect(after?.grade).toBe('orange');
    expect(after?.reason).toBe('inputs');
    await vi.advanceTimersByTimeAsync(61 * MIN + TICK);
    expect((await f.sup.grader.currentOf('yy-b'))?.reason).toBe('schedule');
  });

  it('runs once per county when two nodes run the scheduler on one store', async () => {
    const other = new RecordingNotifier();
    const second = buildSupervision({
      db: f.db,
      logger: silentLogger(),
      clock: () => Date.now(),
      notifier: other,
      scheduler: { tickMs: TICK, holder: 'node-b' },
    });
    await openAssigned(T0 + HOUR);
    f.sup.scheduler.start();
    second.scheduler.start();
    await vi.advanceTimersByTimeAsync(HOUR + 2 * DAY + TICK);
    const rounds = [...notifier.duty, ...other.duty].map((n) => n.round).sort();
    expect(rounds).toEqual([1, 2, 3]);
    // One node holds the county; when it stops, the other takes over at its next tick.
    const holder = notifier.duty.length > 0 ? f.sup.scheduler : second.scheduler;
    const standby = holder === f.sup.scheduler ? other : notifier;
    await holder.stop();
    await vi.advanceTimersByTimeAsync(DAY + TICK);
    expect(standby.duty.map((n) => n.round)).toEqual(expect.arrayContaining([4]));
    await second.scheduler.stop();
  });
});
