import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { alertingApiOf, loadAlertingConfig, type RunningAlerting, startAlerting } from '@anlian/alerting';
import { CountyConfig, type CountyConfigInput, EventPayload, type IngestEvent } from '@anlian/protocol';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { type Database, migrateToLatest, openDatabase, Registry } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { AlertsPort } from '../src/alerts/alerts-port.js';
import { EventBus, SMALL_COUNTY } from './dashboard-harness.js';

/** A fixed start for the hand-driven clock: 2026-11-24 10:00 in Shanghai. */
export const T0 = Date.UTC(2026, 10, 24, 2, 0, 0);

export interface AlertingFixture {
  db: Kysely<Database>;
  bus: EventBus;
  /** alerting's clock; tests move it. */
  clock: { now: number };
  alerting: RunningAlerting;
  port: AlertsPort;
  /** An ingest event as the pipeline hands it to alerting, received at the clock's time. */
  deviceEvent(
    institution: string,
    gateway: string,
    device: string,
    kind: string,
    event: string,
    drillId?: string,
  ): IngestEvent;
  close(): Promise<void>;
}

/**
 * Real alerting (`startAlerting`: default rules, the dashboard stream channel, deliveries in the
 * store) on a temporary SQLite store with the county imported, fed by hand instead of by ingest.
 */
export async function startAlertingFixture(county: CountyConfigInput = SMALL_COUNTY): Promise<AlertingFixture> {
  const dir = await mkdtemp(path.join(tmpdir(), 'anlian-dashboard-alerting-'));
  const database = openDatabase({ sqlitePath: path.join(dir, 'anlian.db') });
  const parsed = CountyConfig.parse(county);
  try {
    await migrateToLatest(database.db);
    await new Registry(database.db).importCounty(parsed);
  } catch (err) {
    await database.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const bus = new EventBus();
  const clock = { now: T0 };
  const alerting = await startAlerting({
    db: database.db,
    // Ticks only matter for absence and escalation, which these tests drive by the clock.
    config: loadAlertingConfig({ ANLIAN_ALERT_TICK_MS: '60000' }),
    logger: silentLogger(),
    metrics: createMetricsRegistry(),
    subscribe: bus.subscribe,
    clock: () => clock.now,
  });
  let seq = 0;
  return {
    db: database.db,
    bus,
    clock,
    alerting,
    port: alertingApiOf(alerting.service),
    deviceEvent(institution, gateway, device, kind, event, drillId) {
      return {
        type: 'event',
        county: parsed.county.id,
        institution,
        gateway,
        device,
        confirmed: true,
        receivedAt: clock.now,
        // Parsed as ingest parses it: a typo in a test's kind or event fails here.
        payload: EventPayload.parse({ v: 1, ts: clock.now, seq: ++seq, kind, event, ...(drillId ? { drillId } : {}) }),
      };
    },
    async close() {
      await alerting.stop();
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
