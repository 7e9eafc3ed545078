/**
 * The tables of GB/T 26875.3-2011 (城市消防远程监控系统 第3部分：报警传输网络通信协议) that the
 * codec and its users need: command bytes (table 2), data unit type flags (table 3), system types
 * (table 4), component types (table 5) and analog value types (table 6). Values the standard
 * reserves or leaves to users (128–255) have no entry; a lookup then returns undefined and the
 * caller shows the number.
 */

/** Command byte of the control unit (§8.2.1, table 2). */
export const Command = {
  /** 控制命令: centre → UITD, answered with a confirm (e.g. clock sync, duty check). */
  control: 1,
  /** 发送数据: UITD → centre (alarms, status), answered with a confirm. */
  send: 2,
  /** 确认: the answer to `control` and `send`. */
  confirm: 3,
  /** 请求: a query, answered with a `response`. */
  request: 4,
  /** 应答: the answer to `request`. */
  response: 5,
  /** 否认: a frame was received but refused (bad checksum, unknown command, too long). */
  deny: 6,
} as const;
export type CommandName = keyof typeof Command;

/** Application data unit type flags (类型标志, table 3). Upstream 1–28, downstream 61–91. */
export const DataType = {
  systemStatus: 1,
  componentStatus: 2,
  analogValue: 3,
  systemOperation: 4,
  systemVersion: 5,
  systemConfig: 6,
  componentConfig: 7,
  systemTime: 8,
  uitdStatus: 21,
  uitdOperation: 24,
  uitdVersion: 25,
  uitdConfig: 26,
  uitdTime: 28,
  readSystemStatus: 61,
  readComponentStatus: 62,
  readAnalogValue: 63,
  readSystemOperation: 64,
  readSystemVersion: 65,
  readSystemConfig: 66,
  readComponentConfig: 67,
  readSystemTime: 68,
  readUitdStatus: 81,
  readUitdOperation: 84,
  readUitdVersion: 85,
  readUitdConfig: 86,
  readUitdTime: 88,
  initUitd: 89,
  /** 同步用户信息传输装置时钟. */
  syncClock: 90,
  /** 查岗命令: the centre asks the fire control room to answer (GB 25506: staffed around the clock). */
  dutyCheck: 91,
} as const;
export type DataTypeName = keyof typeof DataType;

/** 建筑消防设施系统类型 (table 4). */
export const SYSTEM_TYPES: Readonly<Record<number, string>> = {
  0: '通用',
  1: '火灾报警系统',
  10: '消防联动控制器',
  11: '消火栓系统',
  12: '自动喷水灭火系统',
  13: '气体灭火系统',
  14: '水喷雾灭火系统（泵启动方式）',
  15: '水喷雾灭火系统（压力容器启动方式）',
  16: '泡沫灭火系统',
  17: '干粉灭火系统',
  18: '防烟排烟系统',
  19: '防火门及卷帘系统',
  20: '消防电梯',
  21: '消防应急广播',
  22: '消防应急照明和疏散指示系统',
  23: '消防电源',
  24: '消防电话',
};

/** 建筑消防设施部件类型 (table 5). */
export const COMPONENT_TYPES: Readonly<Record<number, string>> = {
  0: '通用',
  1: '火灾报警控制器',
  10: '可燃气体探测器',
  11: '点型可燃气体探测器',
  12: '独立式可燃气体探测器',
  13: '线型可燃气体探测器',
  16: '电气火灾监控报警器',
  17: '剩余电流式电气火灾监控探测器',
  18: '测温式电气火灾监控探测器',
  21: '探测回路',
  22: '火灾显示盘',
  23: '手动火灾报警按钮',
  24: '消火栓按钮',
  25: '火灾探测器',
  30: '感温火灾探测器',
  31: '点型感温火灾探测器',
  32: '点型感温火灾探测器（S型）',
  33: '点型感温火灾探测器（R型）',
  34: '线型感温火灾探测器',
  35: '线型感温火灾探测器（S型）',
  36: '线型感温火灾探测器（R型）',
  37: '光纤感温火灾探测器',
  40: '感烟火灾探测器',
  41: '点型离子感烟火灾探测器',
  42: '点型光电感烟火灾探测器',
  43: '线型光束感烟火灾探测器',
  44: '吸气式感烟火灾探测器',
  50: '复合式火灾探测器',
  51: '复合式感烟感温火灾探测器',
  52: '复合式感光感温火灾探测器',
  53: '复合式感光感烟火灾探测器',
  61: '紫外火焰探测器',
  62: '红外火焰探测器',
  69: '感光火灾探测器',
  74: '气体探测器',
  78: '图像摄像方式火灾探测器',
  79: '感声火灾探测器',
  81: '气体灭火控制器',
  82: '消防电气控制装置',
  83: '消防控制室图形显示装置',
  84: '模块',
  85: '输入模块',
  86: '输出模块',
  87: '输入/输出模块',
  88: '中继模块',
  91: '消防水泵',
  92: '消防水箱',
  95: '喷淋泵',
  96: '水流指示器',
  97: '信号阀',
  98: '报警阀',
  99: '压力开关',
  101: '阀驱动装置',
  102: '防火门',
  103: '防火阀',
  104: '通风空调',
  105: '泡沫液泵',
  106: '管网电磁阀',
  111: '防烟排烟风机',
  113: '排烟防火阀',
  114: '常闭送风口',
  115: '排烟口',
  116: '电控挡烟垂壁',
  117: '防火卷帘控制器',
  118: '防火门监控器',
  121: '报警装置',
};

/** Component types of the electrical fire monitoring system (电气火灾监控系统, GB 14287). */
export const ComponentType = {
  general: 0,
  fireAlarmController: 1,
  combustibleGasDetector: 10,
  pointCombustibleGasDetector: 11,
  standaloneCombustibleGasDetector: 12,
  lineCombustibleGasDetector: 13,
  electricalFireMonitor: 16,
  /** 剩余电流式电气火灾监控探测器. */
  residualCurrentDetector: 17,
  /** 测温式电气火灾监控探测器. */
  temperatureElectricalDetector: 18,
} as const;

/** True for the component types of the electrical fire monitoring system (16–18). */
export function isElectricalComponent(type: number): boolean {
  return type >= 16 && type <= 18;
}

/** True for the combustible gas detector types (10–13). */
export function isCombustibleGasComponent(type: number): boolean {
  return type >= 10 && type <= 13;
}

export interface AnalogType {
  name: string;
  unit: string;
  /** The value on the wire is an int16 in units of `scale` (0.1 °C: 0.1). */
  scale: number;
}

/** 模拟量类型 (table 6): value = int16 × scale, in `unit`. */
export const ANALOG_TYPES: Readonly<Record<number, AnalogType>> = {
  1: { name: '事件计数', unit: '件', scale: 1 },
  2: { name: '高度', unit: 'm', scale: 0.01 },
  3: { name: '温度', unit: '°C', scale: 0.1 },
  4: { name: '压力', unit: 'MPa', scale: 0.1 },
  5: { name: '压力', unit: 'kPa', scale: 0.1 },
  6: { name: '气体浓度', unit: '%LEL', scale: 0.1 },
  7: { name: '时间', unit: 's', scale: 1 },
  8: { name: '电压', unit: 'V', scale: 0.1 },
  9: { name: '电流', unit: 'A', scale: 0.1 },
  10: { name: '流量', unit: 'L/s', scale: 0.1 },
  11: { name: '风量', unit: 'm³/min', scale: 0.1 },
  12: { name: '风速', unit: 'm/s', scale: 1 },
};

export const AnalogKind = {
  count: 1,
  height: 2,
  temperature: 3,
  pressureMpa: 4,
  pressureKpa: 5,
  gasLel: 6,
  seconds: 7,
  voltage: 8,
  current: 9,
  flow: 10,
  airVolume: 11,
  windSpeed: 12,
} as const;

/** The name of a system type, or `系统类型 N` for reserved and user-defined values. */
export const systemTypeName = (t: number): string => SYSTEM_TYPES[t] ?? `系统类型 ${t}`;
/** The name of a component type, or `部件类型 N` for reserved and user-defined values. */
export const componentTypeName = (t: number): string => COMPONENT_TYPES[t] ?? `部件类型 ${t}`;
