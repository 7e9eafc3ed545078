import { describe, expect, it } from 'vitest';
import type { AlertInput } from '../src/engine/alert-input.js';
import type { AlertSignal } from '../src/engine/alert-signal.js';
import { type DeviceInfo, type EngineLane, laneOf, RuleEngine } from '../src/engine/rule-engine.js';
import { defaultRuleSet } from '../src/rules/default-rules.js';
import { device, deviceEvent, gauge, heartbeat, kitchen, S, status, T0 } from './support.js';

/**
 * The alarm lane apart from the bulk lane (issue 12): an alerting node runs two engines, the
 * event rules on the alarm thread and every other rule on the bulk lane's thread, which also
 * gets the alarm lane's messages (presence, wills). Together they must say exactly what one
 * engine says.
 */

const devices: DeviceInfo[] = [
  device('smoke-1', 'fire', { reportIntervalS: 300 }),
  device('smoke-2', 'fire'),
  device('k-1', 'kitchen'),
  device('g-1', 'extinguisher'),
];
const lookup = (gateway: string, id: string) => devices.find((d) => d.gateway === gateway && d.device === id);
const engine = (lane?: EngineLane) =>
  new RuleEngine({ rules: defaultRuleSet(), devices: lookup, clock: () => T0, ...(lane ? { lane } : {}) });

/** The messages of one second of the script (seconds after T0). */
function script(s: number): AlertInput[] {
  const at = T0 + s * S;
  const out: AlertInput[] = [];
  if (s % 30 === 0 && s < 2200) out.push(heartbeat(at));
  // The kitchen reports every 60 s: normal, then a fast rise through both heat limits, then back.
  if ((s % 60 === 0 || (s >= 300 && s < 480)) && s < 900) {
    const t = s < 300 ? 25 : s < 480 ? 25 + (s - 300) / 4 : 30;
    out.push(kitchen('k-1', t, at));
  }
  if (s % 60 === 0 && s < 900) out.push(gauge('g-1', s >= 120 && s < 240 ? 0.3 : 1.2, at));
  if (s === 50) out.push(deviceEvent('smoke-1', 'fire', 'fault', at));
  if (s === 70) out.push(deviceEvent('smoke-1', 'fire', 'restore', at));
  if (s === 100) out.push(deviceEvent('smoke-1', 'fire', 'fire', at, { zone: '3F 东走廊' }));
  if (s === 130) out.push(deviceEvent('smoke-2', 'fire', 'disabled', at));
  if (s === 160) out.push(deviceEvent('smoke-2', 'fire', 'fire', at));
  // smoke-1 says nothing else until an event at 2,000 s clears its absence (presence from the alarm lane).
  if (s === 2000) out.push(deviceEvent('smoke-1', 'fire', 'test', at));
  // The gateway's last will, then silence, then back.
  if (s === 2200) out.push(status('offline', at, 'will'));
  if (s === 2600) out.push(status('online', at, 'connect'), heartbeat(at));
  return out;
}

const describeSignal = (s: AlertSignal) =>
  `${(s.at - T0) / S} ${s.type} ${s.key} ${s.reason}${s.deviceDisabled ? ' 屏蔽' : ''}`;

function runOne(from: number, to: number, e = engine()): string[] {
  const out: string[] = [];
  for (let s = from; s <= to; s += 10) {
    for (const input of script(s)) out.push(...e.handle(input).map(describeSignal));
    out.push(...e.tick(T0 + s * S).map(describeSignal));
  }
  return out;
}

function runLanes(from: number, to: number, alarm = engine('alarm'), bulk = engine('bulk')): string[] {
  const out: string[] = [];
  for (let s = from; s <= to; s += 10) {
    for (const input of script(s)) {
      if (input.type === 'telemetry' || input.type === 'heartbeat') {
        out.push(...bulk.handle(input).map(describeSignal));
      } else {
        // The alarm thread first; then the message goes on to the bulk lane as presence.
        out.push(...alarm.handle(input).map(describeSignal));
        out.push(...bulk.handle(input).map(describeSignal));
      }
    }
    out.push(...alarm.tick(T0 + s * S).map(describeSignal));
    out.push(...bulk.tick(T0 + s * S).map(describeSignal));
  }
  return out;
}

describe('the rule engine split into an alarm lane and a bulk lane', () => {
  it('raises and clears exactly what one engine does', () => {
    const one = runOne(0, 3500);
    // The script exercises every half: fire alarms (one from a disabled detector), fault and
    // restore, thresholds, rate of rise, absence cleared by an event, the will, inhibition.
    const rules = new Set(one.map((l) => l.split(' ')[2]?.split(':')[0]));
    expect([...rules].sort()).toEqual(
      [
        'device-fault',
        'device-offline',
        'extinguisher-under-pressure',
        'fire-alarm',
        'fire-detector-disabled',
        'gateway-offline',
        'kitchen-heat-alarm',
        'kitchen-heat-warning',
        'kitchen-rate-of-rise',
      ].sort(),
    );
    expect(one.some((l) => l.includes('fire-alarm:gw-1/smoke-2') && l.endsWith('屏蔽'))).toBe(true);
    expect(one.some((l) => l.startsWith('2000 clear device-offline:gw-1/smoke-1'))).toBe(true);
    expect(runLanes(0, 3500).sort()).toEqual([...one].sort());
  });

  it('keeps each half to its lane: events on the alarm lane, everything else on the bulk lane', () => {
    const alarm = engine('alarm');
    const bulk = engine('bulk');
    const rules = new Set(defaultRuleSet().rules.map((r) => r.id));
    const lanes = runLanes(0, 3500, alarm, bulk);
    expect(lanes.length).toBeGreaterThan(0);
    // The alarm lane's engine watches nothing (no absence there): only devices that sent events.
    alarm.watch([...devices, device('smoke-9', 'fire')], T0);
    expect(
      alarm
        .snapshot()
        .devices.map((d) => d.device)
        .sort(),
    ).toEqual(['smoke-1', 'smoke-2']);
    for (const a of alarm.openAlerts()) expect(laneOf(ruleOf(a.rule))).toBe('alarm');
    for (const a of bulk.openAlerts()) expect(laneOf(ruleOf(a.rule))).toBe('bulk');
    expect(rules.size).toBeGreaterThan(0);
  });

  it('splits a state saved by one engine: each lane restores its half and goes on as one engine would', () => {
    const before = engine();
    runOne(0, 1000, before);
    const saved = before.snapshot(T0 + 1000 * S);
    const one = engine();
    one.restore(saved, T0 + 1000 * S);
    const alarm = engine('alarm');
    const bulk = engine('bulk');
    alarm.restore(saved, T0 + 1000 * S);
    bulk.restore(saved, T0 + 1000 * S);
    const alarmState = alarm.snapshot();
    expect(alarmState.conditions).toEqual([]);
    expect(alarmState.alerts.every((a) => laneOf(ruleOf(a.rule)) === 'alarm')).toBe(true);
    expect(bulk.snapshot().alerts.every((a) => laneOf(ruleOf(a.rule)) === 'bulk')).toBe(true);
    expect(runLanes(1010, 3500, alarm, bulk).sort()).toEqual(runOne(1010, 3500, one).sort());
  });
});

function ruleOf(id: string) {
  const rule = defaultRuleSet().rules.find((r) => r.id === id);
  if (!rule) throw new Error(`no rule ${id}`);
  return rule;
}
