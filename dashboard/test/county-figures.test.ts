import { describe, expect, it } from 'vitest';
import { alertLevel } from '../src/alerts/alert-level.js';
import { type Alert, AlertSeverity } from '../src/alerts/alerts-port.js';
import { historyQuery } from '../src/history/history-query.js';
import { institutionLive } from '../src/live/institution-status.js';
import { formatCsv, parseCsv } from '../src/registry/csv-format.js';
import { startOfDay } from '../src/time/start-of-day.js';
import { InMemoryAlerts } from './in-memory-alerts.js';

const alert = (over: Partial<Alert>): Alert => ({
  id: 'a',
  key: 'k',
  rule: 'fire-alarm',
  name: { zh: '火警', en: 'Fire alarm' },
  severity: 'critical',
  resolve: 'manual',
  status: 'open',
  drill: false,
  silenced: false,
  county: 'c',
  institution: 'i',
  gateway: 'g',
  deviceKind: 'fire',
  reason: '',
  occurrences: 1,
  openedAt: 0,
  lastSeenAt: 0,
  escalation: { level: 0, round: 0, state: 'active' },
  ...over,
});

describe('institution status', () => {
  const online = () => ({
    county: 'c',
    institution: 'i',
    gateway: 'g',
    state: 'online' as const,
    since: 0,
    receivedAt: 0,
  });
  it('ranks alarm over warning over offline over normal', () => {
    expect(institutionLive('i', ['g'], online, [alert({})])).toMatchObject({
      status: 'alarm',
      pulse: true,
      risk: 'red',
    });
    expect(institutionLive('i', ['g'], online, [alert({ status: 'acknowledged' })])).toMatchObject({
      status: 'alarm',
      pulse: false,
    });
    expect(institutionLive('i', ['g'], online, [alert({ status: 'verified', verdict: 'false_alarm' })]).status).toBe(
      'warning',
    );
    expect(institutionLive('i', ['g'], online, [alert({ status: 'verified', verdict: 'real_fire' })]).status).toBe(
      'alarm',
    );
    // alerting's severities: major and minor show as warnings, info leaves the institution normal.
    expect(institutionLive('i', ['g'], online, [alert({ severity: 'major' })]).status).toBe('warning');
    expect(institutionLive('i', ['g'], online, [alert({ severity: 'minor' })])).toMatchObject({
      status: 'warning',
      risk: 'orange',
    });
    expect(institutionLive('i', ['g'], online, [alert({ severity: 'info' })]).status).toBe('normal');
    expect(institutionLive('i', ['g'], () => undefined, []).status).toBe('offline');
    expect(institutionLive('i', ['g', 'h'], (g) => (g === 'g' ? online() : undefined), []).status).toBe('warning');
    expect(institutionLive('i', ['g'], online, [])).toMatchObject({ status: 'normal', risk: 'blue' });
  });
});

describe('alert levels', () => {
  it('shows critical as alarm, major and minor as warning, info as info', () => {
    expect(AlertSeverity.options.map(alertLevel)).toEqual(['alarm', 'warning', 'warning', 'info']);
  });
});

describe('start of day', () => {
  it('is midnight on the county’s wall clock', () => {
    // 2026-11-23 20:30 UTC is 2026-11-24 04:30 in Shanghai: the day began 2026-11-23 16:00 UTC.
    expect(startOfDay(Date.UTC(2026, 10, 23, 20, 30, 15, 250), 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 23, 16, 0, 0));
    expect(startOfDay(Date.UTC(2026, 10, 23, 15, 59, 59), 'Asia/Shanghai')).toBe(Date.UTC(2026, 10, 22, 16, 0, 0));
  });
});

describe('history query', () => {
  it('refuses ids that could break out of the InfluxQL literal', () => {
    expect(() => historyQuery({ institution: "x' OR 1=1 --", measure: 'kitchen', range: '24h' })).toThrow('unsafe id');
    expect(historyQuery({ institution: 'yy-a', measure: 'camera', range: '24h', device: 'cam-1' }).influxql).toContain(
      `"device" = 'cam-1'`,
    );
  });
});

describe('CSV', () => {
  it('round-trips quotes, commas, newlines and a BOM', () => {
    const rows = [
      ['机构编号 institution_id', 'name'],
      ['yy-1', '酉阳县"社会",福利\n中心'],
      ['001', ''],
    ];
    expect(parseCsv(`\uFEFF${formatCsv(rows)}`)).toEqual(rows);
  });
});

describe('in-memory alert service', () => {
  it('keeps one open alert per key and never closes a fire alarm by a restore', async () => {
    let now = 1000;
    const alerts = new InMemoryAlerts({ clock: () => now });
    const changes: string[] = [];
    alerts.onChange((c) => changes.push(`${c.type}:${c.alert.status}`));
    const base = { county: 'c', institution: 'i', gateway: 'g', device: 'd', confirmed: true, receivedAt: 1000 };
    alerts.ingest({ ...base, type: 'event', payload: { v: 1, ts: 1, seq: 1, kind: 'fire', event: 'fire' } });
    alerts.ingest({ ...base, type: 'event', payload: { v: 1, ts: 2, seq: 2, kind: 'fire', event: 'fire' } });
    alerts.ingest({ ...base, type: 'event', payload: { v: 1, ts: 3, seq: 3, kind: 'fire', event: 'restore' } });
    const [a] = (await alerts.list({})).alerts;
    // The detector recovered: the fire alarm (manual) records it and stays open.
    expect(a).toMatchObject({ status: 'open', occurrences: 2, resolve: 'manual', clearedAt: 1000 });
    now = 61_000;
    await alerts.acknowledge(a?.id ?? '', 'op');
    expect(await alerts.summary('c', 0)).toMatchObject({ alarmsToday: 1, meanTimeToAcknowledgeMs: 60_000 });
    // alerting's lifecycle: a person verifies a fire alarm before closing it.
    await expect(alerts.close(a?.id ?? '', 'op')).rejects.toMatchObject({
      code: 'ANL_ALERT_TRANSITION_INVALID',
      statusCode: 409,
    });
    expect(changes).toEqual(['raised:open', 'updated:open', 'updated:open', 'updated:acknowledged']);
  });
});
