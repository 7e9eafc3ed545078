import { parseArgs } from 'node:util';
import type { AlertChange } from '@anlian/alerting';
import {
  FIRE_PANEL_GATEWAY,
  startFirePanelCounty,
  UITD_ADDRESS,
  UITD_DEVICE,
  waitFor,
} from '@anlian/county/fire-panel-county';
import { SimulatedUitd } from '@anlian/device-simulators';
import { encodePayload, topics } from '@anlian/protocol';
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
  // The county and the fire-panel gateway the integration tests use; `gw-direct` publishes the
  // same fire event over MQTT itself, the baseline.
  const county = await startFirePanelCounty({ directGateways: ['gw-direct'] });
  const { alerting, gateway } = county;
  const uitd = new SimulatedUitd({ host: '127.0.0.1', port: county.panelPort, address: UITD_ADDRESS, heartbeatMs: 0 });
  await uitd.start();
  const direct = await mqtt.connectAsync(county.mqttUrl, {
    clientId: 'gw-direct',
    username: 'gw-direct',
    password: county.secretOf('gw-direct'),
    clean: false,
  });
  await waitFor(() => gateway.uplink.connected);
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
    let seen = until(FIRE_PANEL_GATEWAY);
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
    void direct.publishAsync(
      topics.event(county.address('gw-direct'), UITD_DEVICE),
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
  await county.close();
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
