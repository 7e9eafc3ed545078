import { access } from 'node:fs/promises';
import { startInfluxd } from '@anlian/testing';
import { describe, expect, it } from 'vitest';
import { querySeriesV1 } from '../src/query.js';

describe('startInfluxd', () => {
  it('serves /ping, survives kill + restart on the same port and data, and cleans up', async () => {
    const influxd = await startInfluxd();
    try {
      const target = { url: influxd.url, generation: 1 as const, database: 'probe' };
      await fetch(`${influxd.url}/query?q=CREATE+DATABASE+probe`, { method: 'POST' }).then((r) => r.arrayBuffer());
      const res = await fetch(`${influxd.url}/write?db=probe&precision=ms`, {
        method: 'POST',
        body: `m v=1 ${Date.now()}`,
      });
      expect(res.status).toBe(204);

      influxd.kill();
      await influxd.restart();
      expect(influxd.running).toBe(true);
      const [series] = await querySeriesV1(target, 'SELECT count(v) FROM m');
      expect(series?.values[0]?.[1]).toBe(1);
    } finally {
      await influxd.stop();
    }
    expect(influxd.running).toBe(false);
    await expect(access(influxd.dataDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('names the package to install when the binary is missing', async () => {
    await expect(startInfluxd({ binary: '/nonexistent/influxd' })).rejects.toMatchObject({
      code: 'ANL_ERR_INFLUX_MISSING',
      message: expect.stringContaining('apt-get install influxdb'),
    });
  });
});
