import { type AlertNotification, formatNotification } from '@anlian/alerting';
import { silentLogger } from '@anlian/ingest';
import { CountyConfig } from '@anlian/protocol';
import { importCountyConfig, migrateToLatest, openDatabase } from '@anlian/store';
import type { Hazard } from '@anlian/supervision';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hazardNotifierFrom } from '../src/supervision/hazard-notifier.js';
import { SMALL_COUNTY } from './dashboard-harness.js';

const DEADLINE = Date.UTC(2026, 2, 2, 8, 0, 0);

const hazard = (over: Partial<Hazard> = {}): Hazard => ({
  id: 'hz_1',
  county: 'testcounty',
  institution: 'inst-a',
  category: 'daily_management',
  severity: 'major',
  source: 'manual',
  sourceRule: null,
  causeKey: null,
  itemRef: null,
  inspectionId: null,
  title: '二层安全出口上锁',
  description: '',
  evidence: {},
  location: '主楼 2F',
  status: 'rectifying',
  owner: { contactId: 'mgr', name: '张三' },
  supervisor: 'operator',
  deadlineAt: DEADLINE,
  foundAt: DEADLINE - 86_400_000,
  foundBy: 'operator',
  assignedAt: null,
  rectifyingAt: null,
  submittedAt: null,
  reviewedAt: null,
  closedAt: null,
  causeClearedAt: null,
  overdue: true,
  overdueAt: DEADLINE,
  escalationCount: 2,
  nextEscalationAt: null,
  remindedAt: null,
  generated: null,
  updatedAt: DEADLINE,
  ...over,
});

/** Supervision's notifier port on alerting's dispatcher: who gets what, in the channels' words. */
describe('hazardNotifierFrom', () => {
  const sent: AlertNotification[] = [];
  const store = openDatabase({ sqlitePath: ':memory:' });
  const county = CountyConfig.parse({
    ...SMALL_COUNTY,
    institutions: SMALL_COUNTY.institutions.map((i, n) =>
      n === 0
        ? {
            ...i,
            contacts: [
              ...(i.contacts ?? []),
              { id: 'county-duty', name: '县值班员刘德明', role: 'duty_officer', phone: '13800130001' },
            ],
          }
        : i,
    ),
  });
  beforeAll(async () => {
    await migrateToLatest(store.db);
    await importCountyConfig(store.db, county, { now: DEADLINE });
  });
  afterAll(async () => {
    await store.close();
  });
  const notifier = hazardNotifierFrom({
    dispatch: (n) => sent.push(n),
    db: store.db,
    publicUrl: 'https://anlian.example/',
    logger: silentLogger(),
  });

  it('sends an overdue hazard to the county duty officer, as a hazard notice that is never critical', async () => {
    await notifier.notifyCountyDutyOfficer({
      kind: 'overdue',
      hazard: hazard(),
      institutionName: '测试养老院A',
      round: 2,
      at: DEADLINE + 2 * 86_400_000,
    });
    const n = sent.at(-1);
    expect(n).toMatchObject({
      kind: 'hazard-overdue',
      severity: 'major',
      alertId: 'hazard:hz_1',
      institution: { id: 'inst-a', name: '测试养老院A' },
      recipients: [expect.objectContaining({ contactId: 'county-duty', role: 'duty_officer', phone: '13800130001' })],
      link: 'https://anlian.example/#/hazards/hz_1',
      at: DEADLINE,
    });
    if (!n) throw new Error('nothing sent');
    const text = formatNotification(n, DEADLINE + 2 * 86_400_000).text;
    expect(text).toContain('【隐患逾期】测试养老院A 二层安全出口上锁');
    expect(text).toContain('已逾期 2 天');
    expect(text).toContain('已通报县值班员');
    expect(text).toContain('重大隐患，整改责任人 张三，位置 主楼 2F，第2次通报');
  });

  it('reminds the owner before the deadline; each round has its own notification id', async () => {
    await notifier.remindOwner({
      kind: 'due-soon',
      hazard: hazard(),
      institutionName: '测试养老院A',
      round: 0,
      at: DEADLINE - 3_600_000,
    });
    const n = sent.at(-1);
    expect(n).toMatchObject({ kind: 'hazard-due-soon', recipients: [expect.objectContaining({ contactId: 'mgr' })] });
    expect(new Set(sent.map((x) => x.notificationId)).size).toBe(sent.length);
  });
});
