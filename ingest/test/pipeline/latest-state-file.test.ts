import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LatestStateCache } from '@anlian/bus';
import { silentLogger } from '@anlian/runtime';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LatestStateFile } from '../../src/pipeline/latest-state-file.js';

const id = { county: 'c', institution: 'i', gateway: 'gw', device: 'smoke-1', kind: 'fire' as const, confirmed: true };

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'anlian-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LatestStateFile', () => {
  it('keeps device and gateway state across a restart; newer messages win over the saved state', async () => {
    const file = path.join(dir, 'latest-state.json');
    const before = new LatestStateCache();
    before.updateTelemetry(id, 1000, 1001, { battery: 80 });
    before.updateTelemetry({ ...id, device: 'smoke-2' }, 1000, 1001, { battery: 70 });
    before.updateGateway({
      county: 'c',
      institution: 'i',
      gateway: 'gw',
      state: 'online',
      since: 900,
      receivedAt: 901,
    });
    const saver = new LatestStateFile(file, before, silentLogger());
    await saver.start();
    await saver.stop();

    const after = new LatestStateCache();
    // A message that arrives before the file is read is newer than anything in it.
    after.updateTelemetry(id, 2000, 2001, { battery: 79 });
    const loader = new LatestStateFile(file, after, silentLogger());
    await loader.start();
    await loader.stop();
    expect(after.device('gw', 'smoke-1')?.values).toEqual({ battery: 79 });
    expect(after.device('gw', 'smoke-2')?.values).toEqual({ battery: 70 });
    expect(after.gateway('gw')?.state).toBe('online');
    expect(JSON.parse(await readFile(file, 'utf8')).version).toBe(1);
  });

  it('starts empty, without failing, on a missing or damaged file', async () => {
    const cache = new LatestStateCache();
    const missing = new LatestStateFile(path.join(dir, 'none.json'), cache, silentLogger());
    await missing.start();
    await missing.stop();
    const damaged = path.join(dir, 'damaged.json');
    await writeFile(damaged, '{"version":1,"devices":[');
    const other = new LatestStateCache();
    const f = new LatestStateFile(damaged, other, silentLogger());
    await f.start();
    expect(other.size).toEqual({ devices: 0, gateways: 0 });
    await f.stop();
    // The damaged file was replaced by a good (empty) one.
    expect(JSON.parse(await readFile(damaged, 'utf8'))).toEqual({ version: 1, devices: [], gateways: [] });
  });
});
