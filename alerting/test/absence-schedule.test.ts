import { describe, expect, it } from 'vitest';
import { AbsenceSchedule } from '../src/engine/absence-schedule.js';
import type { DeviceSeenState } from '../src/engine/engine-snapshot.js';
import { GW, makeEngine, T0 } from './support.js';

const dev = (device: string): DeviceSeenState => ({ ...GW, device, kind: 'fire', lastSeen: T0, watched: true });

describe('AbsenceSchedule', () => {
  it('yields each device once when its second comes; a later schedule replaces an earlier one', () => {
    const s = new AbsenceSchedule(T0);
    const [a, b, c] = [dev('a'), dev('b'), dev('c')];
    s.schedule(a, T0 + 5_000);
    s.schedule(b, T0 + 2_000);
    s.schedule(c, T0 + 3_000);
    s.schedule(c, T0 + 9_000); // moved: not due at 3 s any more
    expect([...s.due(T0 + 1_000)]).toEqual([]);
    expect([...s.due(T0 + 5_000)].map((d) => d.device)).toEqual(['b', 'a']);
    expect([...s.due(T0 + 5_000)]).toEqual([]);
    // A jump far ahead (a stalled process, a test's clock) still finds it.
    expect([...s.due(T0 + 86_400_000)].map((d) => d.device)).toEqual(['c']);
  });

  it('puts a time already past at the next tick', () => {
    const s = new AbsenceSchedule(T0);
    expect([...s.due(T0 + 10_000)]).toEqual([]);
    s.schedule(dev('late'), T0);
    expect([...s.due(T0 + 11_000)].map((d) => d.device)).toEqual(['late']);
  });
});

describe('RuleEngine.snapshotJson', () => {
  it('is the snapshot, serialised, and restores like it', async () => {
    const { engine } = makeEngine({ devices: [{ ...GW, device: 'smoke-1', kind: 'fire' }] });
    engine.watch([{ ...GW, device: 'smoke-1', kind: 'fire' }], T0);
    engine.tick(T0 + 1000);
    expect(JSON.parse(await engine.snapshotJson(T0 + 2000))).toEqual(engine.snapshot(T0 + 2000));
  });
});
