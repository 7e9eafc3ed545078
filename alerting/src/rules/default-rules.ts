import { z } from 'zod';
import { DEFAULT_HEARTBEAT_INTERVAL_S, Rule, type RuleInput, type RuleSet } from './rule-schema.js';

/**
 * The default rules per device kind, from shared/DOMAIN.md. Every number here is a default that
 * a rule file or an institution/device override can change; the ones marked (secondary) come
 * from secondary sources. Only the fire alarm is fixed: critical, manual, always enabled.
 */
export const DEFAULT_RULE_INPUTS: readonly RuleInput[] = [
  // ---------------------------------------------------------------- fire detectors and panels
  {
    id: 'fire-alarm',
    name: { zh: '火灾报警', en: 'Fire alarm' },
    kind: 'event',
    // GB 26875.1: to the monitoring center within 10 s, ahead of everything else.
    severity: 'critical',
    scope: { kinds: ['fire'] },
    events: ['fire'],
    // DOMAIN.md: a recovering detector never closes a fire alarm; a person verifies and closes it.
    resolve: 'manual',
  },
  {
    id: 'device-fault',
    name: { zh: '设备故障', en: 'Device fault' },
    kind: 'event',
    severity: 'major',
    scope: { kinds: ['fire', 'extinguisher', 'kitchen', 'camera', 'electrical'] },
    events: ['fault'],
    clearOn: ['restore'],
    resolve: 'auto',
  },
  {
    id: 'device-tamper',
    name: { zh: '设备被拆动', en: 'Device tampered with' },
    kind: 'event',
    severity: 'major',
    scope: { kinds: ['fire', 'extinguisher', 'kitchen', 'camera', 'electrical'] },
    events: ['tamper'],
    clearOn: ['restore'],
    resolve: 'auto',
  },
  {
    id: 'fire-detector-disabled',
    name: { zh: '探测器被屏蔽', en: 'Detector disabled' },
    kind: 'event',
    // GB 26875.3 component status bit "disabled": the room is unprotected.
    severity: 'major',
    scope: { kinds: ['fire'] },
    events: ['disabled'],
    clearOn: ['restore'],
    resolve: 'auto',
  },
  {
    id: 'fire-supervisory',
    name: { zh: '监管报警', en: 'Supervisory signal' },
    kind: 'event',
    severity: 'minor',
    scope: { kinds: ['fire'] },
    events: ['supervisory'],
    clearOn: ['restore'],
    resolve: 'auto',
  },
  // ---------------------------------------------------------------- pressure gauges
  {
    id: 'extinguisher-empty',
    name: { zh: '灭火器压力为零', en: 'Extinguisher at zero pressure' },
    kind: 'threshold',
    // DOMAIN.md: zero pressure is critical.
    severity: 'critical',
    scope: { kinds: ['extinguisher'], medium: 'dry_powder' },
    field: 'pressure',
    op: '<=',
    raise: 0,
    clear: 0.1,
    resolve: 'auto',
  },
  {
    id: 'extinguisher-under-pressure',
    name: { zh: '灭火器欠压', en: 'Extinguisher under-pressure' },
    kind: 'threshold',
    // GB 50444: green zone about 1.0–1.4 MPa; red below.
    severity: 'major',
    scope: { kinds: ['extinguisher'], medium: 'dry_powder' },
    field: 'pressure',
    op: '<',
    raise: 1.0,
    clear: 1.05,
    resolve: 'auto',
  },
  {
    id: 'extinguisher-over-pressure',
    name: { zh: '灭火器超压', en: 'Extinguisher over-pressure' },
    kind: 'threshold',
    // Yellow above 1.4 MPa (secondary).
    severity: 'minor',
    scope: { kinds: ['extinguisher'], medium: 'dry_powder' },
    field: 'pressure',
    op: '>',
    raise: 1.4,
    clear: 1.35,
    resolve: 'auto',
  },
  {
    id: 'extinguisher-low-pressure-event',
    name: { zh: '灭火器低压（设备上报）', en: 'Extinguisher low pressure (reported)' },
    kind: 'event',
    severity: 'major',
    scope: { kinds: ['extinguisher'] },
    events: ['low_pressure'],
    clearOn: ['restore'],
    resolve: 'auto',
  },
  {
    id: 'extinguisher-moved',
    name: { zh: '灭火器被移动', en: 'Extinguisher moved' },
    kind: 'event',
    severity: 'minor',
    scope: { kinds: ['extinguisher'] },
    events: ['moved'],
    clearOn: ['restore'],
    resolve: 'auto',
  },
  {
    id: 'sprinkler-low-pressure',
    name: { zh: '喷淋末端压力不足', en: 'Sprinkler worst-point pressure low' },
    kind: 'threshold',
    // GB 50974: sprinkler worst point ≥ 0.05 MPa.
    severity: 'major',
    scope: { kinds: ['extinguisher'], medium: 'sprinkler' },
    field: 'pressure',
    op: '<',
    raise: 0.05,
    clear: 0.06,
    resolve: 'auto',
  },
  {
    id: 'hydrant-static-low-pressure',
    name: { zh: '消火栓静压不足', en: 'Hydrant static pressure low' },
    kind: 'threshold',
    // GB 50974: 0.07 / 0.10 / 0.15 MPa by building class; 0.10 by default, override per institution.
    severity: 'major',
    scope: { kinds: ['extinguisher'], medium: 'hydrant_static' },
    field: 'pressure',
    op: '<',
    raise: 0.1,
    clear: 0.11,
    resolve: 'auto',
  },
  // ---------------------------------------------------------------- kitchens
  {
    id: 'kitchen-heat-warning',
    name: { zh: '厨房温度偏高', en: 'Kitchen temperature high' },
    kind: 'threshold',
    // EN 54-5 / GB 4716 class A1: max application temperature 50 °C.
    severity: 'major',
    scope: { kinds: ['kitchen'] },
    field: 'temperature',
    op: '>',
    raise: 50,
    clear: 48,
    resolve: 'auto',
  },
  {
    id: 'kitchen-heat-alarm',
    name: { zh: '厨房高温报警', en: 'Kitchen heat alarm' },
    kind: 'threshold',
    // Class A1 static response 54–65 °C: alarm at 54 °C. A heat alarm is a fire alarm: manual.
    severity: 'critical',
    scope: { kinds: ['kitchen'] },
    field: 'temperature',
    op: '>=',
    raise: 54,
    clear: 50,
    resolve: 'manual',
  },
  {
    id: 'kitchen-rate-of-rise',
    name: { zh: '厨房温度骤升', en: 'Kitchen rate-of-rise alarm' },
    kind: 'rate-of-rise',
    // Class A1R: a rise of ≥ 8 °C/min sustained for 1 min alarms before the static threshold.
    severity: 'critical',
    scope: { kinds: ['kitchen'] },
    field: 'temperature',
    risePerMin: 8,
    windowS: 60,
    segments: 3,
    resolve: 'manual',
  },
  {
    id: 'kitchen-gas',
    name: { zh: '可燃气体报警', en: 'Combustible gas alarm' },
    kind: 'threshold',
    // GB 15322: first-level alarm at 25 % LEL (secondary).
    severity: 'critical',
    scope: { kinds: ['kitchen'] },
    field: 'gasLel',
    op: '>=',
    raise: 25,
    clear: 20,
    resolve: 'manual',
  },
  {
    id: 'kitchen-device-alarm',
    name: { zh: '厨房探测器报警', en: 'Kitchen detector alarm' },
    kind: 'event',
    severity: 'critical',
    scope: { kinds: ['kitchen'] },
    events: ['overheat', 'gas'],
    resolve: 'manual',
  },
  // ---------------------------------------------------------------- electrical fire monitoring
  {
    id: 'electrical-residual-current',
    name: { zh: '剩余电流超限', en: 'Residual current high' },
    kind: 'threshold',
    // GB 50116-2013 §9.2.3: residual-current alarm set at 300–500 mA (natural leakage 100–200 mA).
    // 300 by default; an institution whose installation leaks more sets raise: 500 (clear: 450).
    severity: 'major',
    scope: { kinds: ['electrical'] },
    field: 'residualCurrent',
    op: '>=',
    raise: 300,
    clear: 270,
    resolve: 'auto',
  },
  {
    id: 'electrical-cable-warm',
    name: { zh: '线缆温度偏高', en: 'Cable temperature high' },
    kind: 'threshold',
    // Ten degrees short of PVC insulation's 70 °C: time to look before the alarm.
    severity: 'minor',
    scope: { kinds: ['electrical'] },
    field: 'cableTemperature',
    op: '>',
    raise: 60,
    clear: 57,
    resolve: 'auto',
  },
  {
    id: 'electrical-cable-overheat',
    name: { zh: '线缆温度超限', en: 'Cable over-temperature' },
    kind: 'threshold',
    // PVC-insulated cable: 70 °C conductor temperature in continuous use (GB/T 5023 / IEC 60227);
    // XLPE cable is rated 90 °C — set per cable, as GB 14287 temperature detectors are.
    severity: 'major',
    scope: { kinds: ['electrical'] },
    field: 'cableTemperature',
    op: '>=',
    raise: 70,
    clear: 65,
    resolve: 'auto',
  },
  {
    id: 'electrical-detector-alarm',
    name: { zh: '电气火灾监控报警', en: 'Electrical fire monitor alarm' },
    kind: 'event',
    // The detector's own alarm (its set point, a fire panel's component type 17/18 status bit):
    // GB 50116 — the system alarms, it does not cut the supply; people go and look.
    severity: 'major',
    scope: { kinds: ['electrical'] },
    events: ['leakage', 'overheat'],
    clearOn: ['restore'],
    resolve: 'auto',
  },
  // ---------------------------------------------------------------- cameras
  {
    id: 'camera-signal-loss',
    name: { zh: '视频信号丢失', en: 'Camera signal loss' },
    kind: 'event',
    severity: 'major',
    scope: { kinds: ['camera'] },
    events: ['signal_loss'],
    clearOn: ['restore'],
    resolve: 'auto',
  },
  {
    id: 'camera-picture-fault',
    name: { zh: '视频画面异常', en: 'Camera picture fault' },
    kind: 'event',
    // 视频质量诊断: frozen picture, black/too dark/too bright, occlusion, blur.
    severity: 'minor',
    scope: { kinds: ['camera'] },
    events: ['frozen', 'black', 'occlusion', 'too_dark', 'too_bright', 'blurred'],
    clearOn: ['restore'],
    resolve: 'auto',
  },
  {
    id: 'camera-offline',
    name: { zh: '摄像机离线', en: 'Camera offline' },
    kind: 'absence',
    // GB/T 28181: keepalive every 60 s (the protocol default interval for cameras), offline after 3 missed.
    severity: 'major',
    scope: { kinds: ['camera'] },
    subject: 'device',
    missed: 3,
    resolve: 'auto',
  },
  // ---------------------------------------------------------------- devices and gateways
  {
    id: 'device-offline',
    name: { zh: '设备离线', en: 'Device offline' },
    kind: 'absence',
    severity: 'major',
    scope: { kinds: ['fire', 'extinguisher', 'kitchen', 'electrical'] },
    subject: 'device',
    missed: 3,
    resolve: 'auto',
  },
  {
    id: 'device-link-lost',
    name: { zh: '设备链路中断', en: 'Device link lost' },
    kind: 'event',
    // The gateway saw the link drop (a fire panel's UITD connection): at once, not after k × interval.
    severity: 'major',
    scope: { kinds: ['fire', 'extinguisher', 'kitchen', 'camera', 'electrical'] },
    events: ['offline'],
    clearOn: ['restore'],
    resolve: 'auto',
  },
  {
    id: 'gateway-offline',
    name: { zh: '网关离线（机构失联）', en: 'Gateway offline: institution blind' },
    kind: 'absence',
    // Nothing from the institution can arrive, fire alarms included.
    severity: 'critical',
    subject: 'gateway',
    missed: 3,
    intervalS: DEFAULT_HEARTBEAT_INTERVAL_S,
    onWill: true,
    resolve: 'auto',
  },
  {
    id: 'gateway-offline-inhibits-devices',
    name: { zh: '网关离线时抑制设备离线告警', en: 'Gateway offline suppresses device-offline alerts' },
    kind: 'inhibition',
    source: 'gateway-offline',
    suppress: ['device-offline', 'camera-offline'],
  },
];

/** The defaults, parsed (defaults filled in). A fresh array each call. */
export function defaultRules(): Rule[] {
  return z.array(Rule).parse(DEFAULT_RULE_INPUTS);
}

/** The defaults with no overrides. */
export function defaultRuleSet(): RuleSet {
  return { rules: defaultRules(), overrides: [] };
}
