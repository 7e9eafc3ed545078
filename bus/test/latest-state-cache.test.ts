import { describe, expect, it } from 'vitest';
import { LatestStateCache } from '../src/latest-state-cache.js';

const id = {
  county: 'c1',
  institution: 'i1',
  gateway: 'gw-1',
  device: 'kit-1',
  kind: 'kitchen' as const,
  confirmed: true,
};

describe('LatestStateCache', () => {
  it('keeps the latest values without the envelope, and drops values the newest report lacks', () => {
    const cache = new LatestStateCache();
    cache.updateTelemetry(id, 1000, 1005, { v: 1, ts: 1000, seq: 7, kind: 'kitchen', temperature: 24, gasLel: 2 });
    expect(cache.device('gw-1', 'kit-1')).toMatchObject({
      ts: 1000,
      receivedAt: 1005,
      values: { temperature: 24, gasLel: 2 },
    });
    cache.updateTelemetry(id, 2000, 2003, { v: 1, ts: 2000, seq: 8, kind: 'kitchen', temperature: 31.5 });
    const st = cache.device('gw-1', 'kit-1');
    expect(st?.values).toEqual({ temperature: 31.5 });
    expect(st).toMatchObject({ ts: 2000, receivedAt: 2003, kind: 'kitchen', confirmed: true });
  });

  it('never rolls a value back to an older device time', () => {
    const cache = new LatestStateCache();
    cache.updateTelemetry(id, 2000, 2001, { temperature: 30 });
    cache.updateTelemetry(id, 1000, 2002, { temperature: 20 });
    expect(cache.device('gw-1', 'kit-1')).toMatchObject({ ts: 2000, receivedAt: 2001, values: { temperature: 30 } });
  });

  it('keeps the last event across telemetry, and takes a device that became confirmed', () => {
    const cache = new LatestStateCache();
    cache.updateTelemetry({ ...id, confirmed: false }, 1000, 1001, { temperature: 25 });
    cache.updateEvent(id, { event: 'fire', ts: 1500, zone: '厨房' }, 1501);
    cache.updateTelemetry(id, 2000, 2001, { temperature: 26 });
    expect(cache.device('gw-1', 'kit-1')).toMatchObject({
      confirmed: true,
      lastEvent: { event: 'fire', ts: 1500, zone: '厨房' },
      values: { temperature: 26 },
    });
  });

  it('saves and restores every device and gateway', () => {
    const cache = new LatestStateCache();
    cache.updateTelemetry(id, 1000, 1001, { temperature: 25 });
    cache.updateTelemetry(id, 2000, 2001, { temperature: 27 });
    const copy = new LatestStateCache();
    copy.restore(JSON.parse(JSON.stringify(cache.snapshot())));
    expect(copy.device('gw-1', 'kit-1')).toEqual(cache.device('gw-1', 'kit-1'));
  });
});
