// bench:gateway, camera phase: the gateway watching N simulated ONVIF cameras (ffprobe + ffmpeg
// diagnosis on its own schedule, at most 2 processes) while fire alarms go off, half of them in a
// zone two cameras cover (video review: snapshots at once and 5 s later) and half where no camera
// is — the same run's baseline for the alarm itself. The county is the real one (ingest with its
// broker and media store, alerting, the dashboard) in a process of its own (county-process.ts);
// the "phone" is a socket.io client here, signed in as the institution's manager, which fetches
// each pushed picture over HTTP as the phone view does.

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SnapshotNotice } from '@anlian/dashboard';
import { deviceModeLayout, gatewayConfigFor, lanTopic, SimulatedCameraFleet } from '@anlian/device-simulators';
import { type CountyConfigInput, CountyConfig as CountySchema } from '@anlian/protocol';
import { seedCounty } from '@anlian/store';
import { freePort } from '@anlian/testing';
import mqtt from 'mqtt';
import { io as connect } from 'socket.io-client';
import { percentiles } from '../dashboard/latency-stats.js';
import { IpcChild } from '../ingest/ipc-child.js';
import type { CountyCommand, CountyReport } from './county-messages.js';
import { gatewayDescription, spawnGateway } from './gateway-process.js';
import { GatewayTreeSampler, type TreeUsage } from './gateway-tree-sampler.js';

export interface CameraPhaseOptions {
  dir: string;
  cameras: number;
  seconds: number;
  diagnoseEveryS: number;
  width: number;
  height: number;
  alarms: number;
  /** Teardown steps, run by the bench at the end (also on Ctrl-C). */
  cleanups: (() => Promise<unknown> | unknown)[];
  log: (line: string) => void;
}

type Stats = ReturnType<typeof percentiles>;

export interface CameraPhaseResult {
  cameras: number;
  seconds: number;
  diagnoseEveryS: number;
  picture: string;
  gatewayNodeFlags: string[];
  diagnoses: {
    total: number;
    /** Per camera, the longest wait from the phase start or a diagnosis to the next one, s. */
    maxGapS: number;
    /** Cameras diagnosed at least twice in the window (a gap measured between two diagnoses). */
    camerasTwice: number;
    /** Cameras never diagnosed in the window. */
    never: string[];
    problemEvents: number;
  };
  ffmpeg: { maxConcurrent: number; samples: number };
  gateway: TreeUsage;
  alarms: {
    covered: number;
    uncovered: number;
    /** Fire event (LAN publish) → the event at the county (ingest), ms: the gateway's part. */
    ingestCovered: Stats;
    ingestUncovered: Stats;
    /** Fire event (LAN publish) → alert on the phone's socket, ms. */
    alertCovered: Stats;
    alertUncovered: Stats;
    /** Fire event → the first snapshot fetched by the phone, and every covering camera's first, ms. */
    firstSnapshot: Stats;
    allFirstSnapshots: Stats;
    snapshotsExpected: number;
    snapshotsReceived: number;
    /** Each alarm's way, ms after the LAN publish: at ingest, raised by alerting, on the phone, first picture. */
    each: { detector: string; covered: boolean; ingest?: number; raised?: number; phone?: number; snapshot?: number }[];
  };
}

const COUNTY = 'bench';
const INSTITUTION = 'inst-bench';
const GATEWAY = 'gw-bench';
const SECRET = 'bench-camera-gateway-secret';
/** Two cameras cover the lobby: the lobby's own and the 1F corridor's (its whole floor). */
const COVERING = ['cam-00', 'cam-01'];
const cameraId = (i: number) => `cam-${String(i).padStart(2, '0')}`;

function benchCounty(cameras: number, alarms: number): CountyConfigInput {
  const at = (building: string, floor: string, room: string) => ({ building, floor, room });
  const devices: NonNullable<CountyConfigInput['institutions'][number]['gateways'][number]['devices']> = [];
  for (let i = 0; i < cameras; i++) {
    const id = cameraId(i);
    if (i === 0) devices.push({ id, kind: 'camera', name: '主楼1F 大厅 摄像机', location: at('主楼', '1F', '大厅') });
    else if (i === 1)
      devices.push({
        id,
        kind: 'camera',
        name: '主楼1F 走廊 摄像机',
        location: at('主楼', '1F', '走廊'),
        covers: [{ building: '主楼', floor: '1F' }],
      });
    else devices.push({ id, kind: 'camera', name: `附楼${i}F 走廊 摄像机`, location: at('附楼', `${i}F`, '走廊') });
  }
  for (let k = 0; k < alarms; k++) {
    devices.push({ id: `smk-lobby-${k}`, kind: 'fire', name: `大厅 感烟 ${k}`, location: at('主楼', '1F', '大厅') });
    devices.push({ id: `smk-store-${k}`, kind: 'fire', name: `库房 感烟 ${k}`, location: at('仓库', '1F', '库房') });
  }
  return {
    county: { id: COUNTY, name: '基准县', adcode: '500242' },
    institutions: [
      {
        id: INSTITUTION,
        name: '基准敬老院',
        address: '基准县',
        location: { lng: 108.77, lat: 28.84 },
        beds: 100,
        gateways: [{ id: GATEWAY, secret: SECRET, devices }],
      },
    ],
  };
}

interface Alarm {
  detector: string;
  covered: boolean;
  t0: number;
  /** When ingest had the fire event (the gateway's part of the way). */
  ingestAt?: number;
  /** When alerting raised the alert. */
  raisedAt?: number;
  alertAt?: number;
  firstSnapshotAt?: number;
  /** Covering cameras whose first shot the phone has fetched. */
  firstShots: Set<string>;
  allFirstAt?: number;
  snapshots: number;
}

export async function runCameraPhase(o: CameraPhaseOptions): Promise<CameraPhaseResult> {
  await mkdir(o.dir, { recursive: true });
  o.log(
    `\nbench:gateway, cameras — ${o.cameras} simulated ONVIF cameras (${o.width}×${o.height}, GStreamer RTSP), diagnosis every ${o.diagnoseEveryS} s, ${o.seconds} s, ${o.alarms} fire alarms; gateway: ${gatewayDescription()}\n`,
  );

  // The cameras: ONVIF + RTSP, as on an institution's LAN.
  const fleet = new SimulatedCameraFleet({
    cameras: Array.from({ length: o.cameras }, (_, i) => ({ id: cameraId(i) })),
    picture: {
      width: o.width,
      height: o.height,
      fps: 15,
      bitrateKbps: Math.round((512 * o.width * o.height) / (640 * 360)),
    },
  });
  await fleet.start();
  o.cleanups.push(() => fleet.stop());
  const alarms: Alarm[] = [];

  // The county.
  const countyInput = benchCounty(o.cameras, Math.ceil(o.alarms / 2));
  const countyFile = path.join(o.dir, 'county.json');
  await writeFile(countyFile, JSON.stringify(countyInput));
  const countyDir = path.join(o.dir, 'county');
  await mkdir(countyDir, { recursive: true });
  await seedCounty({ file: countyFile, db: { sqlitePath: path.join(countyDir, 'anlian.db') }, print: () => {} });
  const mqttPort = await freePort();
  const county = new IpcChild<CountyCommand, CountyReport>(
    'county',
    new URL('./county-process.js', import.meta.url),
    [],
    {
      ...process.env,
      BENCH_COUNTY: COUNTY,
      BENCH_INSTITUTION: INSTITUTION,
      BENCH_GATEWAY: GATEWAY,
      BENCH_COUNTY_DIR: countyDir,
      BENCH_MQTT_PORT: String(mqttPort),
    },
  );
  o.cleanups.push(() => county.stop({ type: 'exit' }));
  const diagnosed = new Map<string, number[]>();
  let problemEvents = 0;
  county.on((r) => {
    if (r.type === 'diagnosed') {
      const list = diagnosed.get(r.camera) ?? [];
      list.push(r.at);
      diagnosed.set(r.camera, list);
    } else if (r.type === 'camera-event') problemEvents++;
    else if (r.type === 'fire') {
      const a = alarms.find((x) => x.detector === r.detector);
      if (a && a.ingestAt === undefined) a.ingestAt = r.at;
    } else if (r.type === 'raised') {
      const a = alarms.find((x) => x.detector === r.detector);
      if (a && a.raisedAt === undefined) a.raisedAt = r.at;
    }
  });
  const { base, cookie } = await county.next('ready', 60_000);

  // The gateway, configured as `anlian sim --device-mode --print-gateway-config` prints it.
  const lanPort = await freePort();
  const layout = deviceModeLayout(CountySchema.parse(countyInput), GATEWAY, false);
  const file = gatewayConfigFor(layout, {
    countyUrl: `mqtt://127.0.0.1:${mqttPort}`,
    lanPort,
    cameras: {
      url: (device) => fleet.camera(device).deviceServiceUrl,
      username: 'admin',
      password: 'anlian-camera-demo',
    },
    dataDir: path.join(o.dir, 'gateway-data'),
  });
  const adapters = (file.adapters as Record<string, unknown>[]).map((a) =>
    a.type === 'camera' ? { ...a, diagnoseEveryS: o.diagnoseEveryS } : a,
  );
  const configFile = path.join(o.dir, 'gateway.json');
  await writeFile(
    configFile,
    JSON.stringify({ ...file, adapters, logLevel: process.env.BENCH_GATEWAY_LOG_LEVEL ?? 'warn' }),
  );
  const gw = await spawnGateway(configFile);
  o.cleanups.push(() => gw.kill());
  // The phase starts with the gateway: its first diagnoses are due at once.
  const phaseStart = Date.now();
  const sampler = new GatewayTreeSampler(gw.pid);
  sampler.start(200);

  // The phone: the manager's live feed, each pushed picture fetched as the phone view does.
  const phone = connect(base, { transports: ['websocket'], extraHeaders: { cookie } });
  o.cleanups.push(() => phone.disconnect());
  await new Promise<void>((resolve, reject) => {
    phone.once('connect', () => resolve());
    phone.once('connect_error', reject);
  });
  const answer = (await phone.timeout(10_000).emitWithAck('subscribe', { room: `institution:${INSTITUTION}` })) as {
    ok: boolean;
  };
  if (!answer.ok) throw new Error('the phone could not subscribe to its institution');
  phone.on('delta', (d: { type: string; data: unknown }) => {
    const now = Date.now();
    if (d.type === 'alert') {
      const { change, alert } = d.data as { change: string; alert: { device?: string } };
      const a = alarms.find((x) => x.detector === alert.device);
      if (a && change === 'raised' && a.alertAt === undefined) a.alertAt = now;
    } else if (d.type === 'snapshot') {
      const n = d.data as SnapshotNotice;
      const a = alarms.find((x) => x.detector === n.detector);
      if (!a) return;
      a.snapshots++;
      void fetch(`${base}${n.url}`, { headers: { cookie } }).then(async (res) => {
        const body = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200 || body[0] !== 0xff || body[1] !== 0xd8) return;
        const at = Date.now();
        a.firstSnapshotAt ??= at;
        if (n.shot === 0) {
          a.firstShots.add(n.camera);
          if (COVERING.every((c) => a.firstShots.has(c))) a.allFirstAt ??= at;
        }
      });
    }
  });

  const lan = await connectWhenUp(`mqtt://127.0.0.1:${lanPort}`);
  o.cleanups.push(() => lan.endAsync());
  const until = phaseStart + o.seconds * 1000;
  const alarmEveryMs = (o.seconds * 1000) / (o.alarms + 1);
  let coveredNext = 0;
  let uncoveredNext = 0;
  for (let i = 0; i < o.alarms; i++) {
    await sleepUntil(phaseStart + (i + 1) * alarmEveryMs);
    const covered = i % 2 === 0;
    const detector = covered ? `smk-lobby-${coveredNext++}` : `smk-store-${uncoveredNext++}`;
    const alarm: Alarm = { detector, covered, t0: Date.now(), firstShots: new Set(), snapshots: 0 };
    alarms.push(alarm);
    await lan.publishAsync(lanTopic(detector, 'event'), JSON.stringify({ ts: alarm.t0, event: 'fire' }), { qos: 1 });
    o.log(
      `  ${new Date().toISOString().slice(11, 19)}  fire alarm ${detector} (${covered ? 'two cameras cover it' : 'no camera'})\n`,
    );
  }
  await sleepUntil(until);
  const usage = sampler.stop();
  await gw.stop();
  await county.stop({ type: 'exit' });

  // Every camera's waits: from the phase start to its first diagnosis, then between diagnoses.
  let maxGapS = 0;
  let camerasTwice = 0;
  const never: string[] = [];
  let total = 0;
  for (let i = 0; i < o.cameras; i++) {
    const times = (diagnosed.get(cameraId(i)) ?? []).filter((t) => t <= until);
    total += times.length;
    if (times.length === 0) {
      never.push(cameraId(i));
      continue;
    }
    if (times.length >= 2) camerasTwice++;
    let prev = phaseStart;
    for (const t of times) {
      maxGapS = Math.max(maxGapS, (t - prev) / 1000);
      prev = t;
    }
  }
  const covered = alarms.filter((a) => a.covered);
  const uncovered = alarms.filter((a) => !a.covered);
  const ms = (list: Alarm[], pick: (a: Alarm) => number | undefined) =>
    percentiles(list.map((a) => (pick(a) === undefined ? Number.POSITIVE_INFINITY : (pick(a) as number) - a.t0)));
  return {
    cameras: o.cameras,
    seconds: o.seconds,
    diagnoseEveryS: o.diagnoseEveryS,
    picture: `${o.width}x${o.height} H.264 15 fps`,
    gatewayNodeFlags: gw.nodeFlags,
    diagnoses: { total, maxGapS, camerasTwice, never, problemEvents },
    ffmpeg: { maxConcurrent: usage.maxChildren, samples: usage.samples },
    gateway: usage,
    alarms: {
      covered: covered.length,
      uncovered: uncovered.length,
      ingestCovered: ms(covered, (a) => a.ingestAt),
      ingestUncovered: ms(uncovered, (a) => a.ingestAt),
      alertCovered: ms(covered, (a) => a.alertAt),
      alertUncovered: ms(uncovered, (a) => a.alertAt),
      firstSnapshot: ms(covered, (a) => a.firstSnapshotAt),
      allFirstSnapshots: ms(covered, (a) => a.allFirstAt),
      // review.delaysMs [0, 5000]: two shots from each covering camera.
      snapshotsExpected: covered.length * COVERING.length * 2,
      snapshotsReceived: covered.reduce((n, a) => n + a.snapshots, 0),
      each: alarms.map((a) => {
        const after = (t: number | undefined) => (t === undefined ? undefined : t - a.t0);
        return {
          detector: a.detector,
          covered: a.covered,
          ingest: after(a.ingestAt),
          raised: after(a.raisedAt),
          phone: after(a.alertAt),
          snapshot: after(a.firstSnapshotAt),
        };
      }),
    },
  };
}

export function printCameraPhase(r: CameraPhaseResult, log: (line: string) => void): void {
  const ok = (pass: boolean) => (pass ? 'ok' : 'MISSED');
  const f = (n: number, digits = 0) =>
    Number.isFinite(n)
      ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
      : '∞';
  const lat = (s: Stats) => `p50 ${f(s.p50)} ms, max ${f(s.max)} ms (n ${s.n})`;
  const everyOk = r.diagnoses.never.length === 0 && r.diagnoses.maxGapS <= r.diagnoseEveryS;
  const a = r.alarms;
  log(
    [
      '',
      `  figure (${r.cameras} cameras, ${r.picture}, ${r.seconds} s)      gateway                  target / baseline`,
      `  longest wait for a diagnosis        ${f(r.diagnoses.maxGapS, 1).padStart(8)} s            ≤ ${r.diagnoseEveryS} s for every camera  ${ok(everyOk)}` +
        `  (${r.diagnoses.total} diagnoses; ${r.diagnoses.camerasTwice}/${r.cameras} cameras twice${r.diagnoses.never.length ? `; never: ${r.diagnoses.never.join(', ')}` : ''})`,
      `  ffmpeg/ffprobe at once (max)        ${f(r.ffmpeg.maxConcurrent).padStart(8)}              ≤ 2  ${ok(r.ffmpeg.maxConcurrent <= 2)}  (sampled every 200 ms)`,
      `  gateway RSS (max)                   ${f(r.gateway.maxRssMb, 1).padStart(8)} MB           ≤ 100  ${ok(r.gateway.maxRssMb <= 100)}`,
      `  CPU, gateway + ffmpeg (mean)        ${f(r.gateway.cpuPercent, 1).padStart(8)} %            ≤ 30 % of one core  ${ok(r.gateway.cpuPercent <= 30)}` +
        `  (gateway ${f(r.gateway.ownCpuPercent, 1)} %, its children ${f(r.gateway.childrenCpuPercent, 1)} %)`,
      `  fire event → at the county (ingest) with video review: ${lat(a.ingestCovered)}; without (baseline): ${lat(a.ingestUncovered)}`,
      `  fire event → alert on the phone     with video review: ${lat(a.alertCovered)}; without (baseline): ${lat(a.alertUncovered)}`,
      `  fire event → first snapshot seen    ${lat(a.firstSnapshot)}; target ≤ 5,000 ms  ${ok(a.firstSnapshot.max <= 5000)}`,
      `  fire event → both cameras' first    ${lat(a.allFirstSnapshots)}  (snapshots ${a.snapshotsReceived}/${a.snapshotsExpected})`,
      `  camera problem events               ${r.diagnoses.problemEvents} (healthy cameras: 0 expected)`,
      '',
    ].join('\n'),
  );
}

async function connectWhenUp(url: string): Promise<mqtt.MqttClient> {
  const until = Date.now() + 15_000;
  for (;;) {
    try {
      return await mqtt.connectAsync(url, { clientId: 'bench-detectors', reconnectPeriod: 0, connectTimeout: 2000 });
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));
