import { type Influxd, startInfluxd } from '@anlian/testing';
import { queryV1 } from '@anlian/timeseries';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, login, startHarness } from './dashboard-harness.js';

/** The history route's InfluxQL against a real influxd 1.x, with lines as ingest writes them. */
describe('history from InfluxDB', () => {
  let influxd: Influxd;
  let h: Harness;
  let cookie: string;

  beforeAll(async () => {
    influxd = await startInfluxd();
    const target = { url: influxd.url, generation: 1 as const, database: 'anlian' };
    await queryV1(target, 'CREATE DATABASE anlian', { db: null });
    const now = Date.now();
    // Ingest's line shape: measurement per kind; county, device, gateway, institution, type tags; device time in ms.
    const lines: string[] = [];
    for (let i = 0; i < 30; i++) {
      const t = now - (30 - i) * 60_000;
      lines.push(
        `kitchen,county=testcounty,device=kit-1,gateway=gw-a,institution=inst-a,type=telemetry temperature=${30 + i / 10},seq=${i}i ${t}`,
      );
      lines.push(
        `kitchen,county=testcounty,device=kit-1,gateway=gw-b,institution=inst-b,type=telemetry temperature=99,seq=${i}i ${t}`,
      );
      lines.push(
        `kitchen,county=testcounty,device=kit-1,gateway=gw-a,institution=inst-a,type=event event="test",seq=${i}i ${t}`,
      );
    }
    lines.push(
      `kitchen,county=testcounty,device=kit-1,gateway=gw-a,institution=inst-a,type=telemetry temperature=80 ${now - 3 * 86_400_000}`,
    );
    const res = await fetch(`${influxd.url}/write?db=anlian&precision=ms`, { method: 'POST', body: lines.join('\n') });
    expect(res.status).toBe(204);
    h = await startHarness({ deps: { queryInflux: (q) => queryV1(target, q) } });
    cookie = await login(h, 'inst-a', h.demo.managers[0]?.password ?? '');
  });
  afterAll(async () => {
    await h?.close();
    await influxd?.stop();
  });

  it('returns the institution’s own series, bucketed, within the range', async () => {
    const day = (
      await h.dashboard.app.inject({
        method: 'GET',
        url: '/api/institutions/inst-a/history?measure=kitchen&range=24h',
        headers: { cookie },
      })
    ).json();
    expect(day.series).toHaveLength(1);
    // Every 10-minute bucket of the day, empty ones as null (the chart breaks its line there).
    const all: [number, number | null][] = day.series[0].points;
    expect(all.length).toBeGreaterThanOrEqual(144);
    const points = all.filter((p): p is [number, number] => p[1] !== null);
    expect(points.length).toBeGreaterThanOrEqual(3);
    expect(points.length).toBeLessThanOrEqual(5);
    // Another institution's 99 °C and the 3-day-old 80 °C stay out of it.
    for (const [, v] of points) expect(v).toBeGreaterThanOrEqual(30);
    for (const [, v] of points) expect(v).toBeLessThan(33.1);
    const week = (
      await h.dashboard.app.inject({
        method: 'GET',
        url: '/api/institutions/inst-a/history?measure=kitchen&range=7d',
        headers: { cookie },
      })
    ).json();
    expect(week.series[0].points.some(([, v]: [number, number]) => v === 80)).toBe(true);
  });

  it('answers 503 with a code when InfluxDB is down', async () => {
    await influxd.halt();
    const res = await h.dashboard.app.inject({
      method: 'GET',
      url: '/api/institutions/inst-a/history?measure=kitchen',
      headers: { cookie },
    });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('ANL_DASH_HISTORY_UNAVAILABLE');
  });
});
