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
  electrical: ['电气火灾', 'Electrical fire'],
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
  videoReview: ['视频复核', 'Video review'],
  snapshotOf: ['{camera} 抓拍', 'snapshot from {camera}'],
  online: ['在线', 'online'],
  connecting: ['连接中…', 'connecting…'],
  disconnected: ['连接已断开，正在重连', 'disconnected, reconnecting'],
  minutes: ['分', 'min'],
  seconds: ['秒', 's'],
  save: ['保存', 'Save'],
  cancel: ['取消', 'Cancel'],
  submit: ['提交', 'Submit'],
  reports: ['报表', 'Reports'],
  closeAfterVerify: ['核实后才能关闭', 'Verify it before closing'],
  errAlertChanged: [
    '这条告警的状态已经变化（可能已有他人处理），请查看最新状态',
    'This alert has changed (someone may have acted on it); check its state',
  ],
  errAlertGone: ['这条告警已不存在', 'This alert no longer exists'],
  errBadRequest: ['提交的内容有误，请检查后重试', 'Something in the form is not right; check it and try again'],
  errNotFound: ['要找的内容不存在', 'Not found'],
  errForbidden: ['没有权限执行此操作', 'You are not allowed to do this'],
  errNetwork: ['网络异常，请检查网络后重试', 'Network problem; check the connection and try again'],
  errServer: ['服务暂时不可用，请稍后重试', 'The service is unavailable; try again shortly'],
  errOther: ['操作未成功，请稍后重试', 'That did not work; try again shortly'],
  handlingRecord: ['处置记录', 'Handling record'],
  alertHistory: ['告警记录', 'Alert history'],
  institutionList: ['机构列表', 'Institutions'],
  allInstitutions: ['全部机构', 'All institutions'],
  allKinds: ['全部类型', 'All kinds'],
  allVerdicts: ['全部核实结果', 'Any verdict'],
  kind: ['类型', 'Kind'],
  from: ['开始日期', 'From'],
  to: ['结束日期', 'To'],
  time: ['时间', 'Time'],
  institution: ['机构', 'Institution'],
  alertName: ['告警', 'Alert'],
  reason: ['详情', 'Details'],
  status: ['状态', 'Status'],
  noMatchingAlerts: ['没有符合条件的告警', 'No alerts match'],
  prevPage: ['上一页', 'Previous'],
  nextPage: ['下一页', 'Next'],
  pageN: ['第 {n} 页', 'Page {n}'],
  show: ['查看', 'Show'],
  hide: ['收起', 'Hide'],
  searchInstitutions: ['按名称、编号或乡镇查找', 'Find by name, id or town'],
  town: ['乡镇', 'Town'],
  openAlertsShort: ['未关闭告警', 'Open alerts'],
  noMatchingInstitutions: ['没有符合条件的机构', 'No institutions match'],
  open_view: ['进入', 'Open'],
  soundOn: ['声音', 'Sound'],
  soundOff: ['已静音', 'Muted'],
  soundIsOff: ['报警声音已关闭', 'alarm sound off'],
  alarmVolume: ['报警音量', 'Alarm volume'],
  connectionLost: ['与监测中心的连接已中断', 'Connection to the monitoring centre lost'],
  lastUpdate: ['画面最后更新于', 'Last updated'],
  reconnecting: ['正在重新连接，画面内容可能已过时', 'Reconnecting; what is shown may be out of date'],
  sessionExpired: ['登录已过期，请重新登录', 'Your session has ended; sign in again'],
  loadFailed: ['加载失败，请检查网络后重试', 'Could not load; check the network and try again'],
  noHandled: ['近期没有已处置的告警', 'No alerts handled recently'],
  stepRaised: ['报警', 'Raised'],
  stepAcknowledged: ['确认', 'Acknowledged'],
  stepVerified: ['核实', 'Verified'],
  stepClosed: ['关闭', 'Closed'],
  stepResolved: ['已自动恢复', 'Cleared by itself'],
  chooseVerdict: ['请选择核实结果', 'Choose what it was'],
  enableNotices: ['开启火警系统通知', 'Turn on fire-alarm notifications'],
  noticesDenied: [
    '系统通知已被浏览器禁止，请在浏览器设置中允许',
    'Notifications are blocked; allow them in the browser settings',
  ],
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
