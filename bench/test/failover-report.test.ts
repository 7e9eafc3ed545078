import { describe, expect, it } from 'vitest';
import { parseAlarmBenchOptions } from '../src/alarm-latency/alarm-options.js';
import { FAILOVER_TARGET_MS, measureFailover, renderFailover } from '../src/alarm-latency/failover-report.js';

const KILL = 1_000_000;
const probe = (key: string, at: number) => ({ key, publishedAt: KILL + at });

describe('measureFailover (bench:alarm-latency --failover, issue 12)', () => {
  it('judges the alarms from 1 s before to 10 s after the kill by their first push, whichever node pushed', () => {
    const r = measureFailover({
      killed: 'alerting-bench',
      survivor: 'alerting-bench-2',
      killedAt: KILL,
      probes: [probe('g/old', -5000), probe('g/before', -300), probe('g/after', 200), probe('g/later', 4000)],
      pushesByKey: new Map([
        ['g/old', [KILL - 4990]],
        // Raised by the killed node, pushed by the survivor after its takeover: one duplicate.
        ['g/before', [KILL - 290, KILL + 2100]],
        ['g/after', [KILL + 2150]],
        ['g/later', [KILL + 4010]],
      ]),
    });
    expect(r.window.probes).toBe(3);
    expect(r.window.missing).toBe(0);
    expect(r.window.maxPushMs).toBe(1950);
    expect(r.window.firstAfterKill).toEqual({
      key: 'g/after',
      publishedAfterKillMs: 200,
      pushMs: 1950,
      killToPushMs: 2150,
    });
    expect(r.duplicatePushes).toBe(1);
    expect(r.overBound).toBe(0);
    expect(r.verdict.verdict).toBe('PASS');
    expect(renderFailover(r)).toContain('kill → its first push 2,150 ms');
  });

  it('fails when an alarm around the kill is never pushed, or pushed later than the target', () => {
    const lost = measureFailover({
      killed: 'a',
      survivor: 'b',
      killedAt: KILL,
      probes: [probe('g/1', 100)],
      pushesByKey: new Map(),
    });
    expect(lost.window.missing).toBe(1);
    expect(lost.window.maxPushMs).toBe(Number.POSITIVE_INFINITY);
    expect(lost.verdict.verdict).toBe('FAIL');
    const late = measureFailover({
      killed: 'a',
      survivor: 'b',
      killedAt: KILL,
      probes: [probe('g/1', 100)],
      pushesByKey: new Map([['g/1', [KILL + 100 + FAILOVER_TARGET_MS + 1]]]),
    });
    expect(late.verdict.verdict).toBe('FAIL');
  });

  it('counts an alarm pushed three times as beyond the bound', () => {
    const r = measureFailover({
      killed: 'a',
      survivor: 'b',
      killedAt: KILL,
      probes: [probe('g/1', 100)],
      pushesByKey: new Map([['g/1', [KILL + 150, KILL + 900, KILL + 1200]]]),
    });
    expect(r.duplicatePushes).toBe(2);
    expect(r.overBound).toBe(1);
  });

  it('--failover needs the production form on PostgreSQL', () => {
    expect(() => parseAlarmBenchOptions(['--failover'])).toThrow(/--form services --store postgres/);
    expect(parseAlarmBenchOptions(['--failover', '--form', 'services', '--store', 'postgres'])).toMatchObject({
      failover: true,
    });
  });
});
