import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CameraAdapter,
  CameraAdapterConfig,
  type DeviceEntry,
  type DeviceReading,
  type SubmitOutcome,
  silentLogger,
  systemClock,
} from '@anlian/gateway';
import { CameraTelemetry, EventPayload, SnapshotPayload } from '@anlian/protocol';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { CameraSimFault } from '../src/camera/camera-picture.js';
import { DEFAULT_CAMERA_PASSWORD, SimulatedCameraFleet } from '../src/camera/simulated-camera-fleet.js';

// The gateway's camera adapter against simulated cameras, through public protocols only: ONVIF
// SOAP over HTTP with WS-Security, RTSP from Debian's GStreamer RTSP server, Debian's ffmpeg and
// ffprobe. One camera per fault mode.
const FAULTS: Record<string, CameraSimFault> = {
  'cam-ok': 'none',
  'cam-frozen': 'frozen',
  'cam-black': 'black',
  'cam-dark': 'dark',
  'cam-bright': 'bright',
  'cam-blurred': 'blurred',
  'cam-occluded': 'occluded',
  'cam-offline': 'offline',
  'cam-wrongpw': 'wrong-password',
  'cam-down': 'stream-down',
  'cam-stall': 'stream-stall',
  'cam-malformed': 'malformed-soap',
};

let fleet: SimulatedCameraFleet;
beforeAll(async () => {
  fleet = new SimulatedCameraFleet({
    cameras: Object.entries(FAULTS).map(([id, fault]) => ({ id, fault, clockOffsetMs: id === 'cam-ok' ? 90_000 : 0 })),
  });
  await fleet.start();
});
afterAll(async () => {
  await fleet?.stop();
});

function recordingSink() {
  const readings: DeviceReading[] = [];
  return {
    readings,
    sink: {
      submit(r: DeviceReading): SubmitOutcome {
        readings.push(r);
        return { ok: true, queued: true, durable: Promise.resolve() };
      },
    },
    telemetry: (device: string) =>
      readings.filter((r) => r.device === device && r.message === 'telemetry').map((r) => r.fields),
    events: (device: string) =>
      readings.filter((r) => r.device === device && r.message === 'event').map((r) => r.fields.event),
  };
}

function adapterFor(
  ids: string[],
  rec: ReturnType<typeof recordingSink>,
  extra: Record<string, unknown> = {},
  stateDir?: string,
) {
  const config = CameraAdapterConfig.parse({
    type: 'camera',
    cameras: ids.map((id) => ({
      device: id,
      url: fleet.camera(id).deviceServiceUrl,
      username: 'admin',
      password: DEFAULT_CAMERA_PASSWORD,
      covers: id === 'cam-ok' ? ['主楼 3F'] : id === 'cam-blurred' ? ['主楼 3F 东走廊'] : ['附楼 1F'],
    })),
    keepaliveS: 3600,
    diagnoseEveryS: 3600,
    sampleS: 3,
    onvifTimeoutMs: 2000,
    streamTimeoutMs: 3000,
    ...extra,
  });
  const devices = new Map<string, DeviceEntry>(ids.map((id) => [id, { id, kind: 'camera' }]));
  return new CameraAdapter(config, {
    sink: rec.sink,
    clock: systemClock,
    logger: silentLogger(),
    devices,
    ...(stateDir ? { stateDir } : {}),
  });
}

const contract = (fields: Record<string, unknown>) =>
  CameraTelemetry.safeParse({ v: 1, ts: Date.now(), seq: 0, kind: 'camera', ...fields });

async function waitFor(fn: () => boolean, timeoutMs = 90_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('camera adapter against simulated ONVIF cameras', () => {
  it('diagnoses every fault mode with real ffmpeg and ONVIF SOAP, 2 ffmpeg processes at most', async () => {
    const rec = recordingSink();
    const ids = Object.keys(FAULTS);
    const adapter = adapterFor(ids, rec);
    await adapter.start();
    try {
      // Every camera diagnosed once by the adapter's own schedule, in turn.
      await waitFor(() => adapter.counts().diagnoses >= ids.length);
      // GB/T 28181: offline after 3 missed keepalives.
      for (let i = 0; i < 3; i++) await adapter.keepaliveOnce();
      expect(adapter.counts().peakProcesses).toBeLessThanOrEqual(2);
      expect(adapter.counts().peakProcesses).toBe(2);

      const last = (id: string) => rec.telemetry(id).at(-1) ?? {};
      for (const id of ids) {
        for (const t of rec.telemetry(id)) expect(contract(t).error, `${id} telemetry`).toBeUndefined();
        for (const e of rec.readings.filter((r) => r.device === id && r.message === 'event')) {
          expect(
            EventPayload.safeParse({ v: 1, ts: Date.now(), seq: 0, kind: 'camera', ...e.fields }).error,
          ).toBeUndefined();
        }
      }

      const ok = last('cam-ok');
      expect(ok).toMatchObject({ online: true, streamOk: true, codec: 'h264', width: 640, height: 360 });
      expect(ok.fps).toBeGreaterThan(12);
      expect(ok.fps).toBeLessThan(18);
      expect(ok.bitrateKbps).toBeGreaterThan(50);
      expect(ok).toMatchObject({
        black: false,
        frozen: false,
        dark: false,
        bright: false,
        blurred: false,
        occluded: false,
      });
      // The simulated camera's clock runs 90 s ahead (GetSystemDateAndTime has whole seconds).
      expect(Math.abs((ok.clockDriftMs as number) - 90_000)).toBeLessThanOrEqual(1500);
      expect(rec.events('cam-ok')).toEqual([]);

      expect(last('cam-frozen')).toMatchObject({ streamOk: true, frozen: true, black: false });
      expect(rec.events('cam-frozen')).toEqual(['frozen']);
      expect(last('cam-black')).toMatchObject({ streamOk: true, black: true });
      expect(rec.events('cam-black')).toEqual(['black']);
      expect(last('cam-dark')).toMatchObject({ dark: true, black: false });
      expect(rec.events('cam-dark')).toEqual(['too_dark']);
      expect(last('cam-bright')).toMatchObject({ bright: true });
      expect(rec.events('cam-bright')).toEqual(['too_bright']);
      expect(last('cam-blurred')).toMatchObject({ blurred: true, occluded: false });
      expect(rec.events('cam-blurred')).toEqual(['blurred']);
      expect(last('cam-occluded')).toMatchObject({ occluded: true, black: false });
      expect(rec.events('cam-occluded')).toEqual(['occlusion']);

      expect(last('cam-offline')).toMatchObject({ online: false, streamOk: false, fault: 'unreachable' });
      expect(rec.events('cam-offline')).toEqual(['signal_loss']);

      // Wrong password: an auth fault, asked once (no account lock-out), and the others went on.
      expect(last('cam-wrongpw')).toMatchObject({ online: true, streamOk: false, fault: 'auth' });
      expect(rec.events('cam-wrongpw')).toEqual(['fault']);
      expect(fleet.camera('cam-wrongpw').stats().authFailures).toBe(1);

      expect(last('cam-down')).toMatchObject({ online: true, streamOk: false, fault: 'stream_down' });
      expect(rec.events('cam-down')).toEqual(['signal_loss']);
      // A stream that never starts: a clear error within the time limit, the process killed.
      expect(last('cam-stall')).toMatchObject({ streamOk: false, fault: 'stream_timeout' });
      const stall = rec.readings.find((r) => r.device === 'cam-stall' && r.message === 'event');
      expect(stall?.fields.detail).toMatch(/did not start within 3000 ms/);
      // A malformed SOAP answer: a clear error, no crash.
      expect(last('cam-malformed')).toMatchObject({ fault: 'bad_response' });
      const malformed = rec.readings.find((r) => r.device === 'cam-malformed' && r.message === 'event');
      expect(malformed?.fields).toMatchObject({ event: 'fault' });
      expect(malformed?.fields.detail).toMatch(/not an ONVIF answer/);

      // No password in anything the adapter produced.
      expect(JSON.stringify(rec.readings)).not.toContain(DEFAULT_CAMERA_PASSWORD);
      expect(adapter.health().ok).toBe(false);
    } finally {
      await adapter.stop();
    }
  });

  it('a camera that recovers sends restore; a fire alarm in its zone brings snapshots of the cameras covering it', async () => {
    const rec = recordingSink();
    await fleet.setFault('cam-frozen', 'frozen');
    const adapter = adapterFor(['cam-ok', 'cam-blurred', 'cam-frozen'], rec, {
      review: { delaysMs: [0, 1000] },
    });
    await adapter.start();
    try {
      await waitFor(() => adapter.counts().diagnoses >= 3);
      expect(rec.events('cam-frozen')).toEqual(['frozen']);
      await fleet.setFault('cam-frozen', 'none');
      await adapter.diagnoseNow('cam-frozen');
      expect(rec.events('cam-frozen')).toEqual(['frozen', 'restore']);

      const alarmAt = Date.now();
      let ack = () => {};
      const acknowledged = new Promise<void>((resolve) => {
        ack = resolve;
      });
      adapter.onFireAlarm({ device: 'smoke-3f-1', zone: '主楼 3F 东走廊', ts: alarmAt, seq: 7, acknowledged });
      // Taken at once, held until the county has the alarm (review.holdForAlarmAckMs, 3 s by default).
      await new Promise((r) => setTimeout(r, 1500));
      expect(rec.readings.filter((r) => r.message === 'snapshot')).toEqual([]);
      expect(fleet.camera('cam-ok').stats().snapshots).toBeGreaterThan(0);
      ack();
      await waitFor(() => adapter.counts().snapshotsSent + adapter.counts().snapshotsFailed >= 4, 30_000);
      expect(adapter.counts().snapshotsFailed).toBe(0);
      const shots = rec.readings.filter((r) => r.message === 'snapshot');
      expect(shots.map((s) => `${s.device}#${s.fields.shot}`).sort()).toEqual([
        'cam-blurred#0',
        'cam-blurred#1',
        'cam-ok#0',
        'cam-ok#1',
      ]);
      for (const s of shots) {
        const parsed = SnapshotPayload.parse({ v: 1, ts: Date.now(), seq: 0, kind: 'camera', ...s.fields });
        expect(parsed.cause).toEqual({ device: 'smoke-3f-1', ts: alarmAt, zone: '主楼 3F 东走廊' });
        const jpeg = Buffer.from(parsed.data, 'base64');
        expect(jpeg.subarray(0, 2).toString('hex')).toBe('ffd8');
        expect(parsed.width).toBe(640);
      }
      // The camera in another zone took none.
      expect(fleet.camera('cam-frozen').stats().snapshots).toBe(0);
    } finally {
      await adapter.stop();
    }
  });

  it('keeps each camera’s reference picture across a restart: a lens covered while the gateway was down is still found', async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), 'anlian-cam-state-'));
    onTestFinished(() => rm(stateDir, { recursive: true, force: true }));
    // Occlusion against the camera's own reference only (the absolute floor is 1 bit): a picture
    // that lost more than a tenth of its detail counts as covered.
    const strict = { occlusionEntropyRatio: 0.9 };
    await fleet.setFault('cam-ok', 'none');
    const first = adapterFor(['cam-ok'], recordingSink(), { thresholds: strict }, stateDir);
    await first.start();
    let reference: number | undefined;
    try {
      await first.diagnoseNow('cam-ok');
      reference = first.referenceEntropy('cam-ok');
      expect(reference).toBeGreaterThan(3);
    } finally {
      await first.stop();
    }
    const saved = JSON.parse(await readFile(path.join(stateDir, 'cameras.json'), 'utf8'));
    expect(saved.cameras['cam-ok']).toMatchObject({ entropy: reference, url: fleet.camera('cam-ok').deviceServiceUrl });

    // While the gateway was down, the picture lost most of its contrast (the sim's `bright` look).
    await fleet.setFault('cam-ok', 'bright');
    try {
      const rec = recordingSink();
      const restarted = adapterFor(['cam-ok'], rec, { thresholds: strict }, stateDir);
      await restarted.start();
      try {
        await restarted.diagnoseNow('cam-ok');
        expect(restarted.referenceEntropy('cam-ok')).toBe(reference);
        expect(rec.telemetry('cam-ok').at(-1)).toMatchObject({ occluded: true });
        expect(rec.events('cam-ok')).toEqual(['occlusion']);
      } finally {
        await restarted.stop();
      }
      // A gateway without the kept reference would have taken this picture as the camera's normal.
      const fresh = recordingSink();
      const amnesiac = adapterFor(['cam-ok'], fresh, { thresholds: strict });
      await amnesiac.start();
      try {
        await amnesiac.diagnoseNow('cam-ok');
        expect(fresh.telemetry('cam-ok').at(-1)).toMatchObject({ occluded: false, bright: true });
      } finally {
        await amnesiac.stop();
      }
    } finally {
      await fleet.setFault('cam-ok', 'none');
    }
  });
});
