import { request } from 'node:http';
import { hashSecret } from '@anlian/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, startHarness } from './dashboard-harness.js';

/** A POST from a chosen loopback address (all of 127/8 is loopback on Linux); resolves to the status. */
function post(url: string, path: string, body: unknown, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = request(
      `${url}${path}`,
      {
        method: 'POST',
        localAddress,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': data.length },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function inParallel(count: number, parallel: number, one: (i: number) => Promise<number>): Promise<number[]> {
  const statuses: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) statuses.push(await one(next++));
    }),
  );
  return statuses;
}

describe('dashboard sign-in under a guessing attack', () => {
  let h: Harness;
  let url: string;
  beforeAll(async () => {
    h = await startHarness();
    url = await h.dashboard.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(() => h?.close());

  it('refuses a flood of guesses from one address cheaply, while another user signs in promptly', async () => {
    const t0 = performance.now();
    await hashSecret('calibration');
    const scrypt = performance.now() - t0;
    const bound = 2000 + 40 * scrypt;

    // A different username every time: a limit per address and username never trips, and each
    // guess for an unknown name costs a full scrypt (against a dummy hash, so timing says nothing).
    const flood = inParallel(600, 60, (i) =>
      post(url, '/api/auth/login', { username: `guess-${i}`, password: `wrong-${i}` }, '127.0.0.2'),
    );
    await new Promise((r) => setTimeout(r, 200));
    const t1 = performance.now();
    const status = await post(
      url,
      '/api/auth/login',
      { username: 'operator', password: h.demo.operator.password },
      '127.0.0.1',
    );
    const legit = performance.now() - t1;
    const statuses = await flood;

    expect(status).toBe(200);
    expect(legit, JSON.stringify({ legit, scrypt, bound })).toBeLessThan(bound);
    const refused = statuses.filter((s) => s === 429).length;
    // At most the address's allowance was hashed and answered 401; the rest refused before hashing.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(20);
    expect(refused).toBeGreaterThanOrEqual(580);
    // The kiosk sign-in counts that address's failures too.
    expect(await post(url, '/api/auth/kiosk', { token: 'x'.repeat(32) }, '127.0.0.2')).toBe(429);
  }, 300_000);

  it('locks a username that fails from many addresses, before hashing', async () => {
    // 60 addresses × 1 guess each for admin: each address stays under its own limit.
    const statuses = await inParallel(60, 10, (i) =>
      post(url, '/api/auth/login', { username: 'admin', password: `wrong-${i}` }, `127.0.1.${i + 1}`),
    );
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(50);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(10);
    // …and then even the right password waits for the window: the account is locked.
    expect(
      await post(url, '/api/auth/login', { username: 'admin', password: h.demo.admin.password }, '127.0.2.1'),
    ).toBe(429);
  }, 300_000);
});
