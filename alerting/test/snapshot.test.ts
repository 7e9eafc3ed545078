import { describe, expect, it } from 'vitest';
import { AlertingError, AlertingErrorCode } from '../src/errors.js';
import { validateRuleFile } from '../src/rules/rule-loader.js';
import { brief, device, deviceEvent, heartbeat, kitchen, makeEngine, S, T0 } from './support.js';

/** What the store does: persist as JSON text, read back later. */
const roundTrip = (state: unknown): unknown => JSON.parse(JSON.stringify(state));

describe('snapshot and restore', () => {
  it('continues a pending duration where it was', () => {
    const rules = validateRuleFile(
      {
        rules: [
          {
            id: 'hot-2min',
            name: { zh: '持续高温', en: 'Hot for 2 min' },
            kind: 'duration',
            severity: 'major',
            resolve: 'auto',
            scope: { kinds: ['kitchen'] },
            field: 'temperature',
            op: '>',
            raise: 45,
            forS: 120,
          },
        ],
      },
      { source: 'test', base: [] },
    );
    const before = makeEngine({ rules });
    before.engine.handle(kitchen('k-1', 46, T0));
    before.engine.handle(kitchen('k-1', 46, T0 + 60 * S));
    const state = roundTrip(before.engine.snapshot(T0 + 60 * S));

    const after = makeEngine({ rules });
    after.engine.restore(state, T0 + 60 * S);
    expect(after.engine.handle(kitchen('k-1', 46, T0 + 119 * S))).toEqual([]);
    expect(brief(after.engine.handle(kitchen('k-1', 46, T0 + 120 * S)))).toEqual(['raise hot-2min']);
  });

  it('continues a half-full rate-of-rise window', () => {
    const before = makeEngine();
    for (let s = 0; s <= 30; s += 5) before.engine.handle(kitchen('k-1', 25 + (10 * s) / 60, T0 + s * S));
    const state = roundTrip(before.engine.snapshot(T0 + 30 * S));

    const after = makeEngine();
    after.engine.restore(state, T0 + 30 * S);
    const raised: number[] = [];
    for (let s = 35; s <= 90; s += 5) {
      const signals = after.engine.handle(kitchen('k-1', 25 + (10 * s) / 60, T0 + s * S));
      if (brief(signals).includes('raise kitchen-rate-of-rise')) raised.push(s);
    }
    expect(raised).toEqual([60]);
  });

  it('keeps a fire alarm open: a later fire repeats, a restore does not clear', () => {
    const before = makeEngine();
    before.engine.handle(deviceEvent('smoke-1', 'fire', 'fire', T0));
    const after = makeEngine();
    after.engine.restore(roundTrip(before.engine.snapshot(T0 + S)), T0 + S);
    expect(brief(after.engine.handle(deviceEvent('smoke-1', 'fire', 'restore', T0 + 2 * S)))).toEqual([]);
    expect(brief(after.engine.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 3 * S)))).toEqual([
      'repeat fire-alarm',
    ]);
    expect(after.engine.openAlerts()).toEqual([expect.objectContaining({ raisedAt: T0, occurrences: 2 })]);
  });

  it('keeps a hysteresis latch: no new raise inside the band, a clear below it', () => {
    const before = makeEngine();
    before.engine.handle(kitchen('k-1', 51, T0));
    const after = makeEngine();
    after.engine.restore(roundTrip(before.engine.snapshot(T0)), T0);
    expect(after.engine.handle(kitchen('k-1', 50.5, T0 + 10 * S))).toEqual([]);
    expect(brief(after.engine.handle(kitchen('k-1', 47, T0 + 20 * S)))).toEqual(['clear kitchen-heat-warning']);
  });

  it('does not count the engine’s own downtime as device silence', () => {
    const before = makeEngine({ devices: [device('k-1', 'kitchen')] });
    before.engine.handle(kitchen('k-1', 25, T0));
    before.engine.handle(heartbeat(T0 + 100 * S));
    const state = roundTrip(before.engine.snapshot(T0 + 100 * S));

    // Down for 15 minutes. k-1 had 80 s of its 180 s window left, the gateway 90 s.
    const after = makeEngine({ devices: [device('k-1', 'kitchen')] });
    after.engine.restore(state, T0 + 1000 * S);
    expect(after.engine.tick(T0 + 1000 * S)).toEqual([]);
    after.engine.handle(heartbeat(T0 + 1030 * S));
    after.engine.handle(heartbeat(T0 + 1060 * S));
    expect(after.engine.tick(T0 + 1079 * S)).toEqual([]);
    expect(brief(after.engine.tick(T0 + 1080 * S))).toEqual(['raise device-offline']);
  });

  it('rejects a malformed snapshot with a code and paths', () => {
    const { engine } = makeEngine();
    const state = engine.snapshot(T0) as unknown as Record<string, unknown>;
    try {
      engine.restore({ ...state, alerts: [{ key: 'x' }] }, T0);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(AlertingError);
      expect((err as AlertingError).code).toBe(AlertingErrorCode.SNAPSHOT_INVALID);
      expect((err as AlertingError).issues.map((i) => i.path)).toContain('alerts.0.rule');
    }
  });
});
