import {
  CameraEventType,
  type DeviceKind,
  ElectricalEventType,
  ExtinguisherEventType,
  FireEventType,
  KitchenEventType,
} from '@anlian/protocol';
import { describe, expect, it } from 'vitest';
import { CompiledRules } from '../src/engine/compiled-rules.js';
import { defaultRules } from '../src/rules/default-rules.js';
import { validateRuleFile } from '../src/rules/rule-loader.js';
import type { RuleInput } from '../src/rules/rule-schema.js';
import { brief, deviceEvent, GW, gauge, kitchen, makeEngine, S, T0 } from './support.js';

const name = { zh: '测试', en: 'Test' };
const only = (...rules: RuleInput[]) => validateRuleFile({ rules }, { source: 'test', base: [] });

describe('event rules', () => {
  it('raises a fire alarm as critical at once, first, with the arrival time', () => {
    const { engine, seen } = makeEngine();
    const at = T0 + 1234;
    const signals = engine.handle(deviceEvent('smoke-101', 'fire', 'fire', at));
    expect(signals).toEqual([
      {
        type: 'raise',
        key: 'fire-alarm:gw-1/smoke-101',
        rule: 'fire-alarm',
        name: { zh: '火灾报警', en: 'Fire alarm' },
        severity: 'critical',
        // A recovering detector never closes a fire alarm: a person does.
        resolve: 'manual',
        // A fire alarm: no silence covers it (issue 13).
        fireRule: true,
        subject: { type: 'device', ...GW, device: 'smoke-101', kind: 'fire' },
        at,
        reason: '火警',
      },
    ]);
    expect(seen).toEqual(signals);
  });

  it('says what happened and where in words for people, never a code', () => {
    const { engine } = makeEngine();
    const [fire] = engine.handle(deviceEvent('smoke-301', 'fire', 'fire', T0, { zone: '主楼 3F 东走廊' }));
    expect(fire?.reason).toBe('火警：主楼 3F 东走廊');
    // What a fire panel said about the detector comes after the place.
    const [panel] = engine.handle(
      deviceEvent('uitd-1', 'fire', 'fire', T0, { zone: '二楼 东走廊 208房', detail: '感烟火灾探测器 3回路17号' }),
    );
    expect(panel?.reason).toBe('火警：二楼 东走廊 208房（感烟火灾探测器 3回路17号）');
    // Every event of the contract that a default rule raises on: Chinese, no `kind/event` or code.
    const events: [DeviceKind, string][] = [
      ...FireEventType.options.map((e) => ['fire', e] as [DeviceKind, string]),
      ...ExtinguisherEventType.options.map((e) => ['extinguisher', e] as [DeviceKind, string]),
      ...KitchenEventType.options.map((e) => ['kitchen', e] as [DeviceKind, string]),
      ...CameraEventType.options.map((e) => ['camera', e] as [DeviceKind, string]),
      ...ElectricalEventType.options.map((e) => ['electrical', e] as [DeviceKind, string]),
    ];
    let n = 0;
    for (const [kind, event] of events) {
      for (const s of engine.handle(deviceEvent(`${kind}-${event}`, kind, event, T0 + 1000, { zone: '2号楼 1层' }))) {
        expect(s.reason, `${kind}/${event}`).toMatch(/^[^A-Za-z_/（）()]+：2号楼 1层$/);
        n++;
      }
    }
    expect(n).toBeGreaterThan(10);
  });

  it('looks a fire alarm up in the index without touching unrelated rules', () => {
    const compiled = CompiledRules.from(defaultRules());
    expect(compiled.forEvent('fire', 'fire').map((r) => r.id)).toEqual(['fire-alarm']);
    expect(compiled.forEvent('kitchen', 'fire')).toEqual([]);
    expect(compiled.clearedBy('fire', 'restore').map((r) => r.id)).not.toContain('fire-alarm');
  });

  it('never clears a fire alarm when the detector restores; repeats count on the open alert', () => {
    const { engine } = makeEngine();
    expect(brief(engine.handle(deviceEvent('smoke-1', 'fire', 'fire', T0)))).toEqual(['raise fire-alarm']);
    expect(brief(engine.handle(deviceEvent('smoke-1', 'fire', 'restore', T0 + 30 * S)))).toEqual([]);
    expect(brief(engine.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 60 * S)))).toEqual(['repeat fire-alarm']);
    // An hour later (the gateway and detector now offline) the fire alarm is still open.
    expect(engine.tick(T0 + 3600 * S).filter((s) => s.rule === 'fire-alarm')).toEqual([]);
    expect(engine.openAlerts().filter((a) => a.rule === 'fire-alarm')).toEqual([
      expect.objectContaining({ key: 'fire-alarm:gw-1/smoke-1', occurrences: 2, raisedAt: T0, lastAt: T0 + 60 * S }),
    ]);
    // A person closes it (through the store); the next fire is a new alert.
    expect(engine.closed('fire-alarm:gw-1/smoke-1')).toBe(true);
    // The fire alarm comes first; the same message also shows the gateway is back (its silence
    // inhibited the detector's own offline alert).
    expect(brief(engine.handle(deviceEvent('smoke-1', 'fire', 'fire', T0 + 7200 * S)))).toEqual([
      'raise fire-alarm',
      'clear gateway-offline',
    ]);
  });

  it('raises a fire alarm from a device the registry does not know yet', () => {
    const { engine } = makeEngine();
    const signals = engine.handle(deviceEvent('smoke-new', 'fire', 'fire', T0, { confirmed: false }));
    expect(brief(signals)).toEqual(['raise fire-alarm']);
  });

  it('clears an auto event alert on restore', () => {
    const { engine } = makeEngine();
    expect(brief(engine.handle(deviceEvent('smoke-1', 'fire', 'fault', T0)))).toEqual(['raise device-fault']);
    expect(brief(engine.handle(deviceEvent('smoke-1', 'fire', 'fault', T0 + S)))).toEqual(['repeat device-fault']);
    const cleared = engine.handle(deviceEvent('smoke-1', 'fire', 'restore', T0 + 2 * S));
    expect(brief(cleared)).toEqual(['clear device-fault']);
    expect(cleared[0]?.key).toBe('device-fault:gw-1/smoke-1');
    expect(brief(engine.handle(deviceEvent('cam-1', 'camera', 'frozen', T0)))).toEqual(['raise camera-picture-fault']);
    expect(brief(engine.handle(deviceEvent('cam-1', 'camera', 'restore', T0 + S)))).toEqual([
      'clear camera-picture-fault',
    ]);
  });

  it('keeps one open alert per rule and subject', () => {
    const { engine } = makeEngine();
    engine.handle(deviceEvent('smoke-1', 'fire', 'tamper', T0));
    engine.handle(deviceEvent('smoke-2', 'fire', 'tamper', T0));
    engine.handle(deviceEvent('smoke-1', 'fire', 'fault', T0));
    expect(engine.openAlerts().map((a) => a.key)).toEqual([
      'device-tamper:gw-1/smoke-1',
      'device-tamper:gw-1/smoke-2',
      'device-fault:gw-1/smoke-1',
    ]);
  });
});

describe('threshold rules', () => {
  it('raises past the limit and clears only past the hysteresis band, without flapping', () => {
    const { engine } = makeEngine();
    const readings = [49, 51, 49.5, 50.5, 48.5, 51.5, 50.2, 49.8, 50.1, 47.9, 49, 50.5];
    const signals = readings.flatMap((t, i) => engine.handle(kitchen('k-1', t, T0 + i * 10 * S)));
    expect(signals.map((s) => `${s.type} ${s.value}`)).toEqual(['raise 51', 'clear 47.9', 'raise 50.5']);
    expect(signals.every((s) => s.rule === 'kitchen-heat-warning')).toBe(true);
  });

  it('covers the extinguisher green zone, zero pressure and water media', () => {
    const { engine } = makeEngine();
    expect(brief(engine.handle(gauge('ext-1', 1.2, T0)))).toEqual([]);
    expect(brief(engine.handle(gauge('ext-1', 0, T0 + S)))).toEqual([
      'raise extinguisher-empty',
      'raise extinguisher-under-pressure',
    ]);
    expect(engine.openAlerts().find((a) => a.rule === 'extinguisher-empty')?.severity).toBe('critical');
    expect(brief(engine.handle(gauge('ext-1', 1.02, T0 + 2 * S)))).toEqual(['clear extinguisher-empty']);
    expect(brief(engine.handle(gauge('ext-1', 1.2, T0 + 3 * S)))).toEqual(['clear extinguisher-under-pressure']);
    expect(brief(engine.handle(gauge('ext-1', 1.45, T0 + 4 * S)))).toEqual(['raise extinguisher-over-pressure']);
    // A sprinkler gauge at 0.9 MPa is fine; the dry-powder limits do not apply to it.
    expect(brief(engine.handle(gauge('spr-1', 0.9, T0, 'sprinkler')))).toEqual([]);
    expect(brief(engine.handle(gauge('spr-1', 0.04, T0 + S, 'sprinkler')))).toEqual(['raise sprinkler-low-pressure']);
    expect(brief(engine.handle(gauge('hyd-1', 0.09, T0, 'hydrant_static')))).toEqual([
      'raise hydrant-static-low-pressure',
    ]);
  });

  it('keeps manual alerts open when the value recovers, and counts a return as a repeat', () => {
    const { engine } = makeEngine();
    expect(brief(engine.handle(kitchen('k-1', 30, T0, { gasLel: 30 })))).toEqual(['raise kitchen-gas']);
    expect(brief(engine.handle(kitchen('k-1', 30, T0 + 10 * S, { gasLel: 0 })))).toEqual([]);
    expect(brief(engine.handle(kitchen('k-1', 30, T0 + 20 * S, { gasLel: 26 })))).toEqual(['repeat kitchen-gas']);
    // ≥ 54 °C is an alarm: also manual, alongside the auto warning.
    expect(brief(engine.handle(kitchen('k-2', 54, T0)))).toEqual([
      'raise kitchen-heat-warning',
      'raise kitchen-heat-alarm',
    ]);
    expect(brief(engine.handle(kitchen('k-2', 25, T0 + 10 * S)))).toEqual(['clear kitchen-heat-warning']);
    expect(engine.openAlerts().map((a) => a.key)).toEqual(['kitchen-gas:gw-1/k-1', 'kitchen-heat-alarm:gw-1/k-2']);
  });

  it('does not let a replayed older sample drive a condition', () => {
    const { engine } = makeEngine();
    engine.handle(kitchen('k-1', 56, T0 + 60 * S));
    // Store-and-forward: an earlier reading arrives late; it must not clear the warning.
    expect(brief(engine.handle(kitchen('k-1', 25, T0 + 61 * S, { ts: T0 })))).toEqual([]);
    expect(brief(engine.handle(kitchen('k-1', 25, T0 + 62 * S)))).toEqual(['clear kitchen-heat-warning']);
  });
});

describe('duration rules', () => {
  const rules = only({
    id: 'kitchen-hot-2min',
    name,
    kind: 'duration',
    severity: 'major',
    resolve: 'auto',
    scope: { kinds: ['kitchen'] },
    field: 'temperature',
    op: '>',
    raise: 45,
    clear: 43,
    forS: 120,
  });

  it('needs the condition for the full time', () => {
    const { engine } = makeEngine({ rules });
    for (const s of [0, 60, 119]) expect(engine.handle(kitchen('k-1', 46, T0 + s * S))).toEqual([]);
    const signals = engine.handle(kitchen('k-1', 46, T0 + 120 * S));
    expect(brief(signals)).toEqual(['raise kitchen-hot-2min']);
    expect(signals[0]).toMatchObject({ value: 46, at: T0 + 120 * S });
    expect(engine.handle(kitchen('k-1', 44, T0 + 130 * S))).toEqual([]);
    expect(brief(engine.handle(kitchen('k-1', 42, T0 + 140 * S)))).toEqual(['clear kitchen-hot-2min']);
  });

  it('starts over when the condition breaks', () => {
    const { engine } = makeEngine({ rules });
    engine.handle(kitchen('k-1', 46, T0));
    engine.handle(kitchen('k-1', 44, T0 + 60 * S));
    engine.handle(kitchen('k-1', 46, T0 + 120 * S));
    expect(engine.handle(kitchen('k-1', 47, T0 + 200 * S))).toEqual([]);
    expect(brief(engine.handle(kitchen('k-1', 47, T0 + 240 * S)))).toEqual(['raise kitchen-hot-2min']);
  });

  it('raises on a tick when no sample arrives at the end of the time', () => {
    const { engine } = makeEngine({ rules });
    engine.handle(kitchen('k-1', 46, T0));
    expect(engine.tick(T0 + 119 * S)).toEqual([]);
    expect(brief(engine.tick(T0 + 120 * S))).toEqual(['raise kitchen-hot-2min']);
    expect(engine.tick(T0 + 121 * S)).toEqual([]);
  });
});

describe('rate-of-rise rules', () => {
  /** Kitchen samples every `stepS` seconds from `t0S`, temperature by `f(seconds)`. */
  function feed(
    engine: ReturnType<typeof makeEngine>['engine'],
    f: (s: number) => number,
    untilS: number,
    stepS = 5,
    t0S = 0,
  ) {
    const out: { s: number; signals: string[] }[] = [];
    for (let s = t0S; s <= untilS; s += stepS) {
      const signals = engine.handle(kitchen('k-1', f(s), T0 + s * S));
      if (signals.length > 0) out.push({ s, signals: brief(signals) });
    }
    return out;
  }

  it('raises on ≥ 8 °C/min sustained over 60 s, not before the window is full', () => {
    const { engine } = makeEngine();
    expect(feed(engine, (s) => 25 + (10 * s) / 60, 90)).toEqual([{ s: 60, signals: ['raise kitchen-rate-of-rise'] }]);
    const alert = engine.openAlerts()[0];
    expect(alert).toMatchObject({ rule: 'kitchen-rate-of-rise', severity: 'critical' });
  });

  it('raises at exactly 8 °C/min and not at 7.5', () => {
    const exact = makeEngine();
    expect(feed(exact.engine, (s) => 25 + (8 * s) / 60, 60)).toEqual([
      { s: 60, signals: ['raise kitchen-rate-of-rise'] },
    ]);
    const slower = makeEngine();
    expect(feed(slower.engine, (s) => 25 + (7.5 * s) / 60, 180)).toEqual([]);
  });

  it('ignores a slow rise', () => {
    const { engine } = makeEngine();
    expect(feed(engine, (s) => 20 + (4 * s) / 60, 300)).toEqual([]);
  });

  it('ignores a single spike, whether it stays up or falls back', () => {
    const stays = makeEngine();
    expect(feed(stays.engine, (s) => (s < 65 ? 25 : 40), 180)).toEqual([]);
    const falls = makeEngine();
    expect(feed(falls.engine, (s) => (s === 65 ? 45 : 25), 180)).toEqual([]);
  });

  it('ignores a fast rise that lasts only half the window', () => {
    const { engine } = makeEngine();
    expect(feed(engine, (s) => (s < 60 ? 25 : 25 + (12 * Math.min(s - 60, 30)) / 60), 200)).toEqual([]);
  });

  it('cannot see a sustained rise in sparse reports (one a minute)', () => {
    const { engine } = makeEngine();
    // 12 °C/min for 2 min, stays below the 50 °C warning.
    expect(feed(engine, (s) => 20 + (12 * s) / 60, 120, 60)).toEqual([]);
  });

  it('clears an auto rate-of-rise alert once the rise stops', () => {
    const rules = only({
      id: 'ror',
      name,
      kind: 'rate-of-rise',
      severity: 'major',
      resolve: 'auto',
      scope: { kinds: ['kitchen'] },
      field: 'temperature',
      risePerMin: 8,
    });
    const { engine } = makeEngine({ rules });
    const f = (s: number) => 25 + (10 * Math.min(s, 60)) / 60;
    expect(feed(engine, f, 150)).toEqual([
      { s: 60, signals: ['raise ror'] },
      // Default clearPerMin is half the limit, 4 °C/min: over the window ending at 95 s the rise is
      // still 35 − 30.83 ≈ 4.2 °C/min; at 100 s it is 35 − 31.67 ≈ 3.3 °C/min.
      { s: 100, signals: ['clear ror'] },
    ]);
  });
});
