/**
 * Status words and operation flags, bit by bit (GB/T 26875.3-2011 §8.2.1.1, §8.2.1.2, §8.2.1.8,
 * §8.2.1.4, §8.2.1.9). Bits may be set together: a detector can be in fire and disabled at once.
 */

/** Bits of a building fire system's status word (u16, §8.2.1.1). */
export interface SystemStatusFlags {
  /** bit 0 = 0: test (测试); 1: normal operation. */
  test: boolean;
  fire: boolean;
  fault: boolean;
  /** 屏蔽 */
  disabled: boolean;
  /** 监管 */
  supervisory: boolean;
  /** 启动（开启） */
  started: boolean;
  /** 反馈 */
  feedback: boolean;
  /** 延时 */
  delay: boolean;
  mainPowerFault: boolean;
  backupPowerFault: boolean;
  busFault: boolean;
  /** 手动状态 (automatic otherwise) */
  manual: boolean;
  configChanged: boolean;
  reset: boolean;
}

/** Bits of a component's status word (u16, §8.2.1.2); bit 8 is its power fault. */
export interface ComponentStatusFlags {
  test: boolean;
  fire: boolean;
  fault: boolean;
  disabled: boolean;
  supervisory: boolean;
  started: boolean;
  feedback: boolean;
  delay: boolean;
  powerFault: boolean;
}

/** Bits of the UITD's own status byte (§8.2.1.8). */
export interface UitdStatusFlags {
  test: boolean;
  fire: boolean;
  fault: boolean;
  mainPowerFault: boolean;
  backupPowerFault: boolean;
  /** 与监控中心通信信道故障 */
  centreLinkFault: boolean;
  /** 监测连接线路故障: the line from the UITD to the panel. */
  panelLineFault: boolean;
}

/** A building fire system's operation flags (§8.2.1.4). */
export interface SystemOperationFlags {
  reset: boolean;
  /** 消音 */
  mute: boolean;
  manualAlarm: boolean;
  /** 警情消除 */
  alarmCleared: boolean;
  selfTest: boolean;
  /** 确认 */
  confirm: boolean;
  test: boolean;
}

/** The UITD's operation flags (§8.2.1.9); bit 5 is the answer to a duty check (查岗应答). */
export interface UitdOperationFlags {
  reset: boolean;
  mute: boolean;
  manualAlarm: boolean;
  alarmCleared: boolean;
  selfTest: boolean;
  dutyCheckAnswer: boolean;
  test: boolean;
}

const bit = (word: number, n: number) => ((word >>> n) & 1) === 1;

export function systemStatusFlags(word: number): SystemStatusFlags {
  return {
    test: !bit(word, 0),
    fire: bit(word, 1),
    fault: bit(word, 2),
    disabled: bit(word, 3),
    supervisory: bit(word, 4),
    started: bit(word, 5),
    feedback: bit(word, 6),
    delay: bit(word, 7),
    mainPowerFault: bit(word, 8),
    backupPowerFault: bit(word, 9),
    busFault: bit(word, 10),
    manual: bit(word, 11),
    configChanged: bit(word, 12),
    reset: bit(word, 13),
  };
}

export function componentStatusFlags(word: number): ComponentStatusFlags {
  return {
    test: !bit(word, 0),
    fire: bit(word, 1),
    fault: bit(word, 2),
    disabled: bit(word, 3),
    supervisory: bit(word, 4),
    started: bit(word, 5),
    feedback: bit(word, 6),
    delay: bit(word, 7),
    powerFault: bit(word, 8),
  };
}

export function uitdStatusFlags(byte: number): UitdStatusFlags {
  return {
    test: !bit(byte, 0),
    fire: bit(byte, 1),
    fault: bit(byte, 2),
    mainPowerFault: bit(byte, 3),
    backupPowerFault: bit(byte, 4),
    centreLinkFault: bit(byte, 5),
    panelLineFault: bit(byte, 6),
  };
}

export function systemOperationFlags(byte: number): SystemOperationFlags {
  return {
    reset: bit(byte, 0),
    mute: bit(byte, 1),
    manualAlarm: bit(byte, 2),
    alarmCleared: bit(byte, 3),
    selfTest: bit(byte, 4),
    confirm: bit(byte, 5),
    test: bit(byte, 6),
  };
}

export function uitdOperationFlags(byte: number): UitdOperationFlags {
  return {
    reset: bit(byte, 0),
    mute: bit(byte, 1),
    manualAlarm: bit(byte, 2),
    alarmCleared: bit(byte, 3),
    selfTest: bit(byte, 4),
    dutyCheckAnswer: bit(byte, 5),
    test: bit(byte, 6),
  };
}

/** Builds a component status word; what is not given is off, and `test` off means normal (bit 0 set). */
export function componentStatusWord(f: Partial<ComponentStatusFlags>): number {
  return (
    (f.test ? 0 : 1) |
    (f.fire ? 1 << 1 : 0) |
    (f.fault ? 1 << 2 : 0) |
    (f.disabled ? 1 << 3 : 0) |
    (f.supervisory ? 1 << 4 : 0) |
    (f.started ? 1 << 5 : 0) |
    (f.feedback ? 1 << 6 : 0) |
    (f.delay ? 1 << 7 : 0) |
    (f.powerFault ? 1 << 8 : 0)
  );
}

/** Builds a system status word (same convention as {@link componentStatusWord}). */
export function systemStatusWord(f: Partial<SystemStatusFlags>): number {
  return (
    (f.test ? 0 : 1) |
    (f.fire ? 1 << 1 : 0) |
    (f.fault ? 1 << 2 : 0) |
    (f.disabled ? 1 << 3 : 0) |
    (f.supervisory ? 1 << 4 : 0) |
    (f.started ? 1 << 5 : 0) |
    (f.feedback ? 1 << 6 : 0) |
    (f.delay ? 1 << 7 : 0) |
    (f.mainPowerFault ? 1 << 8 : 0) |
    (f.backupPowerFault ? 1 << 9 : 0) |
    (f.busFault ? 1 << 10 : 0) |
    (f.manual ? 1 << 11 : 0) |
    (f.configChanged ? 1 << 12 : 0) |
    (f.reset ? 1 << 13 : 0)
  );
}

/** Builds the UITD status byte. */
export function uitdStatusByte(f: Partial<UitdStatusFlags>): number {
  return (
    (f.test ? 0 : 1) |
    (f.fire ? 1 << 1 : 0) |
    (f.fault ? 1 << 2 : 0) |
    (f.mainPowerFault ? 1 << 3 : 0) |
    (f.backupPowerFault ? 1 << 4 : 0) |
    (f.centreLinkFault ? 1 << 5 : 0) |
    (f.panelLineFault ? 1 << 6 : 0)
  );
}

/** Builds the UITD operation byte. */
export function uitdOperationByte(f: Partial<UitdOperationFlags>): number {
  return (
    (f.reset ? 1 : 0) |
    (f.mute ? 1 << 1 : 0) |
    (f.manualAlarm ? 1 << 2 : 0) |
    (f.alarmCleared ? 1 << 3 : 0) |
    (f.selfTest ? 1 << 4 : 0) |
    (f.dutyCheckAnswer ? 1 << 5 : 0) |
    (f.test ? 1 << 6 : 0)
  );
}
