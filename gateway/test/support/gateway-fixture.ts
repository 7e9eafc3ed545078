import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GatewayConfig, GatewayFileConfigInput } from '../../src/config/gateway-config.js';
import { resolveGatewayConfig } from '../../src/config/load-gateway-config.js';
import { COUNTY, GATEWAY, INSTITUTION, SECRET, type TestDevice } from './county-ingest.js';

/** A temp directory removed by the returned function. */
export async function tempDir(prefix = 'anlian-gw-'): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The file form of a test gateway's configuration (what a YAML file would hold). */
export function gatewayFileConfig(opts: {
  url: string;
  dataDir: string;
  devices: readonly TestDevice[];
  overrides?: Partial<GatewayFileConfigInput>;
}): GatewayFileConfigInput {
  return {
    gateway: { county: COUNTY, institution: INSTITUTION, id: GATEWAY },
    county: {
      url: opts.url,
      password: SECRET,
      keepaliveS: 5,
      connectTimeoutMs: 2000,
      reconnect: { initialMs: 100, maxMs: 1000 },
    },
    dataDir: opts.dataDir,
    replay: { ratePerS: 5000, inflight: 100 },
    devices: opts.devices.map((d) => ({ id: d.id, kind: d.kind })),
    logLevel: 'silent',
    ...opts.overrides,
  };
}

export function gatewayConfig(opts: Parameters<typeof gatewayFileConfig>[0]): GatewayConfig {
  return resolveGatewayConfig(gatewayFileConfig(opts));
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns its last value. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 20_000, everyMs = 25): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = await fn();
  while (!last && Date.now() < until) {
    await new Promise((r) => setTimeout(r, everyMs));
    last = await fn();
  }
  return last;
}
