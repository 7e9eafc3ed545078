import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MAX_SNAPSHOT_IMAGE_BYTES } from '@anlian/protocol';
import type { Logger } from 'pino';
import type { CameraAdapterConfig, CameraEntry } from '../../config/camera-adapter-config.js';
import type { AdapterDeps, DeviceAdapter, FireAlarmNotice } from '../device-adapter.js';
import { CameraError, CameraFault, redactUrl } from './camera-error.js';
import { CameraReferences } from './camera-references.js';
import { fetchSnapshot, grabFrame, type Jpeg, jpegSize, shrinkJpeg } from './camera-snapshot.js';
import { type CameraDescription, OnvifClient } from './onvif-client.js';
import { ProcessSlots } from './process-slots.js';
import { withCredentials } from './rtsp-url.js';
import { probeStream, type StreamProbe } from './stream-probe.js';
import { judgePicture, measurePicture, type PictureMeasures, type PictureVerdict } from './video-diagnosis.js';
import { type DiscoveredDevice, probe } from './ws-discovery.js';

/** What one camera looks like to the adapter now. */
interface CameraState {
  entry: CameraEntry;
  password: string;
  /** Its ONVIF device service now: the configured `url`, or where WS-Discovery found its `endpoint`. */
  url: string | undefined;
  /** Undefined while the camera's address is not known (an `endpoint` not found yet). */
  client: OnvifClient | undefined;
  description: CameraDescription | undefined;
  /** Keepalives missed in a row. */
  misses: number;
  keepalives: number;
  driftMs: number | undefined;
  /** The last failure talking to it or reading its stream; cleared by success. */
  fault: CameraError | undefined;
  /** No authenticated request before this (the camera refused the credentials). */
  authBlockedUntil: number;
  probe: StreamProbe | undefined;
  measures: PictureMeasures | undefined;
  verdict: PictureVerdict | undefined;
  /** Entropy of its first healthy picture: occlusion is judged against it (kept across restarts). */
  referenceEntropy: number | undefined;
  lastDiagnosedAt: number;
  lastFrameTs: number | undefined;
  diagnoses: number;
  /** The problem last reported as an event (`undefined`: healthy). */
  reported: string | undefined;
  /** The diagnosis under way, abortable for a fire alarm's video review. */
  running: AbortController | undefined;
}

type Problem = { event: string; detail: string } | undefined;

/** Counters for tests and the bench. */
export interface CameraAdapterCounts {
  diagnoses: number;
  keepalives: number;
  snapshotsSent: number;
  snapshotsFailed: number;
  peakProcesses: number;
  /** WS-Discovery probes answered (or timed out without answers). */
  discoveries: number;
}

/**
 * IP cameras over ONVIF (the maintained `onvif` package) and Debian's ffmpeg/ffprobe:
 *
 * - **Keepalive** every `keepaliveS` (GB/T 28181: 60 s): GetSystemDateAndTime (clock drift);
 *   offline after `offlineAfterMisses` (3) misses. Each keepalive sends the camera's telemetry.
 * - **Diagnosis** of every camera at least every `diagnoseEveryS`, in turn, with at most
 *   `maxFfmpeg` ffmpeg/ffprobe processes at a time: ONVIF description (device information,
 *   profiles, stream and snapshot URIs) when not known yet, an ffprobe of the stream (codec,
 *   resolution, fps, bitrate) and `sampleS` seconds through ffmpeg's filters (black, frozen,
 *   dark, bright, blurred, occluded). A change of the camera's problem is an event.
 * - **Video review** (视频复核): on a fire alarm, snapshots of the cameras covering its zone, at
 *   once and again after a few seconds, sent as `snapshot` messages behind the alarm. Running
 *   diagnoses are stopped to free the processes and retried later.
 *
 * A camera that refuses the credentials is asked again only every `authRetryS`: the others go on,
 * and the gateway does not lock the camera's account. Passwords are never logged.
 */
export class CameraAdapter implements DeviceAdapter {
  readonly name: string;
  readonly #c: CameraAdapterConfig;
  readonly #d: AdapterDeps;
  readonly #log: Logger;
  readonly #slots: ProcessSlots;
  readonly #references: CameraReferences;
  readonly #cameras: CameraState[] = [];
  #running = false;
  #keepaliveCancel: (() => void) | undefined;
  #diagnoseCancel: (() => void) | undefined;
  #discoveryCancel: (() => void) | undefined;
  /** ONVIF devices that answered WS-Discovery and are not configured, by endpoint. */
  readonly #unknown = new Map<string, DiscoveredDevice>();
  /** Diagnoses under way (at most maxFfmpeg). */
  #active = 0;
  /** Video reviews under way: diagnoses wait until they are done. */
  #reviews = 0;
  readonly #pending = new Set<Promise<unknown>>();
  readonly #timers = new Set<() => void>();
  readonly #counts: CameraAdapterCounts = {
    diagnoses: 0,
    keepalives: 0,
    snapshotsSent: 0,
    snapshotsFailed: 0,
    peakProcesses: 0,
    discoveries: 0,
  };

  constructor(config: CameraAdapterConfig, deps: AdapterDeps) {
    this.name = config.name;
    this.#c = config;
    this.#d = deps;
    this.#log = deps.logger.child({ module: 'camera', adapter: config.name });
    this.#slots = new ProcessSlots(config.maxFfmpeg);
    this.#references = new CameraReferences(
      deps.stateDir === undefined ? undefined : path.join(deps.stateDir, `${config.name}.json`),
      this.#log,
    );
  }

  counts(): CameraAdapterCounts {
    return { ...this.#counts, peakProcesses: this.#slots.peak };
  }

  /** The reference entropy occlusion is judged against, by device (tests, diagnostics). */
  referenceEntropy(device: string): number | undefined {
    return this.#cameras.find((c) => c.entry.device === device)?.referenceEntropy;
  }

  async start(): Promise<void> {
    await this.#references.load();
    for (const entry of this.#c.cameras) {
      const password = entry.password ?? readFileSync(entry.passwordFile as string, 'utf8').trim();
      this.#cameras.push({
        entry,
        password,
        url: entry.url,
        client: entry.url === undefined ? undefined : this.#client(entry.url, entry, password),
        description: undefined,
        misses: 0,
        keepalives: 0,
        driftMs: undefined,
        fault: undefined,
        authBlockedUntil: 0,
        probe: undefined,
        measures: undefined,
        verdict: undefined,
        referenceEntropy: this.#references.get(entry.device, cameraIdentity(entry), entry.profile),
        lastDiagnosedAt: Number.NEGATIVE_INFINITY,
        lastFrameTs: undefined,
        diagnoses: 0,
        reported: undefined,
        running: undefined,
      });
    }
    this.#running = true;
    if (this.#c.discovery.enabled) {
      // Cameras known only by their endpoint wait for the first Probe's answers.
      await this.discoverNow();
      this.#scheduleDiscovery(this.#c.discovery.everyS * 1000);
    }
    this.#scheduleKeepalive(0);
    this.#scheduleDiagnosis(0);
    this.#log.info(
      {
        cameras: this.#cameras.map((c) => ({
          device: c.entry.device,
          url: c.url === undefined ? `(${c.entry.endpoint}, not found yet)` : redactUrl(c.url),
        })),
        keepaliveS: this.#c.keepaliveS,
        diagnoseEveryS: this.#c.diagnoseEveryS,
        maxFfmpeg: this.#c.maxFfmpeg,
      },
      'camera adapter started',
    );
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#keepaliveCancel?.();
    this.#diagnoseCancel?.();
    this.#discoveryCancel?.();
    for (const cancel of this.#timers) cancel();
    this.#timers.clear();
    for (const c of this.#cameras) c.running?.abort();
    await Promise.allSettled([...this.#pending]);
    this.#cameras.length = 0;
  }

  health(): { name: string; ok: boolean; detail?: string } {
    const problems = this.#cameras
      .map((c) => [c.entry.device, this.#problem(c)] as const)
      .filter(([, p]) => p !== undefined)
      .map(([d, p]) => `${d}: ${p?.event}`);
    const unknown = this.#unknown.size
      ? `; ${this.#unknown.size} ONVIF cameras on the LAN not configured: ${[...this.#unknown.values()]
          .map((d) => d.xaddrs[0])
          .join(', ')}`
      : '';
    const detail =
      (problems.length
        ? `${problems.length}/${this.#cameras.length} cameras with problems: ${problems.join(', ')}`
        : `${this.#cameras.length} cameras healthy`) + unknown;
    return { name: this.name, ok: problems.length === 0, detail: detail.slice(0, 500) };
  }

  /** One keepalive round of every camera now (tests; also what the timer runs). */
  async keepaliveOnce(): Promise<void> {
    await Promise.all(this.#cameras.map((c) => this.#track(this.#keepalive(c))));
  }

  /** Diagnoses one camera now, by device id (tests). */
  async diagnoseNow(device: string): Promise<void> {
    const c = this.#cameras.find((x) => x.entry.device === device);
    if (!c) throw new Error(`no camera ${device}`);
    await this.#track(this.#diagnose(c));
  }

  onFireAlarm(alarm: FireAlarmNotice): void {
    if (!this.#running || !this.#c.review.enabled) return;
    const cameras = this.#cameras.filter((c) => covers(c.entry.covers, alarm.zone));
    if (cameras.length === 0) return;
    this.#log.info(
      { detector: alarm.device, zone: alarm.zone, cameras: cameras.map((c) => c.entry.device) },
      'fire alarm: video review snapshots',
    );
    // The processes go to the review: diagnoses under way stop and are retried later.
    for (const c of this.#cameras) c.running?.abort();
    this.#reviews++;
    const shots = this.#c.review.delaysMs.flatMap((delay, shot) =>
      cameras.map(
        (c) =>
          new Promise<void>((resolve) => {
            const cancel = this.#d.clock.setTimeout(() => {
              this.#timers.delete(cancel);
              void this.#track(this.#snapshot(c, alarm, shot)).finally(resolve);
            }, delay);
            this.#timers.add(() => {
              cancel();
              resolve();
            });
          }),
      ),
    );
    void this.#track(
      Promise.all(shots).finally(() => {
        this.#reviews--;
        this.#scheduleDiagnosis(0);
      }),
    );
  }

  // ---------------------------------------------------------------- keepalive

  #scheduleKeepalive(ms: number): void {
    if (!this.#running) return;
    this.#keepaliveCancel = this.#d.clock.setTimeout(() => {
      void this.keepaliveOnce().finally(() => this.#scheduleKeepalive(this.#c.keepaliveS * 1000));
    }, ms);
  }

  async #keepalive(c: CameraState): Promise<void> {
    this.#counts.keepalives++;
    c.keepalives++;
    try {
      c.driftMs = await this.#onvif(c).clockDriftMs(() => this.#d.clock.now());
      if (c.misses >= this.#c.offlineAfterMisses) this.#log.info({ device: c.entry.device }, 'camera answers again');
      c.misses = 0;
      if (c.fault?.fault === CameraFault.UNREACHABLE) c.fault = undefined;
    } catch (err) {
      c.misses++;
      const e = err instanceof CameraError ? err : new CameraError(CameraFault.UNREACHABLE, String(err));
      if (c.misses === this.#c.offlineAfterMisses) {
        this.#log.warn({ device: c.entry.device, misses: c.misses, err: e.message }, 'camera offline');
      }
      if (e.fault !== CameraFault.UNREACHABLE || c.misses >= this.#c.offlineAfterMisses) c.fault = e;
      // A camera that comes back may have rebooted with new URIs: describe it again.
      c.description = undefined;
    }
    if (!this.#running) return;
    this.#sendTelemetry(c);
    this.#reportProblem(c);
  }

  // ---------------------------------------------------------------- diagnosis

  /** Starts due diagnoses up to `maxFfmpeg` at a time, then sleeps until the next one is due. */
  #scheduleDiagnosis(ms: number): void {
    if (!this.#running) return;
    this.#diagnoseCancel?.();
    this.#diagnoseCancel = this.#d.clock.setTimeout(() => this.#diagnoseDue(), ms);
  }

  #diagnoseDue(): void {
    if (!this.#running || this.#reviews > 0) return;
    const now = this.#d.clock.now();
    // Due a tenth of the period early: a diagnosis waits for a free slot and is cut short by a fire
    // alarm's video review (then run again), so starting at the period itself lets the gap between
    // two diagnoses of a camera run past it (310 s for 300 s in bench:gateway with 32 cameras).
    const every = this.#c.diagnoseEveryS * 900;
    const due = this.#cameras
      .filter((c) => !c.running && c.lastDiagnosedAt + every <= now)
      .sort((a, b) => a.lastDiagnosedAt - b.lastDiagnosedAt);
    while (this.#active < this.#c.maxFfmpeg && due.length > 0) {
      const c = due.shift() as CameraState;
      this.#active++;
      void this.#track(
        this.#diagnose(c).finally(() => {
          this.#active--;
          this.#scheduleDiagnosis(0);
        }),
      );
    }
    if (this.#active === 0) {
      const next = Math.min(...this.#cameras.map((c) => c.lastDiagnosedAt + every));
      if (Number.isFinite(next)) this.#scheduleDiagnosis(Math.max(1000, next - now));
    }
  }

  async #diagnose(c: CameraState): Promise<void> {
    const abort = new AbortController();
    c.running = abort;
    const started = this.#d.clock.now();
    try {
      if (c.misses >= this.#c.offlineAfterMisses) return; // offline: the keepalive says so
      const description = await this.#describe(c);
      if (!description) return;
      const url = withCredentials(description.streamUri, c.entry.username, c.password);
      const secrets = [c.password];
      // Aborted (a fire alarm's video review wants the slots): the process is killed at once.
      const { signal } = abort;
      const probe = await this.#slots.run(() =>
        signal.aborted
          ? Promise.reject(signal.reason)
          : probeStream({
              ffprobe: this.#c.ffprobe,
              url,
              seconds: 2,
              timeoutMs: this.#c.streamTimeoutMs,
              secrets,
              signal,
            }),
      );
      if (signal.aborted) return;
      const measures = await this.#slots.run(() =>
        signal.aborted
          ? Promise.reject(signal.reason)
          : measurePicture({
              ffmpeg: this.#c.ffmpeg,
              url,
              seconds: this.#c.sampleS,
              timeoutMs: this.#c.streamTimeoutMs,
              thresholds: this.#c.thresholds,
              secrets,
              signal,
            }),
      );
      if (signal.aborted) return;
      c.probe = probe;
      c.measures = measures;
      c.verdict = judgePicture(measures, this.#c.thresholds, c.referenceEntropy);
      c.lastFrameTs = this.#d.clock.now();
      c.fault = undefined;
      const v = c.verdict;
      if (c.referenceEntropy === undefined && !Object.values(v).some(Boolean)) {
        c.referenceEntropy = measures.entropy;
        const { device, profile } = c.entry;
        const at = this.#d.clock.now();
        void this.#track(this.#references.set(device, cameraIdentity(c.entry), profile, measures.entropy, at));
      }
    } catch (err) {
      if (abort.signal.aborted) return;
      const e = err instanceof CameraError ? err : new CameraError(CameraFault.STREAM_DOWN, String(err));
      c.fault = e;
      if (e.fault === CameraFault.STREAM_DOWN || e.fault === CameraFault.STREAM_TIMEOUT) {
        c.probe = undefined;
        c.verdict = undefined;
        c.measures = undefined;
        // The URI may have changed (a camera reconfigured): ask again next time.
        c.description = undefined;
      }
      this.#log.warn({ device: c.entry.device, code: e.code, err: e.message }, 'camera check failed');
    } finally {
      c.running = undefined;
      if (!abort.signal.aborted) {
        c.lastDiagnosedAt = started;
        c.diagnoses++;
        this.#counts.diagnoses++;
        if (this.#running) {
          this.#sendTelemetry(c);
          this.#reportProblem(c);
        }
      }
    }
  }

  /** The camera's ONVIF description, asked for when not known (and not blocked by a refused login). */
  async #describe(c: CameraState): Promise<CameraDescription | undefined> {
    if (c.description) return c.description;
    const now = this.#d.clock.now();
    if (now < c.authBlockedUntil) return undefined;
    try {
      // GetSystemDateAndTime first: WS-Security timestamps follow the camera's clock.
      const client = this.#onvif(c);
      c.driftMs = await client.clockDriftMs(() => this.#d.clock.now());
      c.description = await client.describe(c.entry.profile);
      c.misses = 0;
      this.#log.info(
        {
          device: c.entry.device,
          model: c.description.info.model,
          profile: c.description.profile.token,
          stream: redactUrl(c.description.streamUri),
        },
        'camera described',
      );
      return c.description;
    } catch (err) {
      const e = err instanceof CameraError ? err : new CameraError(CameraFault.BAD_RESPONSE, String(err));
      c.fault = e;
      if (e.fault === CameraFault.AUTH) {
        c.authBlockedUntil = now + this.#c.authRetryS * 1000;
        // A fresh client: the package keeps state (time shift) per camera.
        c.client = c.url === undefined ? undefined : this.#client(c.url, c.entry, c.password);
      }
      this.#log.warn({ device: c.entry.device, code: e.code, err: e.message }, 'camera ONVIF description failed');
      return undefined;
    }
  }

  // ---------------------------------------------------------------- video review

  async #snapshot(c: CameraState, alarm: FireAlarmNotice, shot: number): Promise<void> {
    if (!this.#running) return;
    const started = this.#d.clock.now();
    try {
      const jpeg = await this.#takeSnapshot(c);
      // Taken at once, sent behind the alarm: once the county has it (bounded wait).
      await this.#alarmAcknowledged(alarm);
      if (!this.#running) return;
      const outcome = this.#d.sink.submit({
        device: c.entry.device,
        message: 'snapshot',
        fields: {
          cause: { device: alarm.device, ts: alarm.ts, ...(alarm.zone ? { zone: alarm.zone } : {}) },
          shot,
          contentType: 'image/jpeg',
          ...(jpeg.width ? { width: jpeg.width } : {}),
          ...(jpeg.height ? { height: jpeg.height } : {}),
          data: jpeg.data.toString('base64'),
        },
      });
      if (!outcome.ok) throw new Error(`${outcome.reason}: ${outcome.detail}`);
      this.#counts.snapshotsSent++;
      this.#log.info(
        {
          device: c.entry.device,
          detector: alarm.device,
          shot,
          bytes: jpeg.data.length,
          ms: this.#d.clock.now() - started,
        },
        'video review snapshot queued',
      );
    } catch (err) {
      this.#counts.snapshotsFailed++;
      this.#log.warn(
        { device: c.entry.device, detector: alarm.device, shot, err: (err as Error).message },
        'video review snapshot failed',
      );
    }
  }

  /** Resolves when the county acknowledged the alarm, after `review.holdForAlarmAckMs`, or on stop. */
  #alarmAcknowledged(alarm: FireAlarmNotice): Promise<void> {
    const hold = this.#c.review.holdForAlarmAckMs;
    const acknowledged = alarm.acknowledged;
    if (!acknowledged || hold === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        cancelTimer();
        this.#timers.delete(finish);
        resolve();
      };
      const cancelTimer = this.#d.clock.setTimeout(finish, hold);
      // stop() runs every entry of #timers: the wait ends with it.
      this.#timers.add(finish);
      void acknowledged.then(finish);
    });
  }

  async #takeSnapshot(c: CameraState): Promise<Jpeg> {
    const r = this.#c.review;
    const d = c.description ?? (await this.#describe(c));
    if (!d) throw c.fault ?? new CameraError(CameraFault.UNREACHABLE, 'camera not described');
    let raw: Buffer | undefined;
    if (d.snapshotUri) {
      try {
        raw = await fetchSnapshot(d.snapshotUri, c.entry.username, c.password, r.timeoutMs);
      } catch (err) {
        this.#log.warn(
          { device: c.entry.device, err: (err as Error).message },
          'snapshot URI failed; grabbing a frame',
        );
      }
    }
    if (!raw) {
      const url = withCredentials(d.streamUri, c.entry.username, c.password);
      raw = await this.#slots.run(
        () =>
          grabFrame({
            ffmpeg: this.#c.ffmpeg,
            url,
            maxWidth: r.maxWidth,
            timeoutMs: r.timeoutMs,
            secrets: [c.password],
          }),
        true,
      );
    }
    const size = jpegSize(raw);
    if (size && size.width <= r.maxWidth && raw.length <= MAX_SNAPSHOT_IMAGE_BYTES) return { data: raw, ...size };
    const source = raw;
    return this.#slots.run(() => shrinkJpeg(this.#c.ffmpeg, source, r.maxWidth, r.timeoutMs), true);
  }

  // ---------------------------------------------------------------- WS-Discovery

  /** ONVIF devices on the LAN that are not configured (tests, diagnostics). */
  unconfigured(): DiscoveredDevice[] {
    return [...this.#unknown.values()];
  }

  /** One WS-Discovery Probe now; configured endpoints follow their answers' addresses. */
  async discoverNow(): Promise<void> {
    const d = this.#c.discovery;
    let found: DiscoveredDevice[];
    try {
      found = await probe({
        address: d.address,
        port: d.port,
        timeoutMs: d.timeoutMs,
        ...(d.interface ? { interface: d.interface } : {}),
      });
    } catch (err) {
      this.#log.warn({ err: (err as Error).message, address: d.address, port: d.port }, 'WS-Discovery probe failed');
      return;
    }
    this.#counts.discoveries++;
    for (const dev of found) {
      const byEndpoint = this.#cameras.find((c) => c.entry.endpoint === dev.endpoint);
      const url = dev.xaddrs[0] as string;
      if (byEndpoint) {
        if (byEndpoint.url !== url) {
          this.#log.info(
            { device: byEndpoint.entry.device, endpoint: dev.endpoint, was: byEndpoint.url, url },
            'camera found by WS-Discovery',
          );
          byEndpoint.url = url;
          byEndpoint.client = this.#client(url, byEndpoint.entry, byEndpoint.password);
          byEndpoint.description = undefined;
        }
        continue;
      }
      const byUrl = this.#cameras.some(
        (c) => c.url !== undefined && dev.xaddrs.some((x) => sameService(x, c.url as string)),
      );
      if (byUrl || this.#unknown.has(dev.endpoint)) continue;
      this.#unknown.set(dev.endpoint, dev);
      const name = dev.scopes.find((sc) => sc.startsWith('onvif://www.onvif.org/name/'))?.slice(27);
      this.#log.info(
        { endpoint: dev.endpoint, url: redactUrl(url), name: name ? decodeURIComponent(name) : undefined },
        'an ONVIF camera on the LAN is not configured',
      );
    }
  }

  #scheduleDiscovery(ms: number): void {
    if (!this.#running) return;
    this.#discoveryCancel = this.#d.clock.setTimeout(() => {
      void this.#track(this.discoverNow()).finally(() => this.#scheduleDiscovery(this.#c.discovery.everyS * 1000));
    }, ms);
  }

  // ---------------------------------------------------------------- reporting

  #problem(c: CameraState): Problem {
    if (c.misses >= this.#c.offlineAfterMisses) {
      return { event: 'signal_loss', detail: `camera offline: ${c.misses} keepalives missed` };
    }
    const f = c.fault;
    if (f) {
      if (f.fault === CameraFault.STREAM_DOWN || f.fault === CameraFault.STREAM_TIMEOUT) {
        return { event: 'signal_loss', detail: f.message };
      }
      if (f.fault !== CameraFault.UNREACHABLE) return { event: 'fault', detail: f.message };
    }
    const v = c.verdict;
    if (!v) return undefined;
    if (v.black) return { event: 'black', detail: 'black picture (blackdetect)' };
    if (v.occluded) return { event: 'occlusion', detail: `picture entropy ${c.measures?.entropy.toFixed(2)} bits` };
    if (v.frozen) return { event: 'frozen', detail: 'frozen picture (freezedetect)' };
    if (v.dark) return { event: 'too_dark', detail: `mean luma ${c.measures?.luma.toFixed(0)}` };
    if (v.bright) return { event: 'too_bright', detail: `mean luma ${c.measures?.luma.toFixed(0)}` };
    if (v.blurred) return { event: 'blurred', detail: `blurdetect ${c.measures?.blur?.toFixed(1)}` };
    return undefined;
  }

  /** A change of the camera's problem is an event: the new problem, or `restore`. */
  #reportProblem(c: CameraState): void {
    const p = this.#problem(c);
    const key = p ? `${p.event}` : undefined;
    if (key === c.reported) return;
    const had = c.reported;
    c.reported = key;
    if (!p && had === undefined) return;
    const fields = p
      ? { event: p.event, detail: p.detail.slice(0, 500) }
      : { event: 'restore', detail: `${had} cleared` };
    const outcome = this.#d.sink.submit({ device: c.entry.device, message: 'event', fields });
    if (!outcome.ok) this.#log.warn({ device: c.entry.device, reason: outcome.reason }, 'camera event refused');
    else this.#log.warn({ device: c.entry.device, ...fields }, 'camera state changed');
  }

  #sendTelemetry(c: CameraState): void {
    const online = c.misses < this.#c.offlineAfterMisses;
    // Before its first check the stream's state is unknown: say nothing rather than "down".
    if (online && c.diagnoses === 0 && !c.fault) return;
    const streamFault =
      c.fault?.fault === CameraFault.STREAM_DOWN || c.fault?.fault === CameraFault.STREAM_TIMEOUT || !online;
    const fields: Record<string, unknown> = { online, streamOk: !streamFault && c.probe !== undefined };
    if (c.fault && (c.fault.fault !== CameraFault.UNREACHABLE || !online)) fields.fault = c.fault.fault;
    if (c.driftMs !== undefined) fields.clockDriftMs = c.driftMs;
    if (c.probe && !streamFault) {
      Object.assign(fields, {
        codec: c.probe.codec,
        fps: c.probe.fps,
        bitrateKbps: c.probe.bitrateKbps,
        width: c.probe.width,
        height: c.probe.height,
      });
    }
    if (c.verdict && c.measures && !streamFault) {
      Object.assign(fields, c.verdict, {
        luma: round(c.measures.luma),
        entropy: round(c.measures.entropy),
        ...(c.measures.blur === undefined ? {} : { blur: round(Math.max(0, c.measures.blur)) }),
      });
    }
    if (c.lastFrameTs !== undefined) fields.lastFrameTs = c.lastFrameTs;
    const outcome = this.#d.sink.submit({ device: c.entry.device, message: 'telemetry', fields });
    if (!outcome.ok) {
      this.#log.warn(
        { device: c.entry.device, reason: outcome.reason, detail: outcome.detail },
        'camera telemetry refused',
      );
    }
  }

  /** The camera's ONVIF client, or the reason there is none yet. */
  #onvif(c: CameraState): OnvifClient {
    if (c.client) return c.client;
    throw new CameraError(
      CameraFault.UNREACHABLE,
      `camera ${c.entry.endpoint} has not answered WS-Discovery: not on the LAN, or multicast does not reach it`,
    );
  }

  #client(url: string, entry: CameraEntry, password: string): OnvifClient {
    return new OnvifClient({
      url,
      username: entry.username,
      password,
      timeoutMs: this.#c.onvifTimeoutMs,
    });
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p)).catch(() => {});
    return p;
  }
}

const round = (v: number) => Math.round(v * 100) / 100;

/** What a camera's reference picture belongs to: its discovery identity, else its address. */
const cameraIdentity = (e: CameraEntry): string => e.endpoint ?? (e.url as string);

/** Two device service URLs name the same camera service: same host and port (paths vary by firmware). */
function sameService(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    const port = (u: URL) => u.port || (u.protocol === 'https:' ? '443' : '80');
    return x.hostname === y.hostname && port(x) === port(y);
  } catch {
    return false;
  }
}

/** A camera covers a zone when one of its zone prefixes is the zone or a whole-word start of it. */
export function covers(prefixes: readonly string[], zone: string | undefined): boolean {
  if (!zone) return false;
  const z = zone.trim();
  return prefixes.some((p) => {
    const q = p.trim();
    return z === q || z.startsWith(`${q} `);
  });
}
