import { describe, expect, it, vi } from 'vitest';
import { warmHttpClient } from '../../src/notify/http-attempt.js';

const logger = () => ({ debug: vi.fn(), warn: vi.fn() });

describe('warmHttpClient (issue 12: the first fire alarm does not pay for loading fetch)', () => {
  it('makes one JSON POST through the given fetch to a loopback server of its own, closed after', async () => {
    const calls: string[] = [];
    const spy: typeof fetch = (input, init) => {
      calls.push(`${init?.method} ${String(input)}`);
      return fetch(input, init);
    };
    const log = logger();
    const ms = await warmHttpClient(spy, log);
    expect(ms).toBeGreaterThan(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^POST http:\/\/127\.0\.0\.1:\d+\/warm-up$/);
    expect(log.warn).not.toHaveBeenCalled();
    // Nothing is left listening: the same address now refuses.
    const url = calls[0]?.slice('POST '.length) ?? '';
    await expect(fetch(url, { method: 'POST', body: '{}' })).rejects.toThrow();
  });

  it('never throws: a fetch that fails is logged and the first push pays instead', async () => {
    const log = logger();
    const broken: typeof fetch = () => Promise.reject(new Error('no network stack'));
    await expect(warmHttpClient(broken, log)).resolves.toBeUndefined();
    expect(log.warn).toHaveBeenCalledTimes(1);
  });
});
