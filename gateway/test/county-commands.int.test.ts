import { readFile, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import type { CommandReplyPayload } from '@anlian/protocol';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { LocalAlarm, type LocalFireAlarm } from '../src/alarm/local-alarm.js';
import { LocalAlarmConfig } from '../src/config/gateway-config.js';
import { loadGatewayConfig } from '../src/config/load-gateway-config.js';
import { buildGateway } from '../src/gateway-service.js';
import { silentLogger } from '../src/logger.js';
import { testDevices } from './support/county-ingest.js';
import { gatewayFileConfig, tempDir, waitFor } from './support/gateway-fixture.js';
import { ManualClock } from './support/manual-clock.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

/** A plain aedes broker: the county side of these tests is a client that sends commands. */
async function startPlainBroker(): Promise<number> {
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    aedes.handle(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

describe('county commands', () => {
  it('ping, drill, snapshot, and reload from the file without losing anything queued', async () => {
    const port = await startPlainBroker();
    const t = await tempDir();
    cleanups.push(t.remove);
    const devices = testDevices(5);
    const file = path.join(t.dir, 'gateway.yaml');
    const base = gatewayFileConfig({ url: `mqtt://127.0.0.1:${port}`, dataDir: path.join(t.dir, 'data'), devices });
    // One message a second: what is queued stays queued until the reload raises the rate.
    await writeFile(file, stringify({ ...base, replay: { ratePerS: 1, burst: 1, inflight: 1 } }));
    const gateway = buildGateway({
      config: await loadGatewayConfig(file),
      logger: silentLogger(),
      loadConfig: () => loadGatewayConfig(file),
    });
    await gateway.start();
    cleanups.push(() => gateway.stop());
    expect(await waitFor(() => gateway.uplink.connected)).toBe(true);

    const county = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'county-ops', reconnectPeriod: 0 });
    cleanups.push(() => county.endAsync(true));
    const replies = new Map<string, CommandReplyPayload & { name: string }>();
    const telemetry: string[] = [];
    const drillIds: Record<string, (string | undefined)[]> = {};
    county.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString()) as CommandReplyPayload & { drillId?: string; event?: string };
      if (topic.endsWith('/reply')) replies.set(body.id, { ...body, name: topic.split('/').at(-2) as string });
      else if (topic.endsWith('/telemetry')) telemetry.push(topic);
      if (topic.endsWith('/event') || (topic.endsWith('/telemetry') && body.drillId !== undefined)) {
        const key = `${topic.split('/').at(-2)}/${topic.split('/').at(-1)}/${body.event ?? ''}`;
        drillIds[key] = [...(drillIds[key] ?? []), body.drillId];
      }
    });
    await county.subscribeAsync(
      ['anlian/v1/+/+/+/cmd/+/reply', 'anlian/v1/+/+/+/device/+/telemetry', 'anlian/v1/+/+/+/device/+/event'],
      { qos: 1 },
    );
    const prefix = 'anlian/v1/testcounty/inst-gw/gw-edge-1/cmd';
    let n = 0;
    const send = async (name: string, args?: Record<string, unknown>) => {
      const id = `cmd-${++n}`;
      await county.publishAsync(
        `${prefix}/${name}`,
        JSON.stringify({ v: 1, ts: Date.now(), id, ...(args ? { args } : {}) }),
        { qos: 1 },
      );
      expect(await waitFor(() => replies.has(id), 10_000)).toBe(true);
      return replies.get(id) as CommandReplyPayload;
    };

    expect(await send('ping')).toMatchObject({ ok: true, detail: 'pong' });
    expect(await send('drill-start', { drill: '2026-11-drill' })).toMatchObject({
      ok: true,
      detail: 'drill 2026-11-drill started',
    });
    expect(gateway.drill.current(Date.now())?.id).toBe('2026-11-drill');
    const snap = await send('snapshot');
    expect(snap.result).toMatchObject({ uplink: { connected: true }, drill: { id: '2026-11-drill' } });
    // Issue 13: in drill mode the gateway's events carry the drill's id; its telemetry never does.
    gateway.submit({ device: 'dev-000', message: 'event', fields: { event: 'fire' } });
    gateway.submit({ device: 'dev-000', message: 'telemetry', fields: { battery: 80 } });
    expect(await waitFor(() => drillIds['dev-000/event/fire']?.length === 1, 10_000)).toBe(true);
    expect(drillIds['dev-000/event/fire']).toEqual(['2026-11-drill']);
    expect(await send('drill-stop')).toMatchObject({ ok: true, detail: 'drill 2026-11-drill stopped' });
    gateway.submit({ device: 'dev-000', message: 'event', fields: { event: 'fire' } });
    expect(await waitFor(() => drillIds['dev-000/event/fire']?.length === 2, 10_000)).toBe(true);
    expect(drillIds['dev-000/event/fire']).toEqual(['2026-11-drill', undefined]);
    // A drill for some devices only marks theirs; an id outside the alphabet is refused.
    expect(await send('drill-start', { drill: 'dr-2', devices: ['dev-001'] })).toMatchObject({ ok: true });
    gateway.submit({ device: 'dev-000', message: 'event', fields: { event: 'fire' } });
    gateway.submit({ device: 'dev-001', message: 'event', fields: { event: 'fire' } });
    expect(await waitFor(() => drillIds['dev-001/event/fire']?.length === 1, 10_000)).toBe(true);
    expect(drillIds['dev-001/event/fire']).toEqual(['dr-2']);
    expect(await waitFor(() => drillIds['dev-000/event/fire']?.length === 3, 10_000)).toBe(true);
    expect(drillIds['dev-000/event/fire']?.[2]).toBeUndefined();
    expect(await send('drill-start', { drill: 'a/b' })).toMatchObject({ ok: false });
    expect(await send('drill-stop')).toMatchObject({ ok: true, detail: 'drill dr-2 stopped' });
    expect(Object.keys(drillIds).some((k) => k.includes('/telemetry/'))).toBe(false);

    for (let i = 0; i < 20; i++)
      gateway.submit({ device: 'dev-000', message: 'telemetry', fields: { battery: 50 + i } });
    expect(gateway.queue.depth()).toBeGreaterThan(15);

    // A bad file is refused with its reasons; the running configuration stays.
    await writeFile(file, stringify({ ...base, replay: { ratePerS: -5 } }));
    const refused = await send('reload');
    expect(refused.ok).toBe(false);
    expect(refused.detail).toMatch(/replay\.ratePerS: Too small/);

    // A good one is applied: a new adapter, a new rate; the queue is kept and drains.
    await writeFile(
      file,
      stringify({
        ...base,
        replay: { ratePerS: 5000, inflight: 10 },
        adapters: [{ type: 'lan-mqtt', host: '127.0.0.1', port: 0 }],
      }),
    );
    const applied = await send('reload');
    expect(applied).toMatchObject({ ok: true });
    expect(applied.detail).toMatch(/queued messages kept/);
    expect(gateway.adapters().map((a) => a.name)).toEqual(['lan-mqtt']);
    // The 20 above and the one sent in drill mode.
    expect(await waitFor(() => telemetry.length === 21, 10_000)).toBe(true);
    expect(gateway.queue.depth()).toBe(0);

    // Replies carry the gateway's sequence numbers, one counter with everything else.
    const seqs = [...replies.values()].map((r) => r.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(await readFile(file, 'utf8')).toContain('lan-mqtt');
  });
});

describe('local alarm', () => {
  it('runs the webhook and GPIO outputs while the county cannot hear, once per device per repeat time', async () => {
    const t = await tempDir();
    cleanups.push(t.remove);
    const bodies: Record<string, unknown>[] = [];
    const http = createHttpServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        bodies.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => http.close(() => resolve())));
    const address = http.address();
    const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/siren`;
    const gpio = path.join(t.dir, 'gpio17-value');

    const clock = new ManualClock();
    let up = false;
    let drill: string | undefined = 'drill-7';
    const alarm = new LocalAlarm({
      config: LocalAlarmConfig.parse({
        outputs: [
          { type: 'webhook', url },
          { type: 'gpio', path: gpio },
        ],
        unackedAfterMs: 10_000,
        repeatAfterMs: 60_000,
      }),
      address: { county: 'c', institution: 'i', gateway: 'g' },
      clock,
      logger: silentLogger(),
      uplinkUp: () => up,
      drill: () => drill,
    });
    cleanups.push(() => alarm.stop());
    const seen: LocalFireAlarm[] = [];
    alarm.onTrigger((a) => seen.push(a));

    alarm.fireAlarmQueued(1, { device: 'smoke-1', zone: '3F', ts: clock.now(), seq: 10 });
    expect(await waitFor(() => bodies.length === 1)).toBe(true);
    expect(bodies[0]).toMatchObject({
      gateway: 'g',
      device: 'smoke-1',
      zone: '3F',
      reason: 'uplink-down',
      drill: 'drill-7',
      event: 'fire',
    });
    expect(await waitFor(() => readFile(gpio, 'utf8').catch(() => ''))).toBe('1');
    // The same detector again within a minute: logged, outputs not re-run.
    alarm.fireAlarmQueued(2, { device: 'smoke-1', ts: clock.now(), seq: 11 });
    expect(seen).toHaveLength(1);

    // Link up: the outputs run only if the county does not acknowledge within 10 s.
    up = true;
    drill = undefined;
    alarm.fireAlarmQueued(3, { device: 'smoke-2', ts: clock.now(), seq: 12 });
    alarm.fireAlarmQueued(4, { device: 'smoke-3', ts: clock.now(), seq: 13 });
    alarm.acknowledged(3);
    clock.advance(9_999);
    expect(seen).toHaveLength(1);
    clock.advance(1);
    expect(seen.map((a) => [a.device, a.reason])).toEqual([
      ['smoke-1', 'uplink-down'],
      ['smoke-3', 'not-acknowledged'],
    ]);
    expect(await waitFor(() => bodies.length === 2)).toBe(true);
  });
});
