import { ref } from 'vue';

export type Locale = 'zh' | 'en';

const saved = typeof localStorage !== 'undefined' ? localStorage.getItem('anlian.locale') : null;
/** Chinese first; the choice is kept per browser. */
export const locale = ref<Locale>(saved === 'en' ? 'en' : 'zh');

export function toggleLocale(): void {
  locale.value = locale.value === 'zh' ? 'en' : 'zh';
  localStorage.setItem('anlian.locale', locale.value);
  document.documentElement.lang = locale.value === 'zh' ? 'zh-CN' : 'en';
}

const DICT = {
  appTitle: ['安联网 · 养老机构安全监测', 'Anlian · Elder-care safety monitoring'],
  wallTitle: ['{county}养老机构安全监测中心', '{county} elder-care safety monitoring'],
  institutions: ['机构总数', 'Institutions'],
  deviceOnlineRate: ['设备在线率', 'Devices online'],
  openAlarms: ['未关闭告警', 'Open alerts'],
  alarmsToday: ['今日告警', 'Alerts today'],
  mtta: ['平均确认时长', 'Mean time to ack'],
  gatewaysOnline: ['网关在线', 'Gateways online'],
  alarm: ['火警/报警', 'Alarm'],
  warning: ['预警', 'Warning'],
  offline: ['离线', 'Offline'],
  normal: ['正常', 'Normal'],
  liveAlarms: ['实时告警', 'Live alerts'],
  noAlarms: ['暂无未处理告警', 'No open alerts'],
  ticker: ['最新动态', 'Recent events'],
  fire: ['消防报警', 'Fire'],
  extinguisher: ['灭火器压力', 'Extinguishers'],
  kitchen: ['厨房温度', 'Kitchen temperature'],
  camera: ['视频监控', 'Cameras'],
  electrical: ['电气火灾监控', 'Electrical fire monitoring'],
  residualCurrent: ['剩余电流', 'Residual current'],
  cableTemperature: ['线缆温度', 'Cable temperature'],
  circuitsOverLimit: ['回路超限', 'circuits over limit'],
  gateway: ['网关', 'Gateway'],
  outOfRange: ['压力异常', 'out of range'],
  healthy: ['正常', 'healthy'],
  faulty: ['异常', 'faulty'],
  unacknowledged: ['未确认', 'unacknowledged'],
  fireBanner: ['火警', 'FIRE ALARM'],
  fireBannerHint: ['请立即确认', 'acknowledge now'],
  enableSound: ['点击启用报警声音', 'Click to enable alarm sound'],
  login: ['登录', 'Sign in'],
  logout: ['退出', 'Sign out'],
  username: ['用户名', 'Username'],
  password: ['密码', 'Password'],
  loginFailed: ['用户名或密码错误', 'Wrong username or password'],
  rateLimited: ['尝试次数过多，请稍后再试', 'Too many attempts, try again later'],
  acknowledge: ['确认', 'Acknowledge'],
  verify: ['核实', 'Verify'],
  close: ['关闭', 'Close'],
  note: ['处置说明', 'Note'],
  verdict: ['核实结果', 'Verdict'],
  real_fire: ['真实火情', 'Real fire'],
  false_alarm: ['误报', 'False alarm'],
  test: ['测试', 'Test'],
  device_fault: ['设备故障', 'Device fault'],
  open: ['待确认', 'Open'],
  acknowledged: ['已确认', 'Acknowledged'],
  verified: ['已核实', 'Verified'],
  closed: ['已关闭', 'Closed'],
  escalation: ['升级', 'Escalation'],
  escalationLevel: ['第{level}级', 'level {level}'],
  escalationActive: ['升级中', 'escalating'],
  escalationStopped: ['已停止', 'stopped'],
  escalationDone: ['已完成', 'done'],
  nextEscalation: ['下次升级', 'next'],
  myAlarms: ['本机构告警', 'My institution’s alerts'],
  allClear: ['一切正常', 'All clear'],
  riskLevel: ['风险等级', 'Risk level'],
  red: ['重大', 'High'],
  orange: ['较大', 'Elevated'],
  yellow: ['一般', 'Moderate'],
  blue: ['低', 'Low'],
  devices: ['设备', 'Devices'],
  gateways: ['网关', 'Gateways'],
  history: ['历史曲线', 'History'],
  last24h: ['24小时', '24 h'],
  last7d: ['7天', '7 d'],
  cameraHealth: ['摄像头健康', 'Camera health'],
  openAlertsTimeline: ['未关闭告警与处置记录', 'Open alerts and timelines'],
  back: ['返回', 'Back'],
  admin: ['管理', 'Admin'],
  wall: ['大屏', 'Wall'],
  manager: ['我的机构', 'My institution'],
  occurrences: ['次', 'times'],
  drill: ['演练', 'drill'],
  silenced: ['已静默', 'silenced'],
  conditionCleared: ['探测器已复位，待人工关闭', 'condition cleared, awaiting a person'],
  online: ['在线', 'online'],
  connecting: ['连接中…', 'connecting…'],
  disconnected: ['连接已断开，正在重连', 'disconnected, reconnecting'],
  minutes: ['分', 'min'],
  seconds: ['秒', 's'],
  save: ['保存', 'Save'],
  cancel: ['取消', 'Cancel'],
  submit: ['提交', 'Submit'],
} as const satisfies Record<string, readonly [string, string]>;
export type MessageKey = keyof typeof DICT;

/**
 * A `t` for a dictionary of [Chinese, English] pairs: the message in the current language, with
 * `{name}` placeholders filled. Views with many messages of their own (admin) keep their own
 * dictionary beside them.
 */
export function translator<K extends string>(
  dict: Record<K, readonly [string, string]>,
): (key: K, vars?: Record<string, string | number>) => string {
  return (key, vars = {}) =>
    dict[key][locale.value === 'zh' ? 0 : 1].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}

/** The message in the current language, with `{name}` placeholders filled. */
export const t: (key: MessageKey, vars?: Record<string, string | number>) => string = translator(DICT);

/** A server-side localized pair. */
export function tr(text: { zh: string; en: string }): string {
  return locale.value === 'zh' ? text.zh : text.en;
}
