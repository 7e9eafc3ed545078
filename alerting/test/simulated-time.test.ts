import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../src/engine/alert-input.js';
import { RuleEngine } from '../src/engine/rule-engine.js';
import { defaultRuleSet } from '../src/rules/default-rules.js';
import { brief, device, deviceEvent, heartbeat, kitchen, S, status, T0 } from './support.js';

/** Issue 13, item 4: a simulation run's messages (protocol `simRun`) raise no live alert. */
const simulated = <T extends AlertInput>(input: T, simRun = 'sim-60x'): T =>
  ({ ...input, payload: { ...input.payload, simRun } }) as T;

function engine(drills: { institution: string; id: string }[] = []) {
  const clock = { now: T0 };
  const e = new RuleEngine({
    rules: defaultRuleSet(),
    devices: () => undefined,
    clock: () => clock.now,
    isDrill: (institution, id) => drills.some((d) => d.institution === institution && d.id === id),
  });
  e.watch([device('k-1', 'kitchen', { reportIntervalS: 60 }), device('smoke-1', 'fire', { reportIntervalS: 300 })]);
  return { e, clock };
}

describe('simulation runs and the rules', () => {
  it('raises nothing from a simulated fire, gas or heat, hours ahead or behind', () => {
    const { e } = engine();
    const ahead = T0 + 5 * 3600 * S;
    expect(e.handle(simulated(deviceEvent('smoke-1', 'fire', 'fire', T0 + S, { ts: ahead })))).toEqual([]);
    expect(e.handle(simulated(kitchen('k-1', 80, T0 + 2 * S, { ts: ahead, gasLel: 40 })))).toEqual([]);
    expect(e.handle(simulated(status('offline', T0 + 3 * S, 'will')))).toEqual([]);
    expect(e.openAlerts()).toEqual([]);
  });

  it('never moves a device onto the simulated timeline: the live readings after it are evaluated', () => {
    const { e } = engine();
    // A run hours ahead would otherwise make every live sample "older than the newest" and ignored.
    e.handle(simulated(kitchen('k-1', 30, T0 + S, { ts: T0 + 10 * 3600 * S })));
    expect(brief(e.handle(kitchen('k-1', 60, T0 + 2 * S)))).toEqual([
      'raise kitchen-heat-warning',
      'raise kitchen-heat-alarm',
    ]);
  });

  it('counts as presence: a simulated county is not reported offline while its run talks', () => {
    const { e } = engine();
    for (let t = 60; t <= 900; t += 60) {
      e.handle(simulated(heartbeat(T0 + t * S)));
      e.handle(simulated(kitchen('k-1', 30, T0 + t * S, { ts: T0 + t * 60 * S })));
      e.handle(simulated(deviceEvent('smoke-1', 'fire', 'test', T0 + t * S)));
      expect(e.tick(T0 + t * S), `at ${t} s`).toEqual([]);
    }
  });

  it('a drill’s own events in a simulation run raise its drill alarm; a stale drill id does not', () => {
    const { e } = engine([{ institution: 'yy-a', id: 'dr_1' }]);
    const drill = e.handle(simulated(deviceEvent('smoke-1', 'fire', 'fire', T0 + S, { drillId: 'dr_1' })));
    expect(drill).toMatchObject([{ type: 'raise', rule: 'fire-alarm', drillId: 'dr_1' }]);
    expect(e.handle(simulated(deviceEvent('k-1', 'kitchen', 'gas', T0 + S, { drillId: 'dr_old' })))).toEqual([]);
    // Its readings stay out of the conditions even with the drill's id.
    expect(e.handle(simulated(kitchen('k-1', 80, T0 + 2 * S, { drillId: 'dr_1' })))).toEqual([]);
  });
});
