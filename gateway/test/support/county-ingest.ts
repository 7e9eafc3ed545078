import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type IngestEvent, loadIngestConfig, type RunningIngest, startIngest } from '@anlian/ingest';
import type { CountyConfigInput, DeviceKind } from '@anlian/protocol';
import { createMetricsRegistry, silentLogger } from '@anlian/runtime';
import { seedCounty } from '@anlian/store';
import { reservePort } from '@anlian/testing';

export const COUNTY = 'testcounty';
export const INSTITUTION = 'inst-gw';
export const GATEWAY = 'gw-edge-1';
export const SECRET = 'secret-of-the-edge-gateway';

export interface TestDevice {
  id: string;
  kind: DeviceKind;
}

/** `n` devices: fire detectors, with every tenth a kitchen sensor and every seventh an extinguisher gauge. */
export function testDevices(n: number): TestDevice[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `dev-${String(i).padStart(3, '0')}`,
    kind: i % 10 === 9 ? 'kitchen' : i % 7 === 6 ? 'extinguisher' : 'fire',
  }));
}

export interface CountyIngest {
  port: number;
  url: string;
  /** `mqtts://127.0.0.1:PORT` when started with `tls`. */
  tlsUrl: string | undefined;
  dataDir: string;
  ingest: RunningIngest;
  /** Every message ingest accepted (after its duplicate check), in arrival order. */
  received: IngestEvent[];
  /** Device messages only, by device id. */
  byDevice(): Map<string, IngestEvent[]>;
  duplicatesDropped(): Promise<number>;
  /** Stops ingest and its broker (the county broker goes away), keeping its data. */
  stopBroker(): Promise<void>;
  /** Starts it again on the same port. */
  startBroker(): Promise<void>;
  close(): Promise<void>;
}

/** A stand-in InfluxDB that accepts every write: these tests look at what ingest accepted, not at storage. */
async function startNullInflux(): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(204);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/**
 * The real county ingest (embedded aedes with authentication and topic ACL, validation,
 * duplicate window, spool) with a seeded registry holding one gateway and its devices.
 */
export async function startCountyIngest(
  devices: readonly TestDevice[],
  opts: { tls?: { certFile: string; keyFile: string } } = {},
): Promise<CountyIngest> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'anlian-gw-county-'));
  const influx = await startNullInflux();
  const loc = { building: '主楼', floor: '1F', room: '101' };
  const county: CountyConfigInput = {
    county: { id: COUNTY, name: '测试县', adcode: '500242' },
    institutions: [
      {
        id: INSTITUTION,
        name: '测试敬老院',
        address: '测试县',
        location: { lng: 108.77, lat: 28.84 },
        beds: 100,
        gateways: [
          {
            id: GATEWAY,
            secret: SECRET,
            devices: devices.map((d) => ({ id: d.id, kind: d.kind, name: d.id, location: loc })),
          },
        ],
      },
    ],
  };
  const countyFile = path.join(dataDir, 'county.json');
  await writeFile(countyFile, JSON.stringify(county));
  await seedCounty({ file: countyFile, db: { sqlitePath: path.join(dataDir, 'anlian.db') }, print: () => {} });
  // Held until close(): the broker stops and starts again on these ports.
  const reservation = await reservePort();
  const tlsReservation = opts.tls ? await reservePort() : undefined;
  const { port } = reservation;
  const tlsPort = tlsReservation?.port;
  const env: NodeJS.ProcessEnv = {
    // The embedded broker's mqtts listener, configured as an operator would (ingest's environment).
    ...(opts.tls && tlsPort !== undefined
      ? {
          ANLIAN_MQTT_TLS_PORT: String(tlsPort),
          ANLIAN_MQTT_TLS_CERT: opts.tls.certFile,
          ANLIAN_MQTT_TLS_KEY: opts.tls.keyFile,
        }
      : {}),
    ANLIAN_DATA_DIR: dataDir,
    ANLIAN_MQTT_HOST: '127.0.0.1',
    ANLIAN_MQTT_PORT: String(port),
    ANLIAN_HTTP_PORT: '0',
    ANLIAN_LOG_LEVEL: 'silent',
    INFLUX_URL: influx.url,
    INFLUX_SETUP: 'false',
    INFLUX_FLUSH_INTERVAL_MS: '100',
  };
  const received: IngestEvent[] = [];
  let metrics = createMetricsRegistry();
  const start = async () => {
    metrics = createMetricsRegistry();
    const running = await startIngest(loadIngestConfig(env), silentLogger(), metrics);
    running.service.pipeline.onEvent((e) => received.push(e));
    return running;
  };
  let ingest: RunningIngest | undefined = await start();
  const h: CountyIngest = {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    tlsUrl: tlsPort === undefined ? undefined : `mqtts://127.0.0.1:${tlsPort}`,
    dataDir,
    get ingest() {
      if (!ingest) throw new Error('ingest is stopped');
      return ingest;
    },
    received,
    byDevice() {
      const m = new Map<string, IngestEvent[]>();
      for (const e of received) {
        if (e.type !== 'telemetry' && e.type !== 'event') continue;
        const list = m.get(e.device) ?? [];
        list.push(e);
        m.set(e.device, list);
      }
      return m;
    },
    async duplicatesDropped() {
      const metric = await metrics.getSingleMetric('anlian_ingest_duplicates_total')?.get();
      return Number(metric?.values[0]?.value ?? 0);
    },
    async stopBroker() {
      await ingest?.stop();
      ingest = undefined;
    },
    async startBroker() {
      ingest = await start();
    },
    async close() {
      await ingest?.stop();
      ingest = undefined;
      await new Promise<void>((resolve) => influx.server.close(() => resolve()));
      reservation.release();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return h;
}
