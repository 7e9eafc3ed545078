import type { DeviceKind } from '@anlian/protocol';
import type { Severity } from '../rules/rule-schema.js';
import { type AlertNotification, isHazardNotice } from './notification.js';

/** The texts of one notification; every channel picks the variant it can show. */
export interface FormattedMessage {
  /** One line: `【火警】酉阳县桃花源养老院 2号楼 3层 301室 火灾报警 14:03:22`. */
  title: string;
  /** Plain text, lines separated by `\n`; the title first. */
  text: string;
  /** The subset of Markdown that WeCom, DingTalk and Feishu all render (headings, bold, quotes, links). */
  markdown: string;
}

export const DRILL_MARKER = '[演练]';

/** Leads a real alarm raised while a drill runs for its institution (issue 13): it is not the drill. */
export const NOT_DRILL_MARKER = '[非演练]';

/**
 * China Standard Time is UTC+8 all year (no daylight saving since 1991), so a fixed offset gives
 * Asia/Shanghai wall time without depending on the ICU data the process was built with.
 */
const CHINA_OFFSET_MS = 8 * 3600_000;

/** `14:03:22` (`time`) or `2026-01-05 14:03:22` (`datetime`), Asia/Shanghai. */
export function chinaTime(ms: number, form: 'time' | 'datetime' = 'time'): string {
  const iso = new Date(ms + CHINA_OFFSET_MS).toISOString();
  return form === 'time' ? iso.slice(11, 19) : `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** `45 秒`, `2 分钟`, `1 小时 5 分钟`. */
export function elapsedZh(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} 秒`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} 分钟`;
  const h = Math.floor(min / 60);
  return min % 60 === 0 ? `${h} 小时` : `${h} 小时 ${min % 60} 分钟`;
}

/** A hazard's deadlines are days apart: `3 天 4 小时` from two days on, `elapsedZh` below. */
function daysElapsedZh(ms: number): string {
  const h = Math.floor(Math.max(0, ms) / 3_600_000);
  if (h < 48) return elapsedZh(ms);
  return h % 24 === 0 ? `${h / 24} 天` : `${Math.floor(h / 24)} 天 ${h % 24} 小时`;
}

const SEVERITY_TAG: Record<Severity, string> = { critical: '紧急告警', major: '告警', minor: '提示', info: '通知' };

const ROLE_ZH: Record<string, string> = {
  manager: '负责人',
  deputy: '副负责人',
  duty_officer: '县值班员',
};

const KIND_ZH: Record<DeviceKind, string> = {
  fire: '火灾探测器',
  extinguisher: '压力表',
  kitchen: '厨房探测器',
  camera: '摄像机',
  electrical: '电气火灾探测器',
};

export function roleZh(role: string): string {
  return ROLE_ZH[role] ?? role;
}

function isFire(n: AlertNotification): boolean {
  return n.rule === 'fire-alarm' || (n.device?.kind === 'fire' && n.severity === 'critical');
}

/** The bracketed tag: 火警, 紧急告警, 告警, 提示, 通知, or 已恢复 / 已关闭 when the alert ended. */
export function notificationTag(n: AlertNotification): string {
  if (n.kind === 'resolved') return '已恢复';
  if (n.kind === 'closed') return '已关闭';
  if (n.kind === 'hazard-overdue') return '隐患逾期';
  if (n.kind === 'hazard-due-soon') return '整改提醒';
  return isFire(n) ? '火警' : SEVERITY_TAG[n.severity];
}

const numeric = /^\d+$/;

/** `2号楼 3层 301室`: bare numbers get their unit, named places stay as written. */
export function locationZh(loc: AlertNotification['location']): string {
  if (loc === undefined) return '';
  const parts: string[] = [];
  const building = loc.building.trim();
  const floor = loc.floor.trim();
  const room = loc.room.trim();
  if (building !== '') parts.push(numeric.test(building) ? `${building}号楼` : building);
  if (floor !== '') {
    if (numeric.test(floor)) parts.push(`${floor}层`);
    else if (/^-\d+$/.test(floor)) parts.push(`地下${floor.slice(1)}层`);
    else parts.push(floor);
  }
  if (room !== '') parts.push(numeric.test(room) ? `${room}室` : room);
  return parts.join(' ');
}

function rolesOf(n: AlertNotification): string {
  const roles = [...new Set(n.recipients.map((r) => roleZh(r.role)))];
  return roles.join('、');
}

/** The line under the title that says why this message comes now. */
function statusLine(n: AlertNotification, now: number): string | undefined {
  const since = elapsedZh(now - n.at);
  switch (n.kind) {
    case 'raised':
      return undefined;
    case 'escalated': {
      const roles = rolesOf(n);
      return `升级通知：已 ${since}无人确认${roles === '' ? '' : `，已升级至${roles}`}`;
    }
    case 'reminder':
      return `重复提醒：已 ${since}无人确认，请尽快处置`;
    case 'resolved':
      return `告警已恢复（告警时间 ${chinaTime(n.at)}，持续 ${since}）`;
    case 'closed':
      return `告警已关闭（告警时间 ${chinaTime(n.at)}）`;
    case 'hazard-overdue': {
      const roles = rolesOf(n);
      return `整改逾期：整改期限 ${chinaTime(n.at, 'datetime')}，已逾期 ${daysElapsedZh(now - n.at)}${roles === '' ? '' : `，已通报${roles}`}`;
    }
    case 'hazard-due-soon':
      return `整改期限 ${chinaTime(n.at, 'datetime')}，还剩 ${daysElapsedZh(n.at - now)}`;
    default: {
      const unknown: never = n.kind;
      return String(unknown);
    }
  }
}

/** What the person should do; GB 25201: confirm by the fastest means, a real fire means 119. */
function actionLine(n: AlertNotification): string | undefined {
  if (n.kind === 'resolved' || n.kind === 'closed') return undefined;
  if (n.kind === 'hazard-overdue') return '请督促整改责任人立即整改，并在平台跟踪复查、销号。';
  if (n.kind === 'hazard-due-soon') return '请按期完成整改，并在平台提交整改措施和照片。';
  if (n.drill) return '本条为应急演练消息，请按演练预案处置，无需拨打119。';
  if (n.realDuringDrill && isFire(n)) {
    return '非演练：真实火警！本机构正在演练，但这条报警不属于演练。请立即核实现场；确认火情立即拨打119并启动应急预案。';
  }
  if (n.realDuringDrill) return '非演练：真实告警。本机构正在演练，但这条告警不属于演练，请立即核实处置。';
  if (isFire(n)) return '请立即核实现场；确认火情立即拨打119并启动应急预案，处置后在平台确认告警。';
  if (n.severity === 'critical') return '请立即核实处置，并在平台确认告警。';
  return '请及时核实处置。';
}

/** Said of an alarm from a device under maintenance: it is pushed all the same (issue 13). */
export const DISABLED_DEVICE_MARKER = '[设备屏蔽中]';

/** The device by its name and kind; its id only when it has no name (people read this, not a log). */
function deviceLine(n: AlertNotification): string | undefined {
  if (n.device === undefined) return n.gateway === '' ? undefined : `网关：${n.gateway}`;
  const kind = KIND_ZH[n.device.kind];
  return n.device.name ? `设备：${n.device.name}（${kind}）` : `设备：${kind} ${n.device.id}`;
}

function titleOf(n: AlertNotification, now: number): string {
  // An ended alert and a hazard notice are dated when they are sent (a hazard's `at` is its deadline).
  const ended = n.kind === 'resolved' || n.kind === 'closed' || isHazardNotice(n);
  const where = locationZh(n.location);
  const parts = [n.institution.name, ...(where === '' ? [] : [where]), n.title.zh, chinaTime(ended ? now : n.at)];
  const drill = n.drill ? DRILL_MARKER : n.realDuringDrill ? NOT_DRILL_MARKER : '';
  const marks = `${drill}${n.deviceDisabled ? DISABLED_DEVICE_MARKER : ''}`;
  return `${marks}【${notificationTag(n)}】${parts.join(' ')}`;
}

/**
 * Simplified-Chinese texts of a notification. `now` is when it is pushed (escalation wording
 * says how long nobody has acknowledged). Times are Asia/Shanghai.
 */
export function formatNotification(n: AlertNotification, now: number): FormattedMessage {
  const title = titleOf(n, now);
  const status = statusLine(n, now);
  const action = actionLine(n);
  const device = deviceLine(n);
  const details = [...(device === undefined ? [] : [device]), `详情：${n.reason}`];
  if (n.deviceDisabled) details.push('注意：该设备处于屏蔽（维护）状态时报警，报警仍须立即核实');
  if (n.occurrences !== undefined && n.occurrences > 1) details.push(`累计发生 ${n.occurrences} 次`);

  const text = [
    title,
    ...(status === undefined ? [] : [status]),
    ...details,
    ...(action === undefined ? [] : [action]),
    ...(n.link === undefined ? [] : [`处理：${n.link}`]),
  ].join('\n');

  const markdown = [
    `### ${title}`,
    ...(status === undefined ? [] : [`**${status}**`]),
    details.map((d) => `> ${d}`).join('\n'),
    ...(action === undefined ? [] : [`**${action}**`]),
    ...(n.link === undefined ? [] : [isHazardNotice(n) ? `[查看隐患](${n.link})` : `[查看并确认告警](${n.link})`]),
  ].join('\n\n');

  return { title, text, markdown };
}

/**
 * Aliyun notification templates limit each variable's length (35 characters at the time of
 * writing; secondary) and reject links in variables, so values are short and link-free.
 */
export const SMS_VARIABLE_MAX_CHARS = 35;

function clip(s: string, max = SMS_VARIABLE_MAX_CHARS): string {
  const chars = [...s];
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`;
}

/**
 * Variables of the SMS template (JSON `TemplateParam`). A matching approved template reads, e.g.:
 * `【${tag}】${institution}${location}${alert}，${time}。${note}请立即核实处置并登录平台确认。`
 */
export function smsTemplateParams(n: AlertNotification, now: number): Record<string, string> {
  const tag = notificationTag(n);
  let note = '';
  if (n.kind === 'escalated' || n.kind === 'reminder')
    note = `已${elapsedZh(now - n.at).replaceAll(' ', '')}无人确认。`;
  else if (n.kind === 'resolved') note = '告警已恢复。';
  else if (n.kind === 'closed') note = '告警已关闭。';
  else if (n.kind === 'hazard-overdue') note = '隐患整改已逾期。';
  else if (n.kind === 'hazard-due-soon') note = '隐患整改即将到期。';
  return {
    tag: n.drill ? `演练${tag}` : n.realDuringDrill ? `非演练${tag}` : tag,
    institution: clip(n.institution.name),
    location: clip(locationZh(n.location)),
    alert: clip(n.title.zh),
    time: chinaTime(n.at, 'datetime').slice(5, 16),
    note: clip(note),
  };
}

/** Cuts `text` to at most `maxBytes` of UTF-8 without splitting a character (vendor size limits). */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  const ellipsis = '…';
  let budget = maxBytes - Buffer.byteLength(ellipsis, 'utf8');
  let out = '';
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (size > budget) break;
    out += ch;
    budget -= size;
  }
  return out + ellipsis;
}
