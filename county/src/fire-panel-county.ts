import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type AlertingNode, type DutyCheckService, loadAlertingConfig } from '@anlian/alerting';
import { buildGateway, type Gateway, silentLogger as gatewaySilentLogger, resolveGatewayConfig } from '@anlian/gateway';
import { loadIngestConfig, type RunningIngest } from '@anlian/ingest';
import type { CountyConfigInput, GatewayAddress } from '@anlian/protocol';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { seedCounty } from '@anlian/store';
import { reservePort, startNullInflux } from '@anlian/testing';
import { startAllInOne } from './all-in-one.js';

export const FIRE_PANEL_COUNTY = 'fpcounty';
export const FIRE_PANEL_INSTITUTION = 'inst-fp';
/** The gateway whose GB/T 26875.3 adapter serves the UITD. */
export const FIRE_PANEL_GATEWAY = 'gw-fp-1';
/** The simulated UITD's address (its label's number). */
export const UITD_ADDRESS = 889;
/** The device (kind `fire`) the UITD and its panel report as. */
export const UITD_DEVICE = 'panel-1';
/** An electrical circuit on the panel: loop 2 point 1, residual current as vendor analog type 128 (mA). */
export const ELECTRICAL_DEVICE = 'elec-1';

export interface FirePanelCountyOptions {
  /** The adapter's offline grace (s); default 0: a lost link is an offline at once. */
  offlineGraceS?: number;
  /** The adapter's link timeout (s); default 30. */
  linkTimeoutS?: number;
  /** The adapter's wait for the UITD's confirm (ms) and resends; default 1000 and 1. */
  replyTimeoutMs?: number;
  retries?: number;
  /** alerting's tick (ms); default alerting's own. */
  alertTickMs?: number;
  /** Gateways besides the fire-panel one, with the same devices, that publish over MQTT themselves (a baseline). */
  directGateways?: readonly string[];
}

export interface FirePanelCounty {
  ingest: RunningIngest;
  alerting: AlertingNode;
  /** The real gateway; its `gb26875` adapter listens on 127.0.0.1:`panelPort`. */
  gateway: Gateway;
  panelPort: number;
  /** The county's broker (ingest's embedded one), where gateways log in with their id and secret. */
  mqttUrl: string;
  /** A gateway's MQTT password. */
  secretOf(gateway: string): string;
  address(gateway: string): GatewayAddress;
  /** The county's duty checks (查岗), through the embedded broker's in-process link. */
  dutyChecks: DutyCheckService;
  close(): Promise<void>;
}

/**
 * The county as `anlian up` composes it (`startAllInOne`: ingest with its embedded broker, alerting
 * on its events, duty checks through the broker's in-process link; no dashboard) with a stand-in
 * InfluxDB that takes every write, and a real gateway whose GB/T 26875.3 adapter serves UITD 889 (device
 * `panel-1`, and the electrical circuit `elec-1` at loop 2 point 1). What the fire-panel tests
 * (bin/test/fire-panel.int.test.ts) and bench:fire-panel run a simulated UITD against.
 */
export async function startFirePanelCounty(opts: FirePanelCountyOptions = {}): Promise<FirePanelCounty> {
  const teardown: (() => Promise<unknown>)[] = [];
  const close = async () => {
    // Every step runs, whatever failed before it: nothing is left listening.
    const failures: unknown[] = [];
    for (const step of teardown.splice(0).reverse()) await step().catch((err: unknown) => failures.push(err));
    if (failures.length > 0) throw new AggregateError(failures, 'fire-panel county teardown failed');
  };
  try {
    const dir = await mkdtemp(path.join(tmpdir(), 'anlian-fire-panel-'));
    teardown.push(() => rm(dir, { recursive: true, force: true }));
    const influx = await startNullInflux();
    teardown.push(() => influx.close());

    const secretOf = (gateway: string) => `secret-of-${gateway}-fire-panel`;
    const address = (gateway: string): GatewayAddress => ({
      county: FIRE_PANEL_COUNTY,
      institution: FIRE_PANEL_INSTITUTION,
      gateway,
    });
    const loc = { building: '主楼', floor: '1F', room: '消防控制室' };
    const devices = [
      { id: UITD_DEVICE, kind: 'fire' as const, name: '火灾报警控制器', location: loc },
      { id: ELECTRICAL_DEVICE, kind: 'electrical' as const, name: '配电箱 1 回路', location: loc },
    ];
    const countyFile: CountyConfigInput = {
      county: { id: FIRE_PANEL_COUNTY, name: '消防主机测试县', adcode: '500242' },
      institutions: [
        {
          id: FIRE_PANEL_INSTITUTION,
          name: '消防主机测试养老院',
          address: '测试县',
          location: { lng: 108.77, lat: 28.84 },
          beds: 80,
          contacts: [{ id: 'mgr', name: '龙丽萍', role: 'manager', phone: '13800130100' }],
          gateways: [FIRE_PANEL_GATEWAY, ...(opts.directGateways ?? [])].map((id) => ({
            id,
            secret: secretOf(id),
            devices,
          })),
        },
      ],
    };
    const file = path.join(dir, 'county.json');
    await writeFile(file, JSON.stringify(countyFile));
    await seedCounty({ file, db: { sqlitePath: path.join(dir, 'anlian.db') }, print: () => {} });

    // Held until close(): ingest's broker and the gateway's fire-panel server bind them later.
    const mqttReservation = await reservePort();
    teardown.push(async () => mqttReservation.release());
    const mqttPort = mqttReservation.port;
    const county = await startAllInOne({
      ingest: loadIngestConfig({
        ANLIAN_DATA_DIR: dir,
        ANLIAN_MQTT_HOST: '127.0.0.1',
        ANLIAN_MQTT_PORT: String(mqttPort),
        ANLIAN_HTTP_PORT: '0',
        ANLIAN_LOG_LEVEL: 'silent',
        INFLUX_URL: influx.url,
        INFLUX_SETUP: 'false',
      }),
      alerting: loadAlertingConfig(
        opts.alertTickMs === undefined ? {} : { ANLIAN_ALERT_TICK_MS: String(opts.alertTickMs) },
      ),
      logger: silentLogger(),
      metrics: createMetricsRegistry(),
    });
    teardown.push(() => county.stop());
    const { ingest, alerting, dutyChecks } = county;
    if (!dutyChecks) throw new Error('the fire-panel county runs the embedded broker: duty checks through it');

    const panelReservation = await reservePort();
    teardown.push(async () => panelReservation.release());
    const panelPort = panelReservation.port;
    const mqttUrl = `mqtt://127.0.0.1:${mqttPort}`;
    const gateway = buildGateway({
      config: resolveGatewayConfig({
        gateway: { county: FIRE_PANEL_COUNTY, institution: FIRE_PANEL_INSTITUTION, id: FIRE_PANEL_GATEWAY },
        county: { url: mqttUrl, password: secretOf(FIRE_PANEL_GATEWAY), reconnect: { initialMs: 100, maxMs: 1000 } },
        dataDir: path.join(dir, 'gateway'),
        devices: devices.map((d) => ({ id: d.id, kind: d.kind })),
        adapters: [
          {
            type: 'gb26875',
            host: '127.0.0.1',
            port: panelPort,
            uitds: [
              {
                address: UITD_ADDRESS,
                device: UITD_DEVICE,
                components: [{ loop: 2, point: 1, device: ELECTRICAL_DEVICE }],
              },
            ],
            analog: [{ type: 128, field: 'residualCurrent', scale: 1 }],
            offlineGraceS: opts.offlineGraceS ?? 0,
            linkTimeoutS: opts.linkTimeoutS ?? 30,
            replyTimeoutMs: opts.replyTimeoutMs ?? 1000,
            retries: opts.retries ?? 1,
            livenessEveryS: 0,
          },
        ],
        logLevel: 'silent',
      }),
      logger: gatewaySilentLogger(),
    });
    await gateway.start();
    teardown.push(() => gateway.stop());
    return { ingest, alerting, gateway, panelPort, mqttUrl, secretOf, address, dutyChecks, close };
  } catch (err) {
    await close().catch(() => {
      // The start-up error is the one to report; teardown failures after it are its consequences.
    });
    throw err;
  }
}

type Maybe<T> = T | undefined | false | null;

/** Polls `fn` (sync, or async: an API call) every 25 ms until it gives something truthy; rejects after `timeoutMs`. */
export async function waitFor<T>(fn: () => Maybe<T> | Promise<Maybe<T>>, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
