import { describe, expect, it } from 'vitest';
import {
  chinaTime,
  formatNotification,
  locationZh,
  smsTemplateParams,
  truncateUtf8,
} from '../../src/notify/message-format.js';
import { fireAlarm, RAISED_AT } from './notification-fixture.js';

const S = 1000;
const MIN = 60 * S;

describe('message format', () => {
  it('writes a fire alarm in Chinese with Asia/Shanghai time', () => {
    const msg = formatNotification(fireAlarm({ link: 'https://anlian.example/a/a-1' }), RAISED_AT + 2 * S);
    expect(msg.title).toBe('【火警】酉阳县桃花源养老院 2号楼 3层 301室 火灾报警 14:03:22');
    expect(msg.text.split('\n')).toEqual([
      '【火警】酉阳县桃花源养老院 2号楼 3层 301室 火灾报警 14:03:22',
      '设备：301室烟感（火灾探测器）',
      '详情：火警：3层东走廊',
      '请立即核实现场；确认火情立即拨打119并启动应急预案，处置后在平台确认告警。',
      '处理：https://anlian.example/a/a-1',
    ]);
    expect(msg.markdown).toBe(
      [
        '### 【火警】酉阳县桃花源养老院 2号楼 3层 301室 火灾报警 14:03:22',
        '> 设备：301室烟感（火灾探测器）\n> 详情：火警：3层东走廊',
        '**请立即核实现场；确认火情立即拨打119并启动应急预案，处置后在平台确认告警。**',
        '[查看并确认告警](https://anlian.example/a/a-1)',
      ].join('\n\n'),
    );
  });

  it('says how long nobody acknowledged on escalation, and who is notified now', () => {
    const n = fireAlarm({
      kind: 'escalated',
      level: 1,
      recipients: [{ contactId: 'c-li', name: '李四', role: 'deputy', phone: '13800000002' }],
      occurrences: 3,
    });
    const lines = formatNotification(n, RAISED_AT + 2 * MIN + 5 * S).text.split('\n');
    expect(lines[1]).toBe('升级通知：已 2 分钟无人确认，已升级至副负责人');
    expect(lines).toContain('累计发生 3 次');
    const reminder = formatNotification(fireAlarm({ kind: 'reminder' }), RAISED_AT + 75 * MIN).text.split('\n');
    expect(reminder[1]).toBe('重复提醒：已 1 小时 15 分钟无人确认，请尽快处置');
  });

  it('writes a hazard past its deadline for the county duty officer, without device or gateway lines', () => {
    const deadline = RAISED_AT;
    const n = fireAlarm({
      notificationId: 'hazard:hz-1/overdue-2',
      alertId: 'hazard:hz-1',
      kind: 'hazard-overdue',
      severity: 'major',
      rule: 'hazard-overdue',
      title: { zh: '安全出口上锁', en: 'Exit locked' },
      reason: '重大隐患，整改责任人 龙丽萍，第2次通报',
      gateway: '',
      level: 2,
      recipients: [{ contactId: 'county-duty', name: '刘德明', role: 'duty_officer', phone: '13800130001' }],
      link: 'https://anlian.example/#/hazards/hz-1',
    });
    delete n.device;
    delete n.location;
    const msg = formatNotification(n, deadline + 26 * 60 * MIN);
    expect(msg.text.split('\n')).toEqual([
      '【隐患逾期】酉阳县桃花源养老院 安全出口上锁 16:03:22',
      '整改逾期：整改期限 2026-01-05 14:03:22，已逾期 26 小时，已通报县值班员',
      '详情：重大隐患，整改责任人 龙丽萍，第2次通报',
      '请督促整改责任人立即整改，并在平台跟踪复查、销号。',
      '处理：https://anlian.example/#/hazards/hz-1',
    ]);
    expect(msg.markdown).toContain('[查看隐患](https://anlian.example/#/hazards/hz-1)');
    expect(smsTemplateParams(n, deadline + MIN)).toMatchObject({ tag: '隐患逾期', note: '隐患整改已逾期。' });
    const soon = formatNotification({ ...n, kind: 'hazard-due-soon', recipients: [] }, deadline - 5 * 60 * MIN);
    expect(soon.title).toBe('【整改提醒】酉阳县桃花源养老院 安全出口上锁 09:03:22');
    expect(soon.text).toContain('整改期限 2026-01-05 14:03:22，还剩 5 小时');
    expect(soon.text).toContain('请按期完成整改，并在平台提交整改措施和照片。');
  });

  it('marks drills with [演练] and tells people not to call 119', () => {
    const msg = formatNotification(fireAlarm({ drill: true }), RAISED_AT);
    expect(msg.title).toBe('[演练]【火警】酉阳县桃花源养老院 2号楼 3层 301室 火灾报警 14:03:22');
    expect(msg.text).toContain('本条为应急演练消息，请按演练预案处置，无需拨打119。');
    expect(msg.text).not.toContain('确认火情立即拨打119');
  });

  it('tags other severities and resolved alerts', () => {
    const major = fireAlarm({
      severity: 'major',
      rule: 'kitchen-heat-warning',
      title: { zh: '厨房温度偏高', en: 'Kitchen temperature high' },
      device: { id: 'k-1', kind: 'kitchen' },
      location: { building: '食堂', floor: '1', room: '' },
    });
    expect(formatNotification(major, RAISED_AT).title).toBe(
      '【告警】酉阳县桃花源养老院 食堂 1层 厨房温度偏高 14:03:22',
    );
    const resolved = formatNotification({ ...major, kind: 'resolved' }, RAISED_AT + 17 * MIN);
    expect(resolved.title).toBe('【已恢复】酉阳县桃花源养老院 食堂 1层 厨房温度偏高 14:20:22');
    expect(resolved.text.split('\n')[1]).toBe('告警已恢复（告警时间 14:03:22，持续 17 分钟）');
    const offline = fireAlarm({
      severity: 'critical',
      rule: 'gateway-offline',
      title: { zh: '网关离线（机构失联）', en: 'Gateway offline' },
      location: undefined,
      device: undefined,
    });
    const text = formatNotification(offline, RAISED_AT).text.split('\n');
    expect(text[0]).toBe('【紧急告警】酉阳县桃花源养老院 网关离线（机构失联） 14:03:22');
    expect(text[1]).toBe('网关：gw-1');
    // A device without a name is told by its kind and id; with one, by its name and kind only.
    const unnamed = formatNotification(fireAlarm({ device: { id: 'smoke-9', kind: 'fire' } }), RAISED_AT);
    expect(unnamed.text.split('\n')[1]).toBe('设备：火灾探测器 smoke-9');
  });

  it('formats places and times', () => {
    expect(locationZh({ building: '2', floor: '-1', room: 'B12' })).toBe('2号楼 地下1层 B12');
    expect(chinaTime(Date.UTC(2025, 11, 31, 16, 0, 1), 'datetime')).toBe('2026-01-01 00:00:01');
  });

  it('fills SMS template variables, short and link-free', () => {
    const params = smsTemplateParams(fireAlarm({ kind: 'escalated', link: 'https://x' }), RAISED_AT + 3 * MIN);
    expect(params).toEqual({
      tag: '火警',
      institution: '酉阳县桃花源养老院',
      location: '2号楼 3层 301室',
      alert: '火灾报警',
      time: '01-05 14:03',
      note: '已3分钟无人确认。',
    });
    expect(smsTemplateParams(fireAlarm({ drill: true }), RAISED_AT).tag).toBe('演练火警');
    const long = smsTemplateParams(fireAlarm({ institution: { id: 'x', name: '很'.repeat(50) } }), RAISED_AT);
    expect([...(long.institution ?? '')]).toHaveLength(35);
    expect(Object.values(params).join('')).not.toContain('http');
  });

  it('cuts long texts on character boundaries', () => {
    const cut = truncateUtf8('火'.repeat(10), 10);
    expect(cut).toBe('火火…');
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(10);
  });
});
