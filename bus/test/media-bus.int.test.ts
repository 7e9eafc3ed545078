import { countyTopics, type MediaStoredMessage } from '@anlian/protocol';
import mqtt from 'mqtt';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { MediaBus } from '../src/media-bus.js';
import { busesOnMosquitto } from './bus-on-mosquitto.js';

const T = Date.UTC(2026, 11, 3, 2, 0, 0);
const stored: MediaStoredMessage = {
  v: 1,
  key: 'yy-a/20261203/0123456789abcdef0123456789abcdef.jpg',
  county: 'youyang',
  institution: 'yy-a',
  gateway: 'gw-yy-a-1',
  device: 'cam-1',
  contentType: 'image/jpeg',
  bytes: 41_000,
  width: 640,
  height: 360,
  cause: { device: 'smk-1', ts: T, zone: '主楼 3F' },
  shot: 0,
  ts: T + 300,
  receivedAt: T + 900,
};

/** Stored pictures announced from ingest to dashboards over a real mosquitto 2. */
describe('media bus', () => {
  const { bus, url } = busesOnMosquitto((o) => new MediaBus(o));

  it('a record published by ingest reaches every dashboard listening; what breaks the contract is counted and dropped', async () => {
    const ingest = bus('ingest-1-media');
    const metrics = new Registry();
    const dashboards = [bus('dashboard-1-media', metrics), bus('dashboard-2-media')];
    const heard: MediaStoredMessage[][] = [[], []];
    // Listening before start, as the dashboard's live hub does: the subscription follows the connection.
    for (const [i, d] of dashboards.entries()) d.onStored((m) => heard[i]?.push(m));
    await Promise.all([ingest.start(), ...dashboards.map((d) => d.start())]);
    expect(dashboards.every((d) => d.connected())).toBe(true);
    // The subscriptions are sent on connect: announce until both have heard one, then start afresh.
    const heardBoth = () => heard.every((h) => h.length > 0);
    for (let i = 0; i < 100 && !heardBoth(); i++) {
      await ingest.publishStored({ ...stored, shot: 9 });
      await new Promise((r) => setTimeout(r, 50));
    }
    for (const h of heard) h.splice(0);

    // A forged or damaged announcement: not JSON, and JSON with the JPEG in it.
    const raw = await mqtt.connectAsync(url(), { protocolVersion: 5, clientId: 'raw' });
    const topic = countyTopics.mediaStored(stored.county, stored.institution);
    await raw.publishAsync(topic, 'not json', { qos: 1 });
    await raw.publishAsync(topic, JSON.stringify({ ...stored, data: 'AAAA' }), { qos: 1 });
    await raw.endAsync();

    await ingest.publishStored(stored);
    const end = Date.now() + 5000;
    while (heard.some((h) => !h.some((m) => m.shot === 0)) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 20));
    // Only the record (probes of the warm-up may still trickle in): never the forged ones.
    expect(heard.map((h) => h.filter((m) => m.shot === 0))).toEqual([[stored], [stored]]);
    expect(heard.flat().every((m) => !('data' in m))).toBe(true);
    const rejected = (await metrics.getSingleMetric('anlian_media_bus_rejected_total')?.get())?.values[0]?.value;
    expect(rejected).toBe(2);
  });

  it('refuses to publish before it was started', async () => {
    await expect(bus('never-started').publishStored(stored)).rejects.toThrow(/ANL_ERR_BUS_NOT_STARTED/);
  });
});
