import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type AlertChange, loadAlertingConfig, startAlerting } from '@anlian/alerting';
import { SimulatedUitd } from '@anlian/device-simulators';
import { buildGateway, silentLogger as gatewayLogger, resolveGatewayConfig } from '@anlian/gateway';
import { loadIngestConfig, startIngest } from '@anlian/ingest';
import { encodePayload, topics } from '@anlian/protocol';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { seedCounty } from '@anlian/store';
import { reservePort } from '@anlian/testing';
import mqtt from 'mqtt';
import { componentStatusStream, decoderThroughput, jsonBaseline } from './decoder-throughput.js';

/**
 * bench:fire-panel — (1) the GB/T 26875.3 decoder's throughput on one core (target ≥ 50,000
 * component-status frames/s) next to JSON.parse of the same event; (2) latency from a UITD's fire
 * frame to the county's alert (simulated UITD → gateway fire-panel adapter → MQTT → ingest →
 * alerting; target p99 ≤ 50 ms) next to the same fire event published directly over MQTT by a
 * gateway client, interleaved in the same run.
 */
const { values } = parseArgs({
  options: {
    'decode-seconds': { type: 'string', default: '5' },
    alarms: { type: 'string', default: '200' },
  },
});
const decodeSeconds = Number(values['decode-seconds']);
const alarms = Number(values.alarms);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
const fmt = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${pct(s, 50).toFixed(2)} ms  p95 ${pct(s, 95).toFixed(2)} ms  p99 ${pct(s, 99).toFixed(2)} ms  max ${(s.at(-1) ?? 0).toFixed(2)} ms  (n=${s.length})`;
};

async function latency(): Promise<{ uitd: number[]; direct: number[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'anlian-bench-fire-panel-'));
  const influx = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((r) => influx.listen(0, '127.0.0.1', r));
  const loc = { building: '主楼', floor: '1F', room: '消防控制室' };
  const gateways = ['gw-panel', 'gw-direct'].map((id) => ({
    id,
    secret: `secret-of-${id}-bench`,
    devices: [{ id: 'panel-1', kind: 'fire' as const, name: '火灾报警控制器', location: loc }],
  }));
  const countyFile = path.join(dir, 'county.json');
  await writeFile(
    countyFile,
    JSON.stringify({
      county: { id: 'bench', name: '基准县', adcode: '500242' },
      institutions: [
        {
          id: 'inst-b',
          name: '基准养老院',
          address: '基准县',
          location: { lng: 108.77, lat: 28.84 },
          beds: 80,
          gateways,
        },
      ],
    }),
  );
  await seedCounty({ file: countyFile, db: { sqlitePath: path.join(dir, 'anlian.db') }, print: () => {} });
  // Held until the end: ingest's broker and the gateway's fire-panel server bind them later.
  const mqttReservation = await reservePort();
  const mqttPort = mqttReservation.port;
  const metrics = createMetricsRegistry();
  const ingest = await startIngest(
    loadIngestConfig({
      ANLIAN_DATA_DIR: dir,
      ANLIAN_MQTT_HOST: '127.0.0.1',
      ANLIAN_MQTT_PORT: String(mqttPort),
      ANLIAN_HTTP_PORT: '0',
      ANLIAN_LOG_LEVEL: 'silent',
      INFLUX_URL: `http://127.0.0.1:${(influx.address() as AddressInfo).port}`,
      INFLUX_SETUP: 'false',
    }),
    silentLogger(),
    metrics,
  );
  const alerting = await startAlerting({
    db: ingest.database.db,
    config: loadAlertingConfig({}),
    logger: silentLogger(),
    metrics,
    subscribe: (l) => ingest.service.pipeline.onEvent(l),
  });
  const panelReservation = await reservePort();
  const panelPort = panelReservation.port;
  const gateway = buildGateway({
    config: resolveGatewayConfig({
      gateway: { county: 'bench', institution: 'inst-b', id: 'gw-panel' },
      county: { url: `mqtt://127.0.0.1:${mqttPort}`, password: 'secret-of-gw-panel-bench' },
      dataDir: path.join(dir, 'gateway'),
      devices: [{ id: 'panel-1', kind: 'fire' }],
      adapters: [
        {
          type: 'gb26875',
          host: '127.0.0.1',
          port: panelPort,
          uitds: [{ address: 889, device: 'panel-1' }],
          livenessEveryS: 0,
        },
      ],
      logLevel: 'silent',
    }),
    logger: gatewayLogger(),
  });
  await gateway.start();
  const uitd = new SimulatedUitd({ host: '127.0.0.1', port: panelPort, address: 889, heartbeatMs: 0 });
  await uitd.start();
  const direct = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
    clientId: 'gw-direct',
    username: 'gw-direct',
    password: 'secret-of-gw-direct-bench',
    clean: false,
  });
  while (!gateway.uplink.connected) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 500));

  let waiting: { gateway: string; resolve: (t: number) => void } | undefined;
  alerting.service.onChange((c: AlertChange) => {
    if (waiting && c.alert.gateway === waiting.gateway && c.alert.rule === 'fire-alarm')
      waiting.resolve(performance.now());
  });
  const until = (gw: string) => new Promise<number>((resolve) => (waiting = { gateway: gw, resolve }));
  const out = { uitd: [] as number[], direct: [] as number[] };
  let seq = 1;
  for (let i = 0; i < alarms; i++) {
    // Interleaved so that both paths see the same machine.
    let seen = until('gw-panel');
    let t0 = performance.now();
    void uitd.component({
      componentType: 42,
      loop: 1 + (i % 8),
      point: 1 + (i % 200),
      status: { fire: true },
      description: `${(i % 6) + 1}层 走廊`,
    });
    out.uitd.push((await seen) - t0);
    seen = until('gw-direct');
    t0 = performance.now();
    const addr = { county: 'bench', institution: 'inst-b', gateway: 'gw-direct' };
    void direct.publishAsync(
      topics.event(addr, 'panel-1'),
      encodePayload('event', {
        v: 1,
        ts: Date.now(),
        seq: seq++,
        kind: 'fire',
        event: 'fire',
        zone: `${(i % 6) + 1}层 走廊`,
      }),
      { qos: 1 },
    );
    out.direct.push((await seen) - t0);
  }
  await direct.endAsync();
  await uitd.stop();
  await gateway.stop();
  await alerting.stop();
  await ingest.stop();
  influx.close();
  mqttReservation.release();
  panelReservation.release();
  await rm(dir, { recursive: true, force: true });
  return out;
}

async function main(): Promise<void> {
  process.stdout.write(`bench:fire-panel — node ${process.version}, ${new Date().toISOString()}\n`);
  const stream = componentStatusStream();
  decoderThroughput(stream, 0.5); // warm-up
  const d = decoderThroughput(stream, decodeSeconds);
  const j = jsonBaseline(decodeSeconds);
  process.stdout.write(
    `decoder (one core): ${Math.round(d.perSecond).toLocaleString('en')} component-status frames/s (target ≥ 50,000)\n` +
      `  baseline JSON.parse of the same fire event: ${Math.round(j.perSecond).toLocaleString('en')} payloads/s\n`,
  );
  const l = await latency();
  process.stdout.write(
    `UITD fire frame → county alert:     ${fmt(l.uitd)}  (target p99 ≤ 50 ms)\n` +
      `baseline, MQTT fire event → alert:  ${fmt(l.direct)}\n`,
  );
}

await main();
