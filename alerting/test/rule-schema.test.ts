import {
  CameraTelemetry,
  ElectricalTelemetry,
  ExtinguisherTelemetry,
  FireTelemetry,
  KitchenTelemetry,
} from '@anlian/protocol';
import { describe, expect, it } from 'vitest';
import { AlertingError, AlertingErrorCode } from '../src/errors.js';
import { defaultRules } from '../src/rules/default-rules.js';
import { parseRuleFile, validateRuleFile } from '../src/rules/rule-loader.js';
import { NUMERIC_FIELDS_BY_KIND, Rule } from '../src/rules/rule-schema.js';

const name = { zh: '测试', en: 'Test' };

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AlertingError);
    return (err as AlertingError).issues;
  }
  throw new Error('expected an AlertingError');
}

describe('rule schema', () => {
  it('accepts every default rule', () => {
    const rules = defaultRules();
    expect(rules.length).toBeGreaterThan(15);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
  });

  it('names only numeric fields that the protocol telemetry schemas carry', () => {
    const shapes = {
      fire: FireTelemetry.shape,
      extinguisher: ExtinguisherTelemetry.shape,
      kitchen: KitchenTelemetry.shape,
      camera: CameraTelemetry.shape,
      electrical: ElectricalTelemetry.shape,
    };
    for (const [kind, fields] of Object.entries(NUMERIC_FIELDS_BY_KIND)) {
      const shape = shapes[kind as keyof typeof shapes] as Record<string, unknown>;
      for (const f of fields) expect(shape[f], `${kind}.${f}`).toBeDefined();
    }
  });

  it('rejects an event type the scoped kind cannot send', () => {
    const r = Rule.safeParse({
      id: 'x',
      name,
      kind: 'event',
      severity: 'major',
      scope: { kinds: ['fire', 'kitchen'] },
      events: ['overheat'],
      resolve: 'manual',
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.path).toEqual(['events', 0]);
    expect(r.error?.issues[0]?.message).toMatch(/not an event of fire devices/);
  });

  it('keeps the fire alarm critical, manual and enabled', () => {
    const fire = { id: 'f', name, kind: 'event', scope: { kinds: ['fire'] }, events: ['fire'] };
    expect(Rule.safeParse({ ...fire, severity: 'critical', resolve: 'manual' }).success).toBe(true);
    for (const bad of [
      { severity: 'critical', resolve: 'auto' },
      { severity: 'major', resolve: 'manual' },
      { severity: 'critical', resolve: 'manual', enabled: false },
    ]) {
      expect(Rule.safeParse({ ...fire, ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('rejects clearOn on a manual rule', () => {
    const r = Rule.safeParse({
      id: 'x',
      name,
      kind: 'event',
      severity: 'major',
      scope: { kinds: ['fire'] },
      events: ['fault'],
      clearOn: ['restore'],
      resolve: 'manual',
    });
    expect(r.error?.issues.map((i) => i.path.join('.'))).toEqual(['clearOn']);
  });

  it('puts the hysteresis band on the right side of the limit', () => {
    const base = {
      id: 't',
      name,
      kind: 'threshold',
      severity: 'minor',
      resolve: 'auto',
      scope: { kinds: ['kitchen'] },
    };
    expect(Rule.safeParse({ ...base, field: 'temperature', op: '>', raise: 50, clear: 48 }).success).toBe(true);
    expect(Rule.safeParse({ ...base, field: 'temperature', op: '>', raise: 50, clear: 52 }).success).toBe(false);
    expect(Rule.safeParse({ ...base, field: 'temperature', op: '<', raise: 5, clear: 4 }).success).toBe(false);
    expect(Rule.safeParse({ ...base, field: 'pressure', op: '<', raise: 5 }).success).toBe(false);
  });

  it('allows a gauge medium only on extinguisher-only rules', () => {
    const base = { id: 't', name, kind: 'threshold', severity: 'minor', resolve: 'auto', field: 'temperature' };
    const r = Rule.safeParse({ ...base, op: '>', raise: 50, scope: { kinds: ['kitchen'], medium: 'sprinkler' } });
    expect(r.error?.issues[0]?.path).toEqual(['scope', 'medium']);
  });
});

describe('rule files', () => {
  it('reports a YAML syntax error with its line', () => {
    const issues = issuesOf(() => parseRuleFile('rules:\n  - id: a\n   kind: [event\n', { source: 'bad.yaml' }));
    expect(issues[0]?.path).toBe('(syntax)');
    expect(issues[0]?.line).toBeGreaterThanOrEqual(2);
  });

  it('names the path and line of a schema error, and the file', () => {
    const text = [
      'rules:', //                      1
      '  - id: kitchen-hot', //         2
      '    name: { zh: 热, en: Hot }', // 3
      '    kind: threshold', //         4
      '    severity: loud', //          5
      '    resolve: auto', //           6
      '    scope: { kinds: [kitchen] }', // 7
      '    field: temperature', //      8
      "    op: '>'", //                 9
      '    raise: 60', //              10
      '    colour: red', //            11
    ].join('\n');
    let message = '';
    const issues = issuesOf(() => {
      try {
        parseRuleFile(text, { source: '/etc/anlian/rules.yaml' });
      } catch (err) {
        message = (err as Error).message;
        throw err;
      }
    });
    expect(issues).toEqual([
      expect.objectContaining({ path: 'rules.0.severity', line: 5 }),
      expect.objectContaining({ path: 'rules.0.colour', line: 11, message: 'unknown field' }),
    ]);
    expect(message).toContain(AlertingErrorCode.RULES_INVALID);
    expect(message).toContain('/etc/anlian/rules.yaml: line 5, column 15: rules.0.severity');
  });

  it('rejects an unknown rule kind with the kinds it knows', () => {
    const issues = issuesOf(() => parseRuleFile('{"rules": [{"id": "a", "kind": "vibes"}]}', { source: 'rules.json' }));
    expect(issues[0]).toMatchObject({ path: 'rules.0.kind', line: 1 });
    expect(issues[0]?.message).toMatch(/rate-of-rise/);
  });

  it('checks inhibition references and duplicate ids', () => {
    const issues = issuesOf(() =>
      validateRuleFile(
        {
          rules: [
            { id: 'blind', name, kind: 'inhibition', source: 'fire-alarm', suppress: ['device-offline', 'nope'] },
            { id: 'blind', name, kind: 'inhibition', source: 'gateway-offline', suppress: ['device-offline'] },
          ],
        },
        { source: 'api' },
      ),
    );
    expect(issues.map((i) => i.path)).toEqual(['rules.1.id', 'rules.0.source', 'rules.0.suppress.1']);
    expect(issues.every((i) => i.line === undefined)).toBe(true);
  });

  it('validates overrides against the rule they change, with path and line', () => {
    const text = `
overrides:
  - institution: yy-a
    rules:
      kitchen-heat-warning: { raise: 55, clear: 52 }
  - institution: yy-a
    gateway: gw-1
    device: k-1
    rules:
      kitchen-heat-warning: { raise: 51 }
      fire-alarm: { enabled: false }
      no-such-rule: { raise: 1 }
      kitchen-gas: { id: other }
`;
    const issues = issuesOf(() => parseRuleFile(text, { source: 'rules.yaml' }));
    expect(issues).toEqual([
      // 51 on top of the institution's clear 52: the merged rule is invalid.
      expect.objectContaining({ path: 'overrides.1.rules.kitchen-heat-warning', line: 10 }),
      expect.objectContaining({ path: 'overrides.1.rules.fire-alarm.enabled', line: 11 }),
      expect.objectContaining({ path: 'overrides.1.rules.no-such-rule', line: 12 }),
      expect.objectContaining({ path: 'overrides.1.rules.kitchen-gas.id', line: 13 }),
    ]);
    expect(issues[0]?.message).toMatch(/after merging, clear/);
  });

  it('requires gateway and device together in a device override', () => {
    const issues = issuesOf(() =>
      validateRuleFile({ overrides: [{ institution: 'a', device: 'k-1', rules: {} }] }, { source: 'api' }),
    );
    expect(issues[0]?.path).toBe('overrides.0.gateway');
  });

  it('replaces a default rule by id and appends new ones', () => {
    const set = parseRuleFile(
      `
rules:
  - id: kitchen-heat-warning
    name: { zh: 厨房偏热, en: Kitchen warm }
    kind: threshold
    severity: minor
    resolve: auto
    scope: { kinds: [kitchen] }
    field: temperature
    op: '>'
    raise: 45
    clear: 43
  - id: low-battery
    name: { zh: 电量低, en: Battery low }
    kind: threshold
    severity: info
    resolve: auto
    scope: { kinds: [fire, kitchen] }
    field: battery
    op: '<'
    raise: 20
    clear: 25
`,
      { source: 'rules.yaml' },
    );
    const ids = set.rules.map((r) => r.id);
    expect(ids.indexOf('kitchen-heat-warning')).toBe(defaultRules().findIndex((r) => r.id === 'kitchen-heat-warning'));
    expect(ids.at(-1)).toBe('low-battery');
    expect(set.rules.find((r) => r.id === 'kitchen-heat-warning')).toMatchObject({ raise: 45, severity: 'minor' });
  });
});
