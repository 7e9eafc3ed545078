import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../src/engine/alert-input.js';
import type { AlertSignal } from '../src/engine/alert-signal.js';
import type { DeviceInfo } from '../src/engine/rule-engine.js';
import { defaultRules } from '../src/rules/default-rules.js';
import { validateRuleFile } from '../src/rules/rule-loader.js';
import { brief, device, deviceEvent, heartbeat, kitchen, makeEngine, S, status, T0 } from './support.js';

type Engine = ReturnType<typeof makeEngine>['engine'];

/**
 * Drives time from `fromS` to `toS` (seconds after T0) in steps: sends what `send` returns for
 * that second (heartbeats by default), then ticks. Returns the seconds at which signals came.
 */
function run(
  engine: Engine,
  fromS: number,
  toS: number,
  opts: { stepS?: number; send?: (s: number) => AlertInput[] } = {},
): { s: number; signals: string[] }[] {
  const out: { s: number; signals: string[] }[] = [];
  const step = opts.stepS ?? 10;
  const send = opts.send ?? ((s: number) => (s % 30 === 0 ? [heartbeat(T0 + s * S)] : []));
  for (let s = fromS; s <= toS; s += step) {
    const signals: AlertSignal[] = [];
    for (const input of send(s)) signals.push(...engine.handle(input));
    signals.push(...engine.tick(T0 + s * S));
    if (signals.length > 0) out.push({ s, signals: brief(signals) });
  }
  return out;
}

describe('device absence', () => {
  it('raises after 3 × the device interval, once, and clears on the next report', () => {
    const { engine } = makeEngine({ devices: [device('k-1', 'kitchen')] });
    engine.handle(kitchen('k-1', 25, T0));
    expect(run(engine, 10, 300)).toEqual([{ s: 180, signals: ['raise device-offline'] }]);
    const alert = engine.openAlerts()[0];
    expect(alert).toMatchObject({ key: 'device-offline:gw-1/k-1', raisedAt: T0 + 180 * S, occurrences: 1 });
    const back = engine.handle(kitchen('k-1', 25, T0 + 305 * S));
    expect(brief(back)).toEqual(['clear device-offline']);
    expect(run(engine, 310, 480)).toEqual([]);
    expect(run(engine, 490, 490)).toEqual([{ s: 490, signals: ['raise device-offline'] }]);
  });

  it('uses the interval the registry gives the device', () => {
    const { engine } = makeEngine({ devices: [device('smoke-1', 'fire', { reportIntervalS: 600 })] });
    engine.handle(deviceEvent('smoke-1', 'fire', 'test', T0));
    expect(run(engine, 30, 3000, { stepS: 30 })).toEqual([{ s: 1800, signals: ['raise device-offline'] }]);
  });

  it('takes a camera offline after 3 missed 60 s keepalives (GB/T 28181)', () => {
    const { engine } = makeEngine();
    engine.watch([device('cam-1', 'camera')], T0);
    expect(run(engine, 10, 400)).toEqual([{ s: 180, signals: ['raise camera-offline'] }]);
  });

  it('watches registered devices that never report, but not unregistered ones', () => {
    const { engine } = makeEngine();
    engine.watch([device('smoke-9', 'fire')], T0);
    engine.handle(deviceEvent('smoke-x', 'fire', 'test', T0, { confirmed: false }));
    expect(run(engine, 30, 2000, { stepS: 30 })).toEqual([{ s: 900, signals: ['raise device-offline'] }]);
    expect(engine.openAlerts().map((a) => a.key)).toEqual(['device-offline:gw-1/smoke-9']);
  });
});

describe('gateway absence and inhibition', () => {
  const fleet: DeviceInfo[] = [
    ...Array.from({ length: 100 }, (_, i) => device(`smoke-${i}`, 'fire')),
    ...Array.from({ length: 50 }, (_, i) => device(`kitchen-${i}`, 'kitchen')),
    ...Array.from({ length: 50 }, (_, i) => device(`cam-${i}`, 'camera')),
  ];
  const reportAll = (at: number): AlertInput[] =>
    fleet.map((d) => (d.kind === 'kitchen' ? kitchen(d.device, 25, at) : deviceEvent(d.device, d.kind, 'test', at)));
  const quiet = () => [];

  function fleetEngine(rules = { rules: defaultRules(), overrides: [] }) {
    const made = makeEngine({ devices: fleet, rules });
    made.engine.watch(fleet, T0);
    for (const input of reportAll(T0 + S)) made.engine.handle(input);
    return made;
  }

  it('a last will gives one gateway alert at once and none for its 200 devices', () => {
    const { engine } = fleetEngine();
    const will = engine.handle(status('offline', T0 + 10 * S, 'will'));
    expect(will).toEqual([
      expect.objectContaining({
        type: 'raise',
        key: 'gateway-offline:gw-1',
        severity: 'critical',
        subject: { type: 'gateway', county: 'youyang', institution: 'yy-a', gateway: 'gw-1' },
        reason: '网关离线：连接意外中断',
      }),
    ]);
    // Far past every device's window (3 × 300 s for detectors, 3 × 60 s for kitchens and cameras).
    expect(run(engine, 20, 3600, { stepS: 30, send: quiet })).toEqual([]);
    expect(engine.openAlerts()).toHaveLength(1);

    // Back: the gateway alert clears and every device gets a fresh window.
    expect(brief(engine.handle(heartbeat(T0 + 3610 * S)))).toEqual(['clear gateway-offline']);
    expect(run(engine, 3620, 3780)).toEqual([]);
    const allButOne = (at: number) =>
      reportAll(at).filter((i) => i.type !== 'status' && 'device' in i && i.device !== 'kitchen-7');
    const reports = (s: number) => [
      ...(s % 30 === 0 ? [heartbeat(T0 + s * S)] : []),
      ...(s === 3700 ? allButOne(T0 + s * S) : []),
    ];
    // Only the kitchen sensor that stays silent after the gateway returns goes offline: its
    // fresh window started at 3610 s, so it is due at 3610 + 3 × 60 s.
    expect(run(engine, 3690, 3850, { send: reports })).toEqual([{ s: 3790, signals: ['raise device-offline'] }]);
    expect(engine.openAlerts().map((a) => a.key)).toEqual(['device-offline:gw-1/kitchen-7']);
  });

  it('missed heartbeats take the gateway offline after 3 × 30 s, and its devices stay inhibited', () => {
    const { engine } = fleetEngine();
    const signals = run(engine, 10, 3600, { stepS: 10, send: quiet });
    expect(signals).toEqual([{ s: 100, signals: ['raise gateway-offline'] }]);
    expect(engine.openAlerts()[0]?.raisedAt).toBe(T0 + 100 * S);
  });

  it('repeats a will while the gateway is down instead of opening a second alert', () => {
    const { engine } = fleetEngine();
    engine.handle(status('offline', T0 + 10 * S, 'will'));
    expect(brief(engine.handle(status('offline', T0 + 20 * S, 'will')))).toEqual(['repeat gateway-offline']);
    expect(engine.openAlerts()).toEqual([expect.objectContaining({ occurrences: 2 })]);
    expect(brief(engine.handle(status('online', T0 + 30 * S, 'connect')))).toEqual(['clear gateway-offline']);
  });

  it('holds a device whose window is shorter than the gateway’s until the gateway decides', () => {
    const rules = validateRuleFile(
      { overrides: [{ institution: 'yy-a', rules: { 'device-offline': { missed: 1 } } }] },
      { source: 'test' },
    );
    const { engine } = makeEngine({ rules, devices: [device('k-1', 'kitchen')] });
    engine.handle(kitchen('k-1', 25, T0));
    // k-1 is due after 60 s, the gateway after 90 s: at 60 s nothing has come through the gateway
    // since k-1's report, so the gateway's own rule decides first — and then inhibits k-1.
    expect(run(engine, 10, 600, { send: quiet })).toEqual([{ s: 90, signals: ['raise gateway-offline'] }]);
  });

  it('does not let a healthy gateway hide a silent device', () => {
    const { engine } = fleetEngine();
    const others = (at: number) => reportAll(at).filter((i) => 'device' in i && i.device !== 'cam-3');
    const send = (s: number) => [heartbeat(T0 + s * S), ...(s % 60 === 0 ? others(T0 + s * S) : [])];
    // cam-3 last reported at 1 s: due at 181 s, seen by the tick at 210 s.
    expect(run(engine, 30, 600, { stepS: 30, send })).toEqual([{ s: 210, signals: ['raise camera-offline'] }]);
    expect(engine.openAlerts().map((a) => a.key)).toEqual(['camera-offline:gw-1/cam-3']);
  });

  it('without the inhibition rule the same outage gives an alert per device (the rule is what suppresses)', () => {
    const rules = { rules: defaultRules().filter((r) => r.kind !== 'inhibition'), overrides: [] };
    const { engine } = fleetEngine(rules);
    engine.handle(status('offline', T0 + 10 * S, 'will'));
    run(engine, 20, 3600, { stepS: 30, send: quiet });
    expect(engine.openAlerts()).toHaveLength(201);
  });
});
