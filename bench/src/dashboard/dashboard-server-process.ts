// The dashboard under test, in a process of its own so that its CPU and memory are its own:
// a load county in an in-memory store, the real alerting service on it (in process, as in
// `anlian up`), a feed of ingest events standing in for ingest and the simulator, and fire
// alarms at a fixed rate that alerting raises and the bench verifies and closes.
import { createServer } from 'node:http';
import { alertingApiOf, startAlerting } from '@anlian/alerting';
import { LatestStateCache } from '@anlian/bus';
import { buildDashboard, type DashboardDatabase, migrateDashboard, SESSION_COOKIE, UserStore } from '@anlian/dashboard';
import { buildLoadCounty } from '@anlian/device-simulators';
import type { IngestEvent } from '@anlian/protocol';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { migrateToLatest, openDatabase, Registry } from '@anlian/store';
import type { Kysely } from 'kysely';
import { Server } from 'socket.io';
import type { FromServer, ToServer } from './server-messages.js';

const send = (m: FromServer) => process.send?.(m);
const institutions = Number(process.env.BENCH_INSTITUTIONS ?? 250);
const devicesPer = Number(process.env.BENCH_DEVICES ?? 200);

const t0 = Date.now();
const { db } = openDatabase({ sqlitePath: ':memory:' });
await migrateToLatest(db);
await migrateDashboard(db);
const county = buildLoadCounty({ institutions, devicesPerInstitution: devicesPer, intervalS: 60 });
await new Registry(db).importCounty(county);
const cache = new LatestStateCache();
const listeners = new Set<(e: IngestEvent) => void>();
const subscribe = (l: (e: IngestEvent) => void) => {
  listeners.add(l);
  return () => listeners.delete(l);
};
const alerting = await startAlerting({
  db,
  config: { rulesFile: undefined, channelsFile: undefined, publicUrl: undefined, tickMs: 1000 },
  logger: silentLogger(),
  metrics: createMetricsRegistry({ defaultMetrics: false }),
  subscribe,
});
const alerts = alertingApiOf(alerting.service);
const dashboard = await buildDashboard({
  db,
  cache,
  subscribeIngest: subscribe,
  queryInflux: async () => [],
  alerts,
  logger: silentLogger(),
  webRoot: null,
});
const users = new UserStore(db as unknown as Kysely<DashboardDatabase>);
const { token } = await users.createKioskToken({ name: 'bench', county: county.county.id, createdBy: 'bench' });
const kiosk = await users.checkKioskToken(token);
const session = await users.createSession({ kioskTokenId: kiosk?.id ?? '' }, {});

// Every device has a value and every gateway is online before the clients connect, as in a running county.
const devices: { institution: string; gateway: string; device: string; kind: string }[] = [];
const now = Date.now();
let seq = 1;
const emit = (e: IngestEvent) => {
  if (e.type === 'telemetry') {
    const { v: _v, ts, seq: _s, ...values } = e.payload;
    cache.updateTelemetry(
      {
        county: e.county,
        institution: e.institution,
        gateway: e.gateway,
        device: e.device,
        kind: e.payload.kind,
        confirmed: true,
      },
      ts,
      e.receivedAt,
      values as Record<string, number | boolean | string>,
    );
  } else if (e.type === 'status') {
    cache.updateGateway({
      county: e.county,
      institution: e.institution,
      gateway: e.gateway,
      state: e.payload.state,
      since: e.payload.ts,
      receivedAt: e.receivedAt,
    });
  }
  for (const l of listeners) l(e);
};
for (const inst of county.institutions) {
  for (const gw of inst.gateways) {
    emit({
      type: 'status',
      county: county.county.id,
      institution: inst.id,
      gateway: gw.id,
      receivedAt: now,
      payload: { v: 1, ts: now, seq: seq++, state: 'online' },
    });
    for (const d of gw.devices) devices.push({ institution: inst.id, gateway: gw.id, device: d.id, kind: d.kind });
  }
}
const telemetry = (i: number): IngestEvent => {
  const d = devices[i % devices.length] ?? devices[0];
  const at = Date.now();
  const base = {
    type: 'telemetry' as const,
    county: county.county.id,
    institution: d?.institution ?? '',
    gateway: d?.gateway ?? '',
    device: d?.device ?? '',
    confirmed: true,
    receivedAt: at,
  };
  switch (d?.kind) {
    case 'kitchen':
      return { ...base, payload: { v: 1, ts: at, seq: seq++, kind: 'kitchen', temperature: 25 + (i % 20) } };
    case 'extinguisher':
      return {
        ...base,
        payload: { v: 1, ts: at, seq: seq++, kind: 'extinguisher', medium: 'dry_powder', pressure: 1.2 },
      };
    case 'camera':
      return { ...base, payload: { v: 1, ts: at, seq: seq++, kind: 'camera', online: true, streamOk: true, fps: 25 } };
    default:
      return { ...base, payload: { v: 1, ts: at, seq: seq++, kind: 'fire', battery: 80 } };
  }
};
for (let i = 0; i < devices.length; i++) emit(telemetry(i));
const fireDevices = devices.filter((d) => d.kind === 'fire');

await dashboard.start();
const url = await dashboard.listen({ host: '127.0.0.1', port: 0 });

// Baseline: bare socket.io fan-out of a timestamp, no dashboard logic, same clients, same machine.
const baselineHttp = createServer();
const baselineIo = new Server(baselineHttp, { serveClient: false });
await new Promise<void>((resolve) => baselineHttp.listen(0, '127.0.0.1', resolve));
const baselineAddr = baselineHttp.address();
const baselineUrl = `http://127.0.0.1:${typeof baselineAddr === 'object' && baselineAddr ? baselineAddr.port : 0}`;

send({
  type: 'ready',
  url,
  baselineUrl,
  cookie: `${SESSION_COOKIE}=${session}`,
  county: county.county.id,
  institutions: county.institutions.length,
  devices: devices.length,
  setupMs: Date.now() - t0,
});

let timers: NodeJS.Timeout[] = [];
let fed = 0;
let raised = 0;
let baselineSent = 0;
process.on('message', (m: ToServer) => {
  if (m.type === 'start-feed') {
    // Telemetry in 20 slices a second, like a county's steady stream.
    const perTick = Math.max(1, Math.round(m.msgRate / 20));
    timers.push(
      setInterval(() => {
        for (let k = 0; k < perTick; k++) emit(telemetry(fed++));
      }, 50),
    );
    if (m.alertRate > 0) {
      timers.push(
        setInterval(() => {
          const fire = fireDevices[raised % fireDevices.length];
          if (!fire) return;
          raised++;
          const at = Date.now();
          const unsubscribe = alerts.onChange((c) => {
            if (c.type !== 'raised' || c.alert.device !== fire.device || c.alert.gateway !== fire.gateway) return;
            unsubscribe();
            // Handled a few seconds later, as an operator would: the open set stays bounded.
            const id = c.alert.id;
            setTimeout(() => {
              void alerts
                .acknowledge(id, 'bench')
                .then(() => alerts.verify(id, 'bench', 'test'))
                .then(() => alerts.close(id, 'bench'));
            }, 5000);
          });
          emit({
            type: 'event',
            county: county.county.id,
            institution: fire.institution,
            gateway: fire.gateway,
            device: fire.device,
            confirmed: true,
            receivedAt: at,
            payload: { v: 1, ts: at, seq: seq++, kind: 'fire', event: 'fire', zone: 'bench' },
          });
        }, 1000 / m.alertRate),
      );
    }
  } else if (m.type === 'start-baseline') {
    timers.push(
      setInterval(() => {
        baselineSent++;
        baselineIo.emit('tick', { t: Date.now() });
      }, 1000 / m.rate),
    );
  } else if (m.type === 'stop-feeds') {
    for (const t of timers) clearInterval(t);
    timers = [];
    send({ type: 'stopped', alertsRaised: raised, messagesFed: fed, baselineSent });
  } else if (m.type === 'quit') {
    Promise.all([baselineIo.close(), dashboard.stop(), alerting.stop()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  }
});
