import type { AlertChangeMessage, AlertingConfigChanged } from '@anlian/protocol';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { AlertBus } from '../src/alert-change-bus.js';
import { busesOnMosquitto } from './bus-on-mosquitto.js';

const T = Date.UTC(2026, 11, 3, 2, 0, 0);
const change: AlertChangeMessage = {
  v: 1,
  type: 'raised',
  node: 'alerting-1',
  at: T,
  alert: {
    id: 'al_1',
    key: 'fire-alarm/gw-1/smk-1',
    rule: 'fire-alarm',
    name: { zh: '火灾报警', en: 'Fire alarm' },
    severity: 'critical',
    resolve: 'manual',
    status: 'open',
    drill: false,
    silenced: false,
    county: 'youyang',
    institution: 'yy-a',
    gateway: 'gw-1',
    device: 'smk-1',
    reason: '火警',
    occurrences: 1,
    openedAt: T,
    lastSeenAt: T,
    escalation: { level: 0, round: 0, state: 'done' },
  },
};
const config = (at: number): AlertingConfigChanged => ({ v: 1, what: 'silences', node: 'alerting-1', at });
const count = async (metrics: Registry, what: string) =>
  (await metrics.getSingleMetric('anlian_alert_bus_received_total')?.get())?.values.find((v) => v.labels.what === what)
    ?.value ?? 0;

/** Alert changes and configuration notices between alerting nodes and dashboards, over a real mosquitto 2. */
describe('alert bus', () => {
  const { bus } = busesOnMosquitto((o) => new AlertBus(o));

  it('subscribes only to what is listened to: a node listening for configuration notices never decodes alert changes', async () => {
    const nodeMetrics = new Registry();
    const node = bus('alerting-1-changes', nodeMetrics);
    const dashboard = bus('dashboard-1-alerts');
    const configs: AlertingConfigChanged[] = [];
    const changes: AlertChangeMessage[] = [];
    node.onConfigChanged((m) => configs.push(m));
    dashboard.onChange((m) => changes.push(m));
    await Promise.all([node.start(), dashboard.start()]);
    // The subscriptions are sent on connect: announce until the node has heard one.
    for (let i = 0; i < 100 && configs.length === 0; i++) {
      node.publishConfigChanged('youyang', config(i));
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(configs.length).toBeGreaterThan(0);
    // Its own alert change, then a notice: QoS 1 from one client arrives in order, so once the
    // notice is in, the change would have been too.
    node.publishChange(change);
    node.publishConfigChanged('youyang', config(-1));
    const end = Date.now() + 5000;
    while ((!configs.some((c) => c.at === -1) || changes.length === 0) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    expect(changes).toEqual([change]);
    expect(configs.some((c) => c.at === -1)).toBe(true);
    expect(await count(nodeMetrics, 'change')).toBe(0);
    expect(await count(nodeMetrics, 'config')).toBeGreaterThan(0);
  });
});
