// bench/dashboard: N socket.io clients watch a county of M institutions while ingest events
// stream in and alerts are raised; prints the update latency (alert raised → client received)
// and the dashboard's CPU and RSS, next to a bare socket.io fan-out baseline measured in the
// same run. Usage: npm run bench:dashboard -- [--clients 200] [--institutions 250] [--duration 30]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { io as connect, type Socket } from 'socket.io-client';
import { ProcessSampler } from '../ingest/process-sampler.js';
import { percentiles } from './latency-stats.js';
import type { FromServer, ToServer } from './server-messages.js';

const { values: opts } = parseArgs({
  options: {
    clients: { type: 'string', default: '200' },
    institutions: { type: 'string', default: '250' },
    devices: { type: 'string', default: '200' },
    duration: { type: 'string', default: '30' },
    'msg-rate': { type: 'string', default: '1000' },
    'alert-rate': { type: 'string', default: '2' },
    'baseline-duration': { type: 'string', default: '10' },
  },
});
const clients = Number(opts.clients);
const durationS = Number(opts.duration);
const out = (line: string) => process.stdout.write(`${line}\n`);

const child = fork(fileURLToPath(new URL('./dashboard-server-process.js', import.meta.url)), [], {
  env: { ...process.env, BENCH_INSTITUTIONS: opts.institutions, BENCH_DEVICES: opts.devices },
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
// The server process never outlives the benchmark, whatever ends it.
process.on('exit', () => child.kill());
const next = <T extends FromServer['type']>(type: T) =>
  new Promise<Extract<FromServer, { type: T }>>((resolve) => {
    const on = (m: FromServer) => {
      if (m.type !== type) return;
      child.off('message', on);
      resolve(m as Extract<FromServer, { type: T }>);
    };
    child.on('message', on);
  });
const tell = (m: ToServer) => child.send(m);

out(
  `bench/dashboard: ${clients} clients, ${opts.institutions} institutions × ${opts.devices} devices, ${opts['msg-rate']} msg/s, ${opts['alert-rate']} alerts/s, ${durationS} s`,
);
const ready = await next('ready');
out(
  `  server ready in ${(ready.setupMs / 1000).toFixed(1)} s: ${ready.institutions} institutions, ${ready.devices} devices`,
);

async function connectAll(url: string, cookie?: string): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < clients; i++) {
    const s = connect(url, {
      transports: ['websocket'],
      forceNew: true,
      ...(cookie ? { extraHeaders: { cookie } } : {}),
    });
    sockets.push(s);
  }
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve, reject) => {
          if (s.connected) return resolve();
          s.once('connect', () => resolve());
          s.once('connect_error', reject);
        }),
    ),
  );
  return sockets;
}

// Baseline: bare socket.io fan-out.
const baselineLatencies: number[] = [];
const baseline = await connectAll(ready.baselineUrl);
for (const s of baseline) s.on('tick', (m: { t: number }) => baselineLatencies.push(Date.now() - m.t));
tell({ type: 'start-baseline', rate: Number(opts['alert-rate']) });
await new Promise((r) => setTimeout(r, Number(opts['baseline-duration']) * 1000));
tell({ type: 'stop-feeds' });
await next('stopped');
for (const s of baseline) s.disconnect();

// The dashboard: every client on the wall screen's county room; one in ten also on an institution.
const latencies: number[] = [];
let snapshotsMs: number[] = [];
const sockets = await connectAll(ready.url, ready.cookie);
const t0 = Date.now();
await Promise.all(
  sockets.map(async (s, i) => {
    const started = Date.now();
    const a = (await s.timeout(30_000).emitWithAck('subscribe', { room: `county:${ready.county}` })) as { ok: boolean };
    if (!a.ok) throw new Error('subscribe refused');
    snapshotsMs.push(Date.now() - started);
    if (i % 10 === 0)
      await s
        .timeout(30_000)
        .emitWithAck('subscribe', { room: `institution:load-${String((i % 250) + 1).padStart(4, '0')}` });
    s.on('delta', (d: { room: string; type: string; data: { change?: string; alert?: { openedAt: number } } }) => {
      if (d.room.startsWith('county:') && d.type === 'alert' && d.data.change === 'raised' && d.data.alert)
        latencies.push(Date.now() - d.data.alert.openedAt);
    });
  }),
);
out(
  `  ${clients} snapshots in ${((Date.now() - t0) / 1000).toFixed(1)} s (p50 ${percentiles(snapshotsMs).p50} ms each)`,
);
snapshotsMs = [];

const sampler = new ProcessSampler({ dashboard: child.pid, clients: process.pid });
sampler.start();
tell({ type: 'start-feed', msgRate: Number(opts['msg-rate']), alertRate: Number(opts['alert-rate']) });
await new Promise((r) => setTimeout(r, durationS * 1000));
tell({ type: 'stop-feeds' });
const stopped = await next('stopped');
const usage = sampler.stop();
for (const s of sockets) s.disconnect();
tell({ type: 'quit' });

const b = percentiles(baselineLatencies);
const d = percentiles(latencies);
const fmt = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '—');
out('');
out('                        deliveries      p50      p90      p99      max');
out(
  `  baseline socket.io    ${String(b.n).padStart(10)} ${fmt(b.p50).padStart(8)} ${fmt(b.p90).padStart(8)} ${fmt(b.p99).padStart(8)} ${fmt(b.max).padStart(8)}`,
);
out(
  `  dashboard alert       ${String(d.n).padStart(10)} ${fmt(d.p50).padStart(8)} ${fmt(d.p90).padStart(8)} ${fmt(d.p99).padStart(8)} ${fmt(d.max).padStart(8)}`,
);
out(
  `  (alerts raised ${stopped.alertsRaised}, × ${clients} clients = ${stopped.alertsRaised * clients} expected deliveries; ingest events fed ${stopped.messagesFed})`,
);
const u = usage.dashboard;
const c = usage.clients;
out('');
out(`  dashboard process  CPU ${u?.cpuPercent.toFixed(0)} % of one core, RSS max ${u?.maxRssMb.toFixed(0)} MB`);
out(
  `  client process     CPU ${c?.cpuPercent.toFixed(0)} % of one core, RSS max ${c?.maxRssMb.toFixed(0)} MB (the ${clients} socket.io clients)`,
);
out(`  machine            CPU ${usage.machine?.cpuPercent.toFixed(0)} % of one core in all`);
out(`  target: p99 ≤ 500 ms within one core — ${d.p99 <= 500 && (u?.cpuPercent ?? 999) <= 100 ? 'met' : 'NOT met'}`);
