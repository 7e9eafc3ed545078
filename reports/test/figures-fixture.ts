import type { ReportFigures } from '../src/figures/report-figures.js';

const H = 3_600_000;

/** A small county's month of figures, with a formula-like institution name to be neutralised. */
export function figuresFixture(overrides: Partial<ReportFigures> = {}): ReportFigures {
  const fromMs = Date.UTC(2026, 9, 31, 16); // 2026-11-01 00:00 Beijing
  const toMs = Date.UTC(2026, 10, 30, 16);
  const institutions = [
    { id: 'inst-a', name: '甲镇敬老院' },
    { id: 'inst-b', name: '=HYPERLINK("http://x")' },
  ];
  return {
    county: { id: 'testcounty', name: '测试县', timezone: 'Asia/Shanghai' },
    period: { fromMs, toMs, key: '2026-11', labelZh: '2026年11月', labelEn: 'November 2026' },
    source: { kind: 'live' },
    generatedAt: toMs + 3 * H,
    institutions,
    online: {
      byKind: [
        { kind: 'fire', devices: 10, registeredS: 10 * 720 * 3600, onlineS: 10 * 710 * 3600, rate: 710 / 720 },
        { kind: 'extinguisher', devices: 4, registeredS: 4 * 720 * 3600, onlineS: 4 * 720 * 3600, rate: 1 },
        { kind: 'kitchen', devices: 2, registeredS: 2 * 720 * 3600, onlineS: 2 * 700 * 3600, rate: 700 / 720 },
        { kind: 'camera', devices: 2, registeredS: 2 * 720 * 3600, onlineS: 2 * 690 * 3600, rate: 690 / 720 },
      ],
      total: {
        devices: 18,
        registeredS: 18 * 720 * 3600,
        onlineS: (7100 + 2880 + 1400 + 1380) * 3600,
        rate: 12760 / 12960,
      },
      byInstitution: [
        { institution: 'inst-a', devices: 9, registeredS: 9 * 720 * 3600, onlineS: 9 * 715 * 3600, rate: 715 / 720 },
        { institution: 'inst-b', devices: 9, registeredS: 9 * 720 * 3600, onlineS: 9 * 702 * 3600, rate: 702 / 720 },
      ],
    },
    alarms: {
      byKind: [
        { kind: 'fire', total: 12, real_fire: 1, false_alarm: 7, test: 2, device_fault: 1, unverified: 1 },
        { kind: 'extinguisher', total: 3, real_fire: 0, false_alarm: 0, test: 0, device_fault: 1, unverified: 2 },
        { kind: 'kitchen', total: 2, real_fire: 0, false_alarm: 1, test: 0, device_fault: 0, unverified: 1 },
        { kind: 'camera', total: 4, real_fire: 0, false_alarm: 0, test: 0, device_fault: 0, unverified: 4 },
        { kind: 'gateway', total: 1, real_fire: 0, false_alarm: 0, test: 0, device_fault: 0, unverified: 1 },
      ],
      total: 22,
      bySeverity: [
        { severity: 'critical', count: 14 },
        { severity: 'major', count: 6 },
        { severity: 'minor', count: 2 },
        { severity: 'info', count: 0 },
      ],
      drillAlerts: 3,
    },
    falseAlarms: {
      byInstitution: [
        { institution: 'inst-a', alarms: 10, verified: 8, falseAlarms: 5, rate: 5 / 8 },
        { institution: 'inst-b', alarms: 12, verified: 6, falseAlarms: 3, rate: 0.5 },
      ],
      byDetector: [
        {
          institution: 'inst-a',
          gateway: 'gw-a',
          device: 'smk-101',
          name: '101室 感烟',
          kind: 'fire',
          verified: 5,
          falseAlarms: 4,
          rate: 0.8,
        },
      ],
      overDailyLimit: [
        { institution: 'inst-a', gateway: 'gw-a', device: 'smk-101', name: '101室 感烟', day: '2026-11-12', count: 7 },
      ],
      dailyLimit: 5,
    },
    response: {
      bySeverity: [
        {
          severity: 'critical',
          acknowledge: { n: 13, meanS: 42.5, p90S: 95 },
          verify: { n: 12, meanS: 180.25, p90S: 400 },
          close: { n: 12, meanS: 900, p90S: 1800 },
        },
        {
          severity: 'major',
          acknowledge: { n: 0, meanS: undefined, p90S: undefined },
          verify: { n: 0, meanS: undefined, p90S: undefined },
          close: { n: 6, meanS: 1200, p90S: 3000 },
        },
        {
          severity: 'minor',
          acknowledge: { n: 0, meanS: undefined, p90S: undefined },
          verify: { n: 0, meanS: undefined, p90S: undefined },
          close: { n: 2, meanS: 300, p90S: 400 },
        },
        {
          severity: 'info',
          acknowledge: { n: 0, meanS: undefined, p90S: undefined },
          verify: { n: 0, meanS: undefined, p90S: undefined },
          close: { n: 0, meanS: undefined, p90S: undefined },
        },
        {
          severity: 'all',
          acknowledge: { n: 13, meanS: 42.5, p90S: 95 },
          verify: { n: 12, meanS: 180.25, p90S: 400 },
          close: { n: 20, meanS: 1000, p90S: 2000 },
        },
      ],
      byInstitution: [
        {
          institution: 'inst-a',
          acknowledge: { n: 7, meanS: 30, p90S: 60 },
          verify: { n: 6, meanS: 120, p90S: 200 },
          close: { n: 10, meanS: 800, p90S: 1500 },
        },
        {
          institution: 'inst-b',
          acknowledge: { n: 6, meanS: 57, p90S: 95 },
          verify: { n: 6, meanS: 240.5, p90S: 400 },
          close: { n: 10, meanS: 1200, p90S: 2000 },
        },
      ],
    },
    escalations: {
      alerts: 22,
      escalated: 3,
      byLevel: [
        { level: 1, count: 3 },
        { level: 2, count: 1 },
      ],
      byInstitution: [
        { institution: 'inst-a', alerts: 10, escalated: 1 },
        { institution: 'inst-b', alerts: 12, escalated: 2 },
      ],
    },
    pushes: {
      byChannel: [
        { channelType: 'sms', deliveries: 30, sent: 28, failed: 2, pending: 0, attempts: 33, skipped: 0 },
        { channelType: 'wecom', deliveries: 40, sent: 40, failed: 0, pending: 0, attempts: 40, skipped: 3 },
      ],
    },
    drills: {
      drills: [
        {
          id: 'dr-1',
          name: '11月消防演练',
          startsAt: fromMs + 10 * 24 * H,
          institutions: 2,
          alerts: 3,
          acknowledged: 3,
          meanToAcknowledgeS: 48.3,
          silentInstitutions: 0,
          score: 87,
        },
      ],
      institutionsWithDrill: 2,
    },
    supervision: { available: false },
    cameras: {
      cameras: 2,
      registeredS: 2 * 720 * 3600,
      availableS: 2 * 680 * 3600,
      rate: 680 / 720,
      byInstitution: [
        { institution: 'inst-a', cameras: 1, rate: 0.95 },
        { institution: 'inst-b', cameras: 1, rate: 680 / 720 - 0.0056 },
      ],
    },
    ...overrides,
  };
}
