import {
  type AlertingDatabase,
  AlertingService,
  type AlertNotification,
  alertingApiOf,
  defaultRuleSet,
  formatNotification,
  migrateAlerting,
  registerAlertingRoutes,
} from '@anlian/alerting';
import { AlertingClient } from '@anlian/alerting/client';
import { CountyConfig } from '@anlian/protocol';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { importCountyConfig, migrateToLatest, openDatabase } from '@anlian/store';
import type { Hazard } from '@anlian/supervision';
import Fastify from 'fastify';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hazardNotifierFrom } from '../src/supervision/hazard-notifier.js';
import { SMALL_COUNTY } from './dashboard-harness.js';

const DEADLINE = Date.UTC(2026, 2, 2, 8, 0, 0);
const DAY = 86_400_000;

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
  foundAt: DEADLINE - DAY,
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

/**
 * Supervision's notifier port through alerting's API over HTTP, as `anlian dashboard` uses it:
 * alerting picks the recipients among the institution's contacts and dispatches a hazard notice
 * through the same sink its alerts go to, in the channels' words.
 */
describe('hazard notices through alerting', () => {
  const dispatched: AlertNotification[] = [];
  const store = openDatabase({ sqlitePath: ':memory:' });
  const app = Fastify();
  let service: AlertingService;
  let client: AlertingClient;
  let url = '';

  beforeAll(async () => {
    await migrateToLatest(store.db);
    await migrateAlerting(store.db);
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
    await importCountyConfig(store.db, county, { now: DEADLINE });
    service = new AlertingService({
      db: store.db as unknown as Kysely<AlertingDatabase>,
      logger: silentLogger(),
      metrics: createMetricsRegistry({ defaultMetrics: false }),
      rules: defaultRuleSet(),
      notifier: { start() {}, async stop() {}, dispatch: (n) => dispatched.push(n), cancel() {} },
      tickMs: 3_600_000,
      snapshotMs: 3_600_000,
    });
    await service.start();
    registerAlertingRoutes(app, { api: alertingApiOf(service), serviceToken: 'service-token-0123456789' });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
    client = new AlertingClient({
      urls: [url],
      serviceToken: 'service-token-0123456789',
      changes: () => () => undefined,
    });
  });
  afterAll(async () => {
    await service?.stop();
    await app.close();
    await store.close();
  });

  const notifier = () =>
    hazardNotifierFrom({
      send: (n) => client.sendNotice(n),
      publicUrl: 'https://anlian.example/',
      logger: silentLogger(),
    });

  it('sends an overdue hazard to the county duty officer, never as a critical alert', async () => {
    await notifier().notifyCountyDutyOfficer({
      kind: 'overdue',
      hazard: hazard(),
      institutionName: '测试养老院A',
      round: 2,
      at: DEADLINE + 2 * DAY,
    });
    const n = dispatched.at(-1);
    expect(n).toMatchObject({
      kind: 'hazard-overdue',
      severity: 'major',
      alertId: 'hazard:hz_1',
      county: 'testcounty',
      institution: { id: 'inst-a', name: '测试养老院A' },
      recipients: [expect.objectContaining({ contactId: 'county-duty', role: 'duty_officer', phone: '13800130001' })],
      link: 'https://anlian.example/#/hazards/hz_1',
      at: DEADLINE,
      level: 2,
    });
    if (!n) throw new Error('nothing dispatched');
    const text = formatNotification(n, DEADLINE + 2 * DAY).text;
    expect(text).toContain('【隐患逾期】测试养老院A 二层安全出口上锁');
    expect(text).toContain('已逾期 2 天');
    expect(text).toContain('已通报县值班员');
    expect(text).toContain('重大隐患，整改责任人 张三，位置 主楼 2F，第2次通报');
  });

  it('reminds the hazard’s owner before the deadline; each round has its own notification id', async () => {
    await notifier().remindOwner({
      kind: 'due-soon',
      hazard: hazard(),
      institutionName: '测试养老院A',
      round: 0,
      at: DEADLINE - 3_600_000,
    });
    expect(dispatched.at(-1)).toMatchObject({
      kind: 'hazard-due-soon',
      recipients: [expect.objectContaining({ contactId: 'mgr', name: '张三' })],
    });
    expect(new Set(dispatched.map((x) => x.notificationId)).size).toBe(dispatched.length);
  });

  it('refuses a notice for an unknown institution, and an unauthenticated caller', async () => {
    await expect(
      client.sendNotice({
        id: 'x',
        kind: 'hazard-overdue',
        institution: 'nowhere',
        subject: 'hazard:x',
        title: 't',
        reason: '',
        at: 0,
        round: 1,
        to: { roles: ['duty_officer'] },
      }),
    ).rejects.toMatchObject({ code: 'ANL_ALERT_NOT_FOUND' });
    const anonymous = new AlertingClient({ urls: [url], changes: () => () => undefined });
    await expect(
      anonymous.sendNotice({
        id: 'y',
        kind: 'hazard-overdue',
        institution: 'inst-a',
        subject: 'hazard:y',
        title: 't',
        reason: '',
        at: 0,
        round: 1,
        to: { roles: ['duty_officer'] },
      }),
    ).rejects.toMatchObject({ code: 'ANL_ALERT_UNAUTHORIZED' });
  });
});
