import {
  componentStatusFlags,
  componentTypeName,
  type DataUnit,
  isCombustibleGasComponent,
  isElectricalComponent,
  systemOperationFlags,
  systemStatusFlags,
  systemTypeName,
  type TimeLabel,
  timeLabelToEpochMs,
  uitdOperationFlags,
  uitdStatusFlags,
} from '@anlian/gb26875';
import type { DeviceKind } from '@anlian/protocol';
import type { AnalogField, UitdEntry } from '../../config/fire-panel-config.js';
import type { DeviceEntry } from '../../config/gateway-config.js';
import type { DeviceReading } from '../device-reading.js';

/** What one data unit from a UITD becomes. */
export interface PanelOutcome {
  /** Fire alarms first (GB 26875.1: ahead of everything else), then the rest in order. */
  readings: DeviceReading[];
  /** Answers to a duty check (查岗应答) in this unit. */
  dutyAnswers: { operator: number; at: number }[];
  /** Objects that became nothing: analog values of unlisted components, unknown analog types. */
  ignored: number;
}

export interface AnalogRule {
  field: AnalogField;
  scale: number;
}

// Abnormal conditions tracked per source for `restore`: a device is restored when none is left.
const FAULT = 1;
const DISABLED = 2;
const SUPERVISORY = 4;
const TEST = 8;

/**
 * Standard analog types (GB/T 26875.3 table 6) per device kind: which field, and the scale from
 * the wire's int16 to the field's unit (MPa, °C, % LEL, mA).
 */
function standardAnalog(type: number, kind: DeviceKind): AnalogRule | undefined {
  switch (type) {
    case 3: // 0.1 °C
      if (kind === 'electrical') return { field: 'cableTemperature', scale: 0.1 };
      return kind === 'camera' ? undefined : { field: 'temperature', scale: 0.1 };
    case 4: // 0.1 MPa
      return kind === 'extinguisher' ? { field: 'pressure', scale: 0.1 } : undefined;
    case 5: // 0.1 kPa
      return kind === 'extinguisher' ? { field: 'pressure', scale: 0.0001 } : undefined;
    case 6: // 0.1 % LEL
      return kind === 'kitchen' ? { field: 'gasLel', scale: 0.1 } : undefined;
    case 9: // 0.1 A, as residual current in mA
      return kind === 'electrical' ? { field: 'residualCurrent', scale: 100 } : undefined;
    default:
      return undefined;
  }
}

const round = (v: number) => Math.round(v * 10_000) / 10_000;
/** Panels show a component address as loop/zone (low 16 bits) and point (high 16 bits). */
export const loopOf = (address: number) => address & 0xffff;
export const pointOf = (address: number) => address >>> 16;
const place = (address: number) => `${loopOf(address)}回路${pointOf(address)}号`;

/**
 * Turns a UITD's data units into readings of the contract, for one UITD: its own device (kind
 * `fire`: system and UITD status, and every component not listed) and the listed component
 * devices. Keeps which conditions are active per source, so that a device is `restore`d only
 * when all of its sources are normal again — one panel device stands for hundreds of detectors.
 *
 * - Fire (status bit 1) is a `fire` event every time it is reported, whatever bit 0 says: many
 *   UITDs leave bit 0 (normal/test) clear, the standard's own example frames among them, and a fire
 *   alarm is never mislabelled as a test. Test mode goes into the detail.
 * - On a `fire` device, the alarm bit of an electrical-fire detector (types 16–18) or a combustible
 *   gas detector (10–13) is `supervisory`, not `fire` (list it as an `electrical` or `kitchen`
 *   device for its own alarm and rules).
 * - Fault, disabled (屏蔽), supervisory, power faults: an event when the condition appears.
 */
export class PanelReadings {
  readonly #uitd: UitdEntry;
  readonly #devices: ReadonlyMap<string, DeviceEntry>;
  readonly #utcOffset: number;
  readonly #analog: ReadonlyMap<number, AnalogRule>;
  readonly #components = new Map<string, string>();
  /** device → source → active condition bits. */
  readonly #active = new Map<string, Map<string, number>>();

  constructor(opts: {
    uitd: UitdEntry;
    devices: ReadonlyMap<string, DeviceEntry>;
    utcOffsetMinutes: number;
    analog?: readonly { type: number; field: AnalogField; scale: number }[];
  }) {
    this.#uitd = opts.uitd;
    this.#devices = opts.devices;
    this.#utcOffset = opts.utcOffsetMinutes;
    this.#analog = new Map((opts.analog ?? []).map((a) => [a.type, { field: a.field, scale: a.scale }]));
    for (const c of opts.uitd.components) this.#components.set(`${c.system ?? '*'}/${c.loop}/${c.point}`, c.device);
  }

  /** Forgets every condition (a new connection: the UITD reports its state afresh). */
  clear(): void {
    this.#active.clear();
  }

  /** The device a component reports as: its own when listed, the UITD's otherwise. */
  deviceOf(systemAddress: number, address: number): string {
    const loop = loopOf(address);
    const point = pointOf(address);
    return (
      this.#components.get(`${systemAddress}/${loop}/${point}`) ??
      this.#components.get(`*/${loop}/${point}`) ??
      this.#uitd.device
    );
  }

  /** Device ids of the listed components (for liveness messages). */
  componentDevices(): string[] {
    return [...new Set(this.#uitd.components.map((c) => c.device))];
  }

  readings(unit: DataUnit, now: number): PanelOutcome {
    const out: PanelOutcome = { readings: [], dutyAnswers: [], ignored: 0 };
    const ts = (t: TimeLabel) => timeLabelToEpochMs(t, this.#utcOffset) ?? now;
    if ('raw' in unit) {
      out.ignored++;
      return out;
    }
    switch (unit.type) {
      case 1:
        for (const o of unit.objects) {
          const f = systemStatusFlags(o.status);
          const zone = `${systemTypeName(o.systemType)} ${o.systemAddress}号`;
          if (f.reset) this.#resetSystem(o.systemAddress);
          const faults = [
            f.fault && '故障',
            f.mainPowerFault && '主电故障',
            f.backupPowerFault && '备电故障',
            f.busFault && '总线故障',
          ].filter((x): x is string => typeof x === 'string');
          this.#status(out, {
            device: this.#uitd.device,
            source: `sys/${o.systemType}/${o.systemAddress}`,
            ts: ts(o.time),
            zone,
            what: `${systemTypeName(o.systemType)}`,
            fire: f.fire,
            fireEvent: 'fire',
            bits:
              (faults.length ? FAULT : 0) |
              (f.disabled ? DISABLED : 0) |
              (f.supervisory ? SUPERVISORY : 0) |
              (f.test ? TEST : 0),
            faultText: faults.join('、'),
            test: f.test,
          });
        }
        break;
      case 2:
        for (const o of unit.objects) {
          const f = componentStatusFlags(o.status);
          const device = this.deviceOf(o.systemAddress, o.componentAddress);
          const kind = this.#devices.get(device)?.kind ?? 'fire';
          const name = componentTypeName(o.componentType);
          const faults = [f.fault && '故障', f.powerFault && '电源故障'].filter(
            (x): x is string => typeof x === 'string',
          );
          this.#status(out, {
            device,
            source: `comp/${o.systemType}/${o.systemAddress}/${o.componentAddress}`,
            ts: ts(o.time),
            zone: (o.description || place(o.componentAddress)).slice(0, 64),
            what: `${name} ${place(o.componentAddress)}`,
            fire: f.fire,
            fireEvent: alarmEventOf(kind, o.componentType),
            bits:
              (faults.length ? FAULT : 0) |
              (f.disabled ? DISABLED : 0) |
              (f.supervisory ? SUPERVISORY : 0) |
              (f.test ? TEST : 0),
            faultText: faults.join('、'),
            test: f.test,
            kind,
          });
        }
        break;
      case 3: {
        const byDevice = new Map<string, { ts: number; fields: Record<string, number> }>();
        for (const o of unit.objects) {
          const device = this.deviceOf(o.systemAddress, o.componentAddress);
          const kind = this.#devices.get(device)?.kind;
          // Only listed components: a panel's own analog values (its supply voltage, a counter) are not the panel device's.
          const rule =
            device === this.#uitd.device || kind === undefined
              ? undefined
              : (this.#analog.get(o.analogType) ?? standardAnalog(o.analogType, kind));
          if (!rule) {
            out.ignored++;
            continue;
          }
          const entry = byDevice.get(device) ?? { ts: ts(o.time), fields: {} };
          entry.fields[rule.field] = round(o.raw * rule.scale);
          byDevice.set(device, entry);
        }
        for (const [device, e] of byDevice)
          out.readings.push({ device, message: 'telemetry', ts: e.ts, fields: e.fields });
        break;
      }
      case 4:
        for (const o of unit.objects) {
          const f = systemOperationFlags(o.operation);
          if (f.reset) this.#resetSystem(o.systemAddress);
          if (f.manualAlarm) {
            this.#event(
              out,
              this.#uitd.device,
              ts(o.time),
              'fire',
              `${systemTypeName(o.systemType)} ${o.systemAddress}号`,
              `控制器手动报警（操作员 ${o.operator}）`,
            );
          }
        }
        break;
      case 21:
        for (const o of unit.objects) {
          const f = uitdStatusFlags(o.status);
          const faults = [
            f.fault && '故障',
            f.mainPowerFault && '主电故障',
            f.backupPowerFault && '备电故障',
            f.centreLinkFault && '与监控中心通信故障',
            f.panelLineFault && '监测连接线路故障',
          ].filter((x): x is string => typeof x === 'string');
          this.#status(out, {
            device: this.#uitd.device,
            source: 'uitd',
            ts: ts(o.time),
            zone: '用户信息传输装置',
            what: '用户信息传输装置',
            fire: f.fire,
            fireEvent: 'fire',
            bits: (faults.length ? FAULT : 0) | (f.test ? TEST : 0),
            faultText: faults.join('、'),
            test: f.test,
          });
        }
        break;
      case 24:
        for (const o of unit.objects) {
          const f = uitdOperationFlags(o.operation);
          if (f.dutyCheckAnswer) out.dutyAnswers.push({ operator: o.operator, at: ts(o.time) });
          if (f.reset) this.#active.clear();
          // GB 26875.1: the UITD's own manual alarm button reports a fire.
          if (f.manualAlarm) {
            this.#event(
              out,
              this.#uitd.device,
              ts(o.time),
              'fire',
              '用户信息传输装置',
              `传输装置手动报警（操作员 ${o.operator}）`,
            );
          }
        }
        break;
      default:
        // Versions, configuration, clocks and downstream types carry nothing for the county.
        out.ignored++;
        break;
    }
    out.readings.sort((a, b) => fireRank(a) - fireRank(b));
    return out;
  }

  #status(
    out: PanelOutcome,
    s: {
      device: string;
      source: string;
      ts: number;
      zone: string;
      what: string;
      fire: boolean;
      fireEvent: string;
      bits: number;
      faultText: string;
      test: boolean;
      kind?: DeviceKind;
    },
  ): void {
    const kind = s.kind ?? 'fire';
    const testNote = s.test ? '（测试状态）' : '';
    if (s.fire) {
      const alarm = s.fireEvent === 'fire' ? '火警' : '报警';
      this.#event(out, s.device, s.ts, s.fireEvent, s.zone, `${s.what} ${alarm}${testNote}`);
    }
    const sources = this.#active.get(s.device) ?? new Map<string, number>();
    const before = sources.get(s.source) ?? 0;
    const appeared = s.bits & ~before;
    if (appeared & FAULT) this.#event(out, s.device, s.ts, 'fault', s.zone, `${s.what} ${s.faultText}`);
    if (appeared & DISABLED) {
      this.#event(out, s.device, s.ts, kind === 'fire' ? 'disabled' : 'fault', s.zone, `${s.what} 屏蔽`);
    }
    if (appeared & SUPERVISORY) {
      this.#event(out, s.device, s.ts, kind === 'fire' ? 'supervisory' : 'fault', s.zone, `${s.what} 监管`);
    }
    if (appeared === TEST && !s.fire) this.#event(out, s.device, s.ts, 'test', s.zone, `${s.what} 测试`);
    const abnormalBefore = [...sources.values()].some((b) => (b & ~TEST) !== 0);
    const first = !this.#active.has(s.device);
    if (s.bits === 0) sources.delete(s.source);
    else sources.set(s.source, s.bits);
    this.#active.set(s.device, sources);
    const abnormalNow = [...sources.values()].some((b) => (b & ~TEST) !== 0);
    // Restored: the last abnormal source of the device is normal again (or, the first time after a
    // connect, everything reported is normal: what the county still holds open from before is over).
    if (!abnormalNow && !s.fire && (abnormalBefore || first)) {
      this.#event(out, s.device, s.ts, 'restore', s.zone, `${s.what} 恢复正常`);
    }
  }

  #resetSystem(systemAddress: number): void {
    // A panel reset (复位) clears its alarms and conditions; what is still wrong is reported again.
    for (const sources of this.#active.values()) {
      for (const key of sources.keys()) {
        if (key.startsWith('comp/') && key.split('/')[2] === String(systemAddress)) sources.delete(key);
      }
    }
  }

  #event(out: PanelOutcome, device: string, ts: number, event: string, zone: string, detail: string): void {
    out.readings.push({
      device,
      message: 'event',
      ts,
      fields: { event, zone: zone.slice(0, 64), detail: detail.slice(0, 500) },
    });
  }
}

/** The event a component's alarm bit (status bit 1) is, on a device of `kind`. */
export function alarmEventOf(kind: DeviceKind, componentType: number): string {
  switch (kind) {
    case 'fire':
      return isElectricalComponent(componentType) || isCombustibleGasComponent(componentType) ? 'supervisory' : 'fire';
    case 'electrical':
      return componentType === 18 ? 'overheat' : 'leakage';
    case 'kitchen':
      return isCombustibleGasComponent(componentType) || componentType === 74 ? 'gas' : 'overheat';
    case 'extinguisher':
      return 'low_pressure';
    case 'camera':
      return 'fault';
    default: {
      const never: never = kind;
      return String(never);
    }
  }
}

const fireRank = (r: DeviceReading) => (r.message === 'event' && r.fields.event === 'fire' ? 0 : 1);
