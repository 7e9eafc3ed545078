import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GatewayFileConfig } from '../src/config/gateway-config.js';
import { loadGatewayConfig, resolveGatewayConfig } from '../src/config/load-gateway-config.js';
import { TokenBucket } from '../src/uplink/token-bucket.js';
import { tempDir } from './support/gateway-fixture.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const minimal = {
  gateway: { county: 'youyang', institution: 'yy-a', id: 'gw-a' },
  county: { url: 'mqtts://county.example:8883', password: 'a-long-secret' },
  dataDir: '/var/lib/anlian-gateway',
};

function problems(value: unknown): string {
  try {
    resolveGatewayConfig(value, { file: 'gw.yaml' });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('gateway configuration', () => {
  it('fills defaults from the schema', () => {
    const c = resolveGatewayConfig(minimal);
    expect(c.queue).toMatchObject({ maxBytes: 256 * 1024 * 1024, thinKeepEvery: 10, telemetryFsyncMs: 1000 });
    expect(c.replay).toMatchObject({ ratePerS: 500, inflight: 100 });
    expect(c.heartbeatIntervalS).toBe(30);
    expect(c.county.keepaliveS).toBe(30);
    expect(Object.isFrozen(c.queue)).toBe(true);
  });

  it('names the path and the reason of every problem', () => {
    const msg = problems({
      ...minimal,
      gateway: { county: 'you yang', institution: 'yy-a', id: 'gw-a' },
      county: { url: 'http://x', password: 'p', passwordFile: '/etc/p' },
      queue: { thinKeepEvery: 1 },
      devices: [
        { id: 'ext-1', kind: 'extinguisher' },
        { id: 'ext-1', kind: 'fire', medium: 'sprinkler' },
      ],
      adapters: [
        { type: 'modbus-tcp', host: '10.0.0.7', registers: [{ device: 'nope', address: 0, field: 'pressure' }] },
        { type: 'bacnet', url: 'bacnet://x' },
      ],
      extra: true,
    });
    expect(msg).toMatch(/^ANL_GW_CONFIG:/);
    expect(msg).toContain('gw.yaml: gateway.county: an id is');
    expect(msg).toContain('gw.yaml: county.url: an MQTT URL');
    expect(msg).toContain('gw.yaml: queue.thinKeepEvery:');
    expect(msg).toContain('gw.yaml: devices.1.medium: medium is only for extinguisher devices');
    expect(msg).toContain('gw.yaml: adapters.1.type: unknown value; expected one of: lan-mqtt, modbus-tcp, camera');
    expect(msg).toContain('gw.yaml: extra: unknown field');
  });

  it('checks cross references once the shapes are right', () => {
    const msg = problems({
      ...minimal,
      county: { url: 'mqtt://x:1883', password: 'p', passwordFile: '/etc/p' },
      devices: [
        { id: 'ext-1', kind: 'extinguisher' },
        { id: 'ext-1', kind: 'fire' },
        { id: 'smoke-1', kind: 'fire' },
      ],
      adapters: [
        {
          type: 'modbus-tcp',
          host: '10.0.0.7',
          registers: [
            { device: 'nope', address: 0, field: 'pressure' },
            { device: 'smoke-1', address: 1, field: 'temperature' },
            { device: 'ext-1', address: 2, field: 'temperature' },
          ],
        },
      ],
    });
    expect(msg).toContain('county.password: give exactly one of password or passwordFile');
    expect(msg).toContain('devices.1.id: duplicate device id "ext-1" (first at devices.0)');
    expect(msg).toContain('adapters.0.registers.0.device: device "nope" is not in devices');
    expect(msg).toContain('adapters.0.registers.1.device: Modbus transmitters are extinguisher');
    expect(msg).toContain('adapters.0.registers: device "ext-1" (extinguisher) needs a pressure register');
  });

  it('reads YAML with line numbers, resolves paths and reads the password file', async () => {
    const t = await tempDir('anlian-gw-config-');
    cleanups.push(t.remove);
    await writeFile(path.join(t.dir, 'secret'), 'from-a-file-secret\n');
    const file = path.join(t.dir, 'gateway.yaml');
    await writeFile(
      file,
      [
        'gateway: { county: youyang, institution: yy-a, id: gw-a }',
        'county:',
        '  url: mqtt://127.0.0.1:1883',
        '  passwordFile: secret',
        'dataDir: data',
        '',
      ].join('\n'),
    );
    const c = await loadGatewayConfig(file);
    expect(c.county.password).toBe('from-a-file-secret');
    expect(c.dataDir).toBe(path.join(t.dir, 'data'));

    await writeFile(
      file,
      ['gateway: { county: youyang, institution: yy-a, id: gw-a }', 'dataDir: data', 'heartbeatIntervalS: 1', ''].join(
        '\n',
      ),
    );
    await expect(loadGatewayConfig(file)).rejects.toThrow(/line 3, column 21: heartbeatIntervalS: Too small/);
    await expect(loadGatewayConfig(file)).rejects.toThrow(/county: required/);
  });
});

describe('the shipped example', () => {
  it('deploy/gateway/gateway.example.yaml is a valid configuration', async () => {
    const text = await readFile(new URL('../../deploy/gateway/gateway.example.yaml', import.meta.url), 'utf8');
    const r = GatewayFileConfig.safeParse(parse(text));
    expect(r.success ? [] : r.error.issues).toEqual([]);
  });
});

describe('TokenBucket', () => {
  it('allows a burst, then the rate', () => {
    let now = 0;
    const b = new TokenBucket({ ratePerS: 100, burst: 5, now: () => now });
    let taken = 0;
    while (b.take()) taken++;
    expect(taken).toBe(5);
    expect(b.waitMs()).toBe(10);
    now += 50;
    taken = 0;
    while (b.take()) taken++;
    expect(taken).toBe(5);
    now += 10_000;
    taken = 0;
    while (b.take()) taken++;
    expect(taken).toBe(5);
  });
});
