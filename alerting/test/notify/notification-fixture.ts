import type { AlertNotification } from '../../src/notify/notification.js';

/** 2026-01-05 14:03:22 in Asia/Shanghai (06:03:22 UTC). */
export const RAISED_AT = Date.UTC(2026, 0, 5, 6, 3, 22);

export function fireAlarm(over: Partial<AlertNotification> = {}): AlertNotification {
  return {
    notificationId: 'a-1/L0R0',
    alertId: 'a-1',
    kind: 'raised',
    severity: 'critical',
    rule: 'fire-alarm',
    title: { zh: '火灾报警', en: 'Fire alarm' },
    reason: '火警：3层东走廊',
    drill: false,
    county: 'youyang',
    institution: { id: 'yy-a', name: '酉阳县桃花源养老院' },
    location: { building: '2', floor: '3', room: '301' },
    device: { id: 'smoke-301', kind: 'fire', name: '301室烟感' },
    gateway: 'gw-1',
    at: RAISED_AT,
    level: 0,
    recipients: [
      { contactId: 'c-zhang', name: '张三', role: 'manager', phone: '13800000001', wecomUserId: 'zhangsan' },
      {
        contactId: 'c-li',
        name: '李四',
        role: 'deputy',
        phone: '13800000002',
        dingtalkUserId: 'lisi',
        feishuUserId: 'ou_li',
      },
    ],
    ...over,
  };
}

/** A non-critical notification from another institution, numbered. */
export function kitchenWarning(i: number, institution = 'yy-a'): AlertNotification {
  return fireAlarm({
    notificationId: `k-${institution}-${i}/L0R0`,
    alertId: `k-${institution}-${i}`,
    severity: 'major',
    rule: 'kitchen-heat-warning',
    title: { zh: '厨房温度偏高', en: 'Kitchen temperature high' },
    reason: 'temperature 51 > 50',
    institution: { id: institution, name: `${institution} 养老院` },
    device: { id: `k-${i}`, kind: 'kitchen' },
  });
}
