/**
 * Status words and operation flags, bit by bit (GB/T 26875.3-2011 §8.2.1.1, §8.2.1.2, §8.2.1.8,
 * §8.2.1.4, §8.2.1.9). Bits may be set together: a detector can be in fire and disabled at once.
 *
 * Each word is one layout: its flags in bit order, bit 0 first. In a status word bit 0 is the
 * normal-operation bit (1 = normal, 0 = 测试), so the flag `test` there is that bit inverted; in an
 * operation byte every flag is its bit as sent.
 */

interface BitLayout<K extends string> {
  /** Flag names by bit number. */
  readonly bits: readonly K[];
  /** Bit 0 is "normal operation": `test` is true when it is 0. */
  readonly normalAtBit0: boolean;
}

/** Bits of a building fire system's status word (u16, §8.2.1.1). */
const SYSTEM_STATUS = {
  bits: [
    'test',
    'fire',
    'fault',
    'disabled', // 屏蔽
    'supervisory', // 监管
    'started', // 启动（开启）
    'feedback', // 反馈
    'delay', // 延时
    'mainPowerFault',
    'backupPowerFault',
    'busFault',
    'manual', // 手动状态 (automatic otherwise)
    'configChanged',
    'reset',
  ],
  normalAtBit0: true,
} as const satisfies BitLayout<string>;

/** Bits of a component's status word (u16, §8.2.1.2); bit 8 is its power fault. */
const COMPONENT_STATUS = {
  bits: ['test', 'fire', 'fault', 'disabled', 'supervisory', 'started', 'feedback', 'delay', 'powerFault'],
  normalAtBit0: true,
} as const satisfies BitLayout<string>;

/** Bits of the UITD's own status byte (§8.2.1.8). */
const UITD_STATUS = {
  bits: [
    'test',
    'fire',
    'fault',
    'mainPowerFault',
    'backupPowerFault',
    'centreLinkFault', // 与监控中心通信信道故障
    'panelLineFault', // 监测连接线路故障: the line from the UITD to the panel
  ],
  normalAtBit0: true,
} as const satisfies BitLayout<string>;

/** A building fire system's operation flags (§8.2.1.4). */
const SYSTEM_OPERATION = {
  bits: [
    'reset',
    'mute', // 消音
    'manualAlarm',
    'alarmCleared', // 警情消除
    'selfTest',
    'confirm', // 确认
    'test',
  ],
  normalAtBit0: false,
} as const satisfies BitLayout<string>;

/** The UITD's operation flags (§8.2.1.9); bit 5 is the answer to a duty check (查岗应答). */
const UITD_OPERATION = {
  bits: ['reset', 'mute', 'manualAlarm', 'alarmCleared', 'selfTest', 'dutyCheckAnswer', 'test'],
  normalAtBit0: false,
} as const satisfies BitLayout<string>;

type FlagsOf<L extends BitLayout<string>> = Record<L['bits'][number], boolean>;
export type SystemStatusFlags = FlagsOf<typeof SYSTEM_STATUS>;
export type ComponentStatusFlags = FlagsOf<typeof COMPONENT_STATUS>;
export type UitdStatusFlags = FlagsOf<typeof UITD_STATUS>;
export type SystemOperationFlags = FlagsOf<typeof SYSTEM_OPERATION>;
export type UitdOperationFlags = FlagsOf<typeof UITD_OPERATION>;

function flagsOf<K extends string>(layout: BitLayout<K>, word: number): Record<K, boolean> {
  const flags = {} as Record<K, boolean>;
  layout.bits.forEach((name, n) => {
    const set = ((word >>> n) & 1) === 1;
    flags[name] = n === 0 && layout.normalAtBit0 ? !set : set;
  });
  return flags;
}

/** What is not given is off; in a status word `test` off means normal (bit 0 set). */
function wordOf<K extends string>(layout: BitLayout<K>, f: Partial<Record<K, boolean>>): number {
  let word = 0;
  layout.bits.forEach((name, n) => {
    const on = f[name] === true;
    if (n === 0 && layout.normalAtBit0 ? !on : on) word |= 1 << n;
  });
  return word;
}

export const systemStatusFlags = (word: number): SystemStatusFlags => flagsOf(SYSTEM_STATUS, word);
export const componentStatusFlags = (word: number): ComponentStatusFlags => flagsOf(COMPONENT_STATUS, word);
export const uitdStatusFlags = (byte: number): UitdStatusFlags => flagsOf(UITD_STATUS, byte);
export const systemOperationFlags = (byte: number): SystemOperationFlags => flagsOf(SYSTEM_OPERATION, byte);
export const uitdOperationFlags = (byte: number): UitdOperationFlags => flagsOf(UITD_OPERATION, byte);

/** Builds a component status word. */
export const componentStatusWord = (f: Partial<ComponentStatusFlags>): number => wordOf(COMPONENT_STATUS, f);
/** Builds a system status word. */
export const systemStatusWord = (f: Partial<SystemStatusFlags>): number => wordOf(SYSTEM_STATUS, f);
/** Builds the UITD status byte. */
export const uitdStatusByte = (f: Partial<UitdStatusFlags>): number => wordOf(UITD_STATUS, f);
/** Builds the UITD operation byte. */
export const uitdOperationByte = (f: Partial<UitdOperationFlags>): number => wordOf(UITD_OPERATION, f);
