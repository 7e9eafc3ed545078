import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  DutyCheckService,
  loadAlertingConfig,
  type RunningAlerting,
  startAlerting,
  TransportGatewayCommands,
} from '@anlian/alerting';
import { buildGateway, type Gateway, silentLogger as gatewaySilentLogger, resolveGatewayConfig } from '@anlian/gateway';
import { EmbeddedBroker, loadIngestConfig, type RunningIngest, startIngest } from '@anlian/ingest';
import type { CountyConfigInput } from '@anlian/protocol';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { seedCounty } from '@anlian/store';
import { reservePort } from '@anlian/testing';

export const COUNTY = 'fpcounty';
export const INSTITUTION = 'inst-fp';
export const GATEWAY = 'gw-fp-1';
const SECRET = 'secret-of-the-fire-panel-gateway';
/** The simulated UITD's address (its label's number). */
export const UITD_ADDRESS = 889;
export const UITD_DEVICE = 'panel-1';

export interface FirePanelStack {
  ingest: RunningIngest;
  alerting: RunningAlerting;
  gateway: Gateway;
  /** The county's duty checks, through the embedded broker's in-process link (as in `anlian up`). */
  dutyChecks: DutyCheckService;
  commands: TransportGatewayCommands;
  /** Resolves once the gateway answers a ping: its command subscription is in place. */
  commandsReady(): Promise<void>;
  /** The fire-panel adapter's port on the gateway (the UITD connects here). */
  panelPort: number;
  close(): Promise<void>;
}

async function startNullInflux(): Promise<Server> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/**
 * The county (ingest with its embedded broker, alerting on its events — the `anlian up`
 * composition, with a stand-in InfluxDB that takes every write) and a real gateway whose
 * GB/T 26875.3 adapter serves UITD 889 (device `panel-1`), with an electrical circuit `elec-1`
 * at loop 2 point 1 (component type 17; residual current as vendor analog type 128, mA).
 */
export async function startFirePanelStack(
  opts: { offlineGraceS?: number; linkTimeoutS?: number } = {},
): Promise<FirePanelStack> {
  const dir = await mkdtemp(path.join(tmpdir(), 'anlian-fire-panel-'));
  const influx = await startNullInflux();
  const loc = { building: '主楼', floor: '1F', room: '消防控制室' };
  const county: CountyConfigInput = {
    county: { id: COUNTY, name: '消防主机测试县', adcode: '500242' },
    institutions: [
      {
        id: INSTITUTION,
        name: '消防主机测试养老院',
        address: '测试县',
        location: { lng: 108.77, lat: 28.84 },
        beds: 80,
        contacts: [{ id: 'mgr', name: '龙丽萍', role: 'manager', phone: '13800130100' }],
        gateways: [
          {
            id: GATEWAY,
            secret: SECRET,
            devices: [
              { id: UITD_DEVICE, kind: 'fire', name: '火灾报警控制器', location: loc },
              { id: 'elec-1', kind: 'electrical', name: '配电箱 1 回路', location: loc },
            ],
          },
        ],
      },
    ],
  };
  const countyFile = path.join(dir, 'county.json');
  await writeFile(countyFile, JSON.stringify(county));
  await seedCounty({ file: countyFile, db: { sqlitePath: path.join(dir, 'anlian.db') }, print: () => {} });
  // Held until close(): ingest's broker and the gateway's fire-panel server bind them later.
  const mqttReservation = await reservePort();
  const mqttPort = mqttReservation.port;
  const env: NodeJS.ProcessEnv = {
    ANLIAN_DATA_DIR: dir,
    ANLIAN_MQTT_HOST: '127.0.0.1',
    ANLIAN_MQTT_PORT: String(mqttPort),
    ANLIAN_HTTP_PORT: '0',
    ANLIAN_LOG_LEVEL: 'silent',
    INFLUX_URL: `http://127.0.0.1:${(influx.address() as AddressInfo).port}`,
    INFLUX_SETUP: 'false',
    INFLUX_FLUSH_INTERVAL_MS: '100',
  };
  const metrics = createMetricsRegistry();
  const ingest = await startIngest(loadIngestConfig(env), silentLogger(), metrics);
  const alerting = await startAlerting({
    db: ingest.database.db,
    config: loadAlertingConfig({ ANLIAN_ALERT_TICK_MS: '200' }),
    logger: silentLogger(),
    metrics,
    subscribe: (listener) => ingest.service.pipeline.onEvent(listener),
  });
  const panelReservation = await reservePort();
  const panelPort = panelReservation.port;
  const gateway = buildGateway({
    config: resolveGatewayConfig({
      gateway: { county: COUNTY, institution: INSTITUTION, id: GATEWAY },
      county: { url: `mqtt://127.0.0.1:${mqttPort}`, password: SECRET, reconnect: { initialMs: 100, maxMs: 1000 } },
      dataDir: path.join(dir, 'gateway'),
      devices: [
        { id: UITD_DEVICE, kind: 'fire' },
        { id: 'elec-1', kind: 'electrical' },
      ],
      adapters: [
        {
          type: 'gb26875',
          host: '127.0.0.1',
          port: panelPort,
          uitds: [
            { address: UITD_ADDRESS, device: UITD_DEVICE, components: [{ loop: 2, point: 1, device: 'elec-1' }] },
          ],
          analog: [{ type: 128, field: 'residualCurrent', scale: 1 }],
          offlineGraceS: opts.offlineGraceS ?? 0,
          linkTimeoutS: opts.linkTimeoutS ?? 30,
          replyTimeoutMs: 1000,
          retries: 1,
          livenessEveryS: 0,
        },
      ],
      logLevel: 'silent',
    }),
    logger: gatewaySilentLogger(),
  });
  await gateway.start();
  const broker = ingest.service.source;
  if (!(broker instanceof EmbeddedBroker)) throw new Error('the stack runs the embedded broker');
  const commands = new TransportGatewayCommands({
    transport: broker.countyLink(),
    county: COUNTY,
    logger: silentLogger(),
  });
  await commands.start();
  const dutyChecks = new DutyCheckService({
    db: ingest.database.db as never,
    commands,
    raise: (signal) => alerting.service.signal(signal),
    logger: silentLogger(),
    replyGraceMs: 5000,
  });
  return {
    ingest,
    alerting,
    gateway,
    dutyChecks,
    commands,
    async commandsReady() {
      const target = { county: COUNTY, institution: INSTITUTION, gateway: GATEWAY };
      for (let i = 0; i < 40; i++) {
        const ok = await commands.send(target, 'ping', undefined, { timeoutMs: 500 }).then(
          () => true,
          () => false,
        );
        if (ok) return;
      }
      throw new Error('the gateway never answered a ping');
    },
    panelPort,
    async close() {
      await dutyChecks.stop();
      await commands.stop();
      await gateway.stop().catch(() => {});
      await alerting.stop().catch(() => {});
      await ingest.stop().catch(() => {});
      await new Promise<void>((resolve) => influx.close(() => resolve()));
      mqttReservation.release();
      panelReservation.release();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(fn: () => T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
