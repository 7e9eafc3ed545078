// The county of bench:gateway's camera phase, in a process of its own (as a county runs apart from
// its institutions' gateways and its managers' phones): ingest with its embedded broker and media
// store, alerting, the dashboard — `anlian up`'s composition — over a stand-in InfluxDB. It reports
// what the bench times: fire alarms at ingest, alerts raised, camera diagnoses seen.
import { createServer } from 'node:http';
import { loadAlertingConfig } from '@anlian/alerting';
import { startAllInOne } from '@anlian/county';
import { loadDashboardConfig, seedDemoUsers } from '@anlian/dashboard';
import { loadIngestConfig } from '@anlian/ingest';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import type { CountyCommand, CountyReport } from './county-messages.js';

const send = (r: CountyReport) => process.send?.(r);
const required = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (the bench sets it)`);
  return v;
};

try {
  const gateway = required('BENCH_GATEWAY');
  const institution = required('BENCH_INSTITUTION');
  // A stand-in InfluxDB that takes every write: the bench times the gateway and the alarm path.
  const influx = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => influx.listen(0, '127.0.0.1', resolve));
  const a = influx.address();
  const env: NodeJS.ProcessEnv = {
    ANLIAN_DATA_DIR: required('BENCH_COUNTY_DIR'),
    ANLIAN_MQTT_HOST: '127.0.0.1',
    ANLIAN_MQTT_PORT: required('BENCH_MQTT_PORT'),
    ANLIAN_HTTP_PORT: '0',
    ANLIAN_LOG_LEVEL: 'silent',
    INFLUX_URL: `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`,
    INFLUX_SETUP: 'false',
  };
  const config = loadIngestConfig(env);
  // `anlian up`'s composition: ingest, alerting on ingest's events, the dashboard (API only).
  const county = await startAllInOne({
    ingest: config,
    alerting: loadAlertingConfig(env),
    dashboard: loadDashboardConfig({ ...env, ANLIAN_DASHBOARD_HOST: '127.0.0.1', ANLIAN_DASHBOARD_PORT: '0' }),
    logger: silentLogger(),
    metrics: createMetricsRegistry(),
    webRoot: null,
  });
  const { ingest, alerting, dashboard } = county;
  if (!dashboard || !county.dashboardUrl) throw new Error('the county has no dashboard');
  const base = county.dashboardUrl;
  const demo = await seedDemoUsers(ingest.database.db, required('BENCH_COUNTY'));

  // A camera's telemetry carries the time of its last decoded frame, which moves exactly when a
  // diagnosis read the stream.
  const lastFrame = new Map<string, number>();
  ingest.service.pipeline.onEvent((e) => {
    if (e.gateway !== gateway) return;
    if (e.type === 'telemetry' && e.payload.kind === 'camera' && e.payload.lastFrameTs !== undefined) {
      if (lastFrame.get(e.device) === e.payload.lastFrameTs) return;
      lastFrame.set(e.device, e.payload.lastFrameTs);
      send({ type: 'diagnosed', camera: e.device, at: e.receivedAt });
    } else if (e.type === 'event' && e.payload.kind === 'camera') {
      send({ type: 'camera-event', camera: e.device, event: e.payload.event });
    } else if (e.type === 'event' && e.payload.kind === 'fire' && e.payload.event === 'fire') {
      send({ type: 'fire', detector: e.device, at: e.receivedAt });
    }
  });
  alerting.service.onChange((c) => {
    if (c.type === 'raised' && c.alert.device) send({ type: 'raised', detector: c.alert.device, at: Date.now() });
  });

  const manager = demo.managers.find((m) => m.institution === institution);
  const login = await dashboard.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username: manager?.username, password: manager?.password },
  });
  const session = login.cookies.find((k) => k.name === 'anl_session')?.value;
  send({
    type: 'ready',
    brokerUrl: `mqtt://127.0.0.1:${env.ANLIAN_MQTT_PORT}`,
    base,
    cookie: `anl_session=${session}`,
  });

  process.on('message', (m: CountyCommand) => {
    if (m.type !== 'exit') return;
    void (async () => {
      await county.stop();
      await new Promise<void>((resolve) => influx.close(() => resolve()));
      process.exit(0);
    })();
  });
} catch (err) {
  send({ type: 'error', message: (err as Error).stack ?? String(err) });
  process.exit(1);
}
