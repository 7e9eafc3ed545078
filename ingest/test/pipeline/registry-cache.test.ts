import { silentLogger } from '@anlian/runtime';
import type { GatewayIdentity } from '@anlian/store';
import { describe, expect, it, vi } from 'vitest';
import { type KnownDevice, RegistryCache, type RegistrySource } from '../../src/pipeline/registry-cache.js';

function fakeSource(withProbe: boolean) {
  let version = 1;
  const gateways: GatewayIdentity[] = [{ id: 'gw-1', county: 'c', institution: 'i', enabled: true }];
  const source = {
    listGateways: vi.fn(async () => gateways.map((g) => ({ ...g }))),
    deviceIndex: vi.fn(
      async () => new Map<string, KnownDevice>([['gw-1/d-1', { kind: 'fire', reportIntervalS: 300 }]]),
    ),
    recordUnconfirmedDevices: vi.fn(async () => {}),
    ...(withProbe ? { changeProbe: vi.fn(async () => `v${version}`) } : {}),
  } satisfies RegistrySource;
  return {
    source,
    change(enabled: boolean) {
      version++;
      (gateways[0] as GatewayIdentity).enabled = enabled;
    },
  };
}

describe('RegistryCache refresh', () => {
  it('reloads only when the change probe moved, and now and then regardless', async () => {
    vi.useFakeTimers();
    try {
      const { source, change } = fakeSource(true);
      const cache = new RegistryCache({ source, logger: silentLogger(), refreshMs: 1_000 });
      await cache.start();
      expect(source.listGateways).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(3_000);
      expect(source.listGateways).toHaveBeenCalledTimes(1);
      change(false);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(source.listGateways).toHaveBeenCalledTimes(2);
      expect(cache.gateway('gw-1')?.enabled).toBe(false);
      // Unchanged for ten refreshes in a row: the tenth reloads anyway.
      await vi.advanceTimersByTimeAsync(10_000);
      expect(source.listGateways).toHaveBeenCalledTimes(3);
      await cache.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('reloads on every refresh when the source has no probe', async () => {
    vi.useFakeTimers();
    try {
      const { source } = fakeSource(false);
      const cache = new RegistryCache({ source, logger: silentLogger(), refreshMs: 1_000 });
      await cache.start();
      await vi.advanceTimersByTimeAsync(3_000);
      expect(source.listGateways).toHaveBeenCalledTimes(4);
      await cache.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
