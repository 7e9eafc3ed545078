import { describe, expect, it } from 'vitest';
import { AlertingError } from '../src/errors.js';
import { defaultRuleSet, defaultRules } from '../src/rules/default-rules.js';
import { parseRuleFile } from '../src/rules/rule-loader.js';
import { effectiveRules } from '../src/rules/rule-overrides.js';
import type { ThresholdRule } from '../src/rules/rule-schema.js';
import { brief, GW, kitchen, makeEngine, S, T0 } from './support.js';

const OVERRIDES = `
overrides:
  - institution: yy-a
    note: 新灶台，厨房常温偏高
    rules:
      kitchen-heat-warning: { raise: 52, clear: 50 }
  - institution: yy-a
    gateway: gw-1
    device: k-hot
    rules:
      kitchen-heat-warning: { raise: 53 }
      kitchen-heat-alarm: { severity: major }
`;

const warning = (rules: ReturnType<typeof effectiveRules>) =>
  rules.find((r) => r.id === 'kitchen-heat-warning') as ThresholdRule;

describe('overrides', () => {
  const set = parseRuleFile(OVERRIDES, { source: 'overrides.yaml' });

  it('applies device > institution > default', () => {
    expect(warning(effectiveRules(set, { institution: 'yy-b' }))).toMatchObject({ raise: 50, clear: 48 });
    expect(warning(effectiveRules(set, { institution: 'yy-a' }))).toMatchObject({ raise: 52, clear: 50 });
    expect(warning(effectiveRules(set, { institution: 'yy-a', gateway: 'gw-1', device: 'k-1' }))).toMatchObject({
      raise: 52,
    });
    const hot = effectiveRules(set, { institution: 'yy-a', gateway: 'gw-1', device: 'k-hot' });
    // The device changes raise; clear comes from the institution.
    expect(warning(hot)).toMatchObject({ raise: 53, clear: 50 });
    expect(hot.find((r) => r.id === 'kitchen-heat-alarm')).toMatchObject({ severity: 'major', raise: 54 });
    // The same device id behind another gateway is another device.
    expect(warning(effectiveRules(set, { institution: 'yy-a', gateway: 'gw-2', device: 'k-hot' }))).toMatchObject({
      raise: 52,
    });
  });

  it('leaves the defaults untouched', () => {
    expect(warning(defaultRules())).toMatchObject({ raise: 50, clear: 48 });
    expect(effectiveRules(defaultRuleSet(), { institution: 'yy-a' })).toEqual(defaultRules());
  });

  it('refuses an override that breaks a rule when applied programmatically', () => {
    const bad = { ...set, overrides: [{ institution: 'yy-a', rules: { 'fire-alarm': { resolve: 'auto' } } }] };
    expect(() => effectiveRules(bad, { institution: 'yy-a' })).toThrow(AlertingError);
  });

  it('drives the engine per device', () => {
    const { engine } = makeEngine({ rules: set });
    // Gateway ids are globally unique: another institution has its own gateway.
    const other = { institution: 'yy-b', gateway: 'gw-9' };
    const at = T0 + 10 * S;
    expect(brief(engine.handle(kitchen('k-1', 51, at, other)))).toEqual(['raise kitchen-heat-warning']);
    expect(brief(engine.handle(kitchen('k-1', 51, at)))).toEqual([]);
    expect(brief(engine.handle(kitchen('k-1', 52.5, at)))).toEqual(['raise kitchen-heat-warning']);
    expect(brief(engine.handle(kitchen('k-hot', 52.5, at)))).toEqual([]);
    const signals = engine.handle(kitchen('k-hot', 54, at));
    expect(signals.map((s) => `${s.type} ${s.rule} ${s.severity}`)).toEqual([
      'raise kitchen-heat-warning major',
      'raise kitchen-heat-alarm major',
    ]);
    expect(signals[0]?.subject).toEqual({ type: 'device', ...GW, device: 'k-hot', kind: 'kitchen' });
  });
});
