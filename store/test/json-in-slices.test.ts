import { describe, expect, it } from 'vitest';
import { stringifyInSlices } from '../src/json-in-slices.js';

describe('stringifyInSlices', () => {
  it('writes what JSON.stringify writes, whatever the slice size', async () => {
    const devices = Array.from({ length: 23 }, (_, i) => ({ id: `d${i}`, v: i / 3, ok: i % 2 === 0, s: 'é"\n' }));
    const gateways = [{ id: 'gw-1' }];
    for (const size of [1, 2, 5, 22, 23, 100]) {
      const text = await stringifyInSlices({ version: 1, takenAt: 5 }, { devices, gateways, empty: [] }, size);
      expect(text).toBe(JSON.stringify({ version: 1, takenAt: 5, devices, gateways, empty: [] }));
    }
    expect(await stringifyInSlices({}, { a: [1, 2, 3] }, 2)).toBe('{"a":[1,2,3]}');
    expect(await stringifyInSlices({ x: 1 }, {})).toBe('{"x":1}');
    expect(await stringifyInSlices({}, {})).toBe('{}');
  });

  it('lets the event loop run between slices', async () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const writing = stringifyInSlices({}, { items }, 1);
    // Queued after the first slice: it runs before the end only if the slices yield to the loop.
    let ranBetween = false;
    setImmediate(() => {
      ranBetween = true;
    });
    await writing;
    expect(ranBetween).toBe(true);
    // Without slices (everything in one), nothing else runs meanwhile.
    const whole = stringifyInSlices({}, { items }, 100);
    let ranMeanwhile = false;
    setImmediate(() => {
      ranMeanwhile = true;
    });
    await whole;
    expect(ranMeanwhile).toBe(false);
  });
});
