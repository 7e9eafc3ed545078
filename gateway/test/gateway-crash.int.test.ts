import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { reservePort } from '@anlian/testing';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startCountyIngest, testDevices } from './support/county-ingest.js';
import { gatewayFileConfig, tempDir, waitFor } from './support/gateway-fixture.js';
import { startLinkProxy } from './support/link-proxy.js';

// The gateway as deployed: the launcher execs node with the gateway's flags (bin/anlian-gateway).
const LAUNCHER = fileURLToPath(new URL('../bin/anlian-gateway', import.meta.url));

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface GatewayProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

function spawnGateway(configFile: string): GatewayProcess {
  const child = spawn(LAUNCHER, ['--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE: process.execPath },
  });
  let output = '';
  const keep = (c: Buffer) => {
    output = (output + c.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return { child, exited, output: () => output };
}

describe('the gateway process', () => {
  it('SIGKILLed mid-backlog and restarted: nothing acknowledged to a sensor is lost', async () => {
    const devices = testDevices(100);
    const county = await startCountyIngest(devices);
    cleanups.push(() => county.close());
    const proxy = await startLinkProxy(county.port);
    cleanups.push(() => proxy.close());
    const data = await tempDir();
    cleanups.push(data.remove);
    proxy.cut();

    // The gateway process binds its LAN broker here, and binds it again after the crash.
    const lan = await reservePort();
    cleanups.push(() => lan.release());
    const lanPort = lan.port;
    const alarmFile = path.join(data.dir, 'siren.log');
    const configFile = path.join(data.dir, 'gateway.yaml');
    const config = gatewayFileConfig({
      url: proxy.url,
      dataDir: path.join(data.dir, 'data'),
      devices,
      overrides: {
        // Slow enough that the backlog is still draining when the process is killed.
        replay: { ratePerS: 1000, inflight: 50 },
        adapters: [{ type: 'lan-mqtt', host: '127.0.0.1', port: lanPort }],
        alarm: {
          outputs: [
            {
              type: 'command',
              command: '/bin/sh',
              args: ['-c', `echo "$ANLIAN_ALARM_DEVICE $ANLIAN_ALARM_REASON" >> '${alarmFile}'`],
            },
          ],
        },
        logLevel: 'warn',
      },
    });
    await writeFile(configFile, stringify(config));
    let gw = spawnGateway(configFile);

    const sensor = await waitFor(
      () =>
        mqtt
          .connectAsync(`mqtt://127.0.0.1:${lanPort}`, { clientId: 'lan-sensors', reconnectPeriod: 0 })
          .catch(() => undefined),
      15_000,
      100,
    );
    if (!sensor) throw new Error(`the gateway's LAN broker did not come up:\n${gw.output()}`);
    cleanups.push(() => sensor.endAsync(true));
    // The launcher exec'd node: the pid signalled below is the gateway itself, with its flags.
    const argv = (await readFile(`/proc/${gw.child.pid}/cmdline`, 'utf8')).split('\0');
    expect(argv).toEqual(expect.arrayContaining(['--max-semi-space-size=1', '--no-concurrent-recompilation']));
    expect(argv.some((a) => a.endsWith('/gateway-entry.js'))).toBe(true);

    // 30 readings per device while the county link is down; each PUBACK means "queued".
    const t0 = Date.UTC(2026, 10, 23, 3, 0, 0);
    const expected = new Map<string, number[]>();
    const pubs: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) {
      for (const d of devices) {
        const ts = t0 + i * 30_000;
        const body =
          d.kind === 'kitchen' ? { temperature: 31 } : d.kind === 'extinguisher' ? { pressure: 1.2 } : { battery: 80 };
        pubs.push(sensor.publishAsync(`sensors/${d.id}/telemetry`, JSON.stringify({ ts, ...body }), { qos: 1 }));
        expected.set(d.id, [...(expected.get(d.id) ?? []), ts]);
      }
    }
    const fireTs = t0 + 15 * 30_000 + 5;
    pubs.push(sensor.publishAsync('sensors/dev-000/event', JSON.stringify({ ts: fireTs, event: 'fire' }), { qos: 1 }));
    await Promise.all(pubs);
    const total = 30 * devices.length + 1;

    // The county cannot hear the fire: the local siren command ran.
    expect(await waitFor(() => readFile(alarmFile, 'utf8').catch(() => ''), 10_000)).toBe('dev-000 uplink-down\n');

    // Link back; kill the gateway while the backlog drains.
    proxy.restore();
    const mid = await waitFor(() => county.received.filter((e) => e.type === 'telemetry').length >= 600, 20_000);
    expect(mid).toBe(true);
    gw.child.kill('SIGKILL');
    expect((await gw.exited).signal).toBe('SIGKILL');
    const atKill = county.received.filter((e) => e.type === 'telemetry' || e.type === 'event').length;
    expect(atKill).toBeLessThan(total);

    gw = spawnGateway(configFile);
    const all = await waitFor(
      () => county.received.filter((e) => e.type === 'telemetry' || e.type === 'event').length >= total,
      30_000,
      50,
    );
    if (!all) throw new Error(`backlog not delivered after the restart:\n${gw.output()}`);

    // Every reading, once, in order per device; the fire alarm went ahead of the backlog.
    const byDevice = new Map<string, number[]>();
    for (const e of county.received) {
      if (e.type !== 'telemetry') continue;
      byDevice.set(e.device, [...(byDevice.get(e.device) ?? []), e.payload.ts]);
    }
    expect(byDevice).toEqual(expected);
    const fire = county.received.findIndex((e) => e.type === 'event' && e.payload.event === 'fire');
    const firstTelemetryAfterOutage = county.received.findIndex((e) => e.type === 'telemetry');
    expect(fire).toBeGreaterThanOrEqual(0);
    expect(fire).toBeLessThan(firstTelemetryAfterOutage);

    // A clean stop exits 0 with the queue empty.
    gw.child.kill('SIGTERM');
    expect((await gw.exited).code).toBe(0);
  });
});
