import { Cam } from 'onvif';
import { CameraError, CameraFault } from './camera-error.js';

export interface OnvifTarget {
  url: string;
  username: string;
  password: string;
  timeoutMs: number;
}

export interface DeviceInfo {
  manufacturer?: string;
  model?: string;
  firmwareVersion?: string;
  serialNumber?: string;
}

export interface MediaProfile {
  token: string;
  encoding?: string;
  width?: number;
  height?: number;
  fps?: number;
}

export interface CameraDescription {
  info: DeviceInfo;
  profile: MediaProfile;
  streamUri: string;
  snapshotUri?: string;
}

const AUTH_PATTERN = /not ?authori[sz]ed|unauthori[sz]ed|\b401\b|authentication failed|sender not authorized/i;
const NETWORK_PATTERN =
  /ECONNREFUSED|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|ECONNRESET|EPIPE|ENOTFOUND|EAI_AGAIN|socket hang up|Network timeout/i;

/** Sorts an error of the `onvif` package into the adapter's faults. */
export function classifyOnvifError(err: unknown, what: string): CameraError {
  if (err instanceof CameraError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string } | undefined)?.code ?? '';
  if (AUTH_PATTERN.test(message))
    return new CameraError(CameraFault.AUTH, `${what}: the camera refused the credentials (${message})`);
  if (NETWORK_PATTERN.test(message) || NETWORK_PATTERN.test(code))
    return new CameraError(CameraFault.UNREACHABLE, `${what}: no answer (${code || message})`);
  return new CameraError(CameraFault.BAD_RESPONSE, `${what}: not an ONVIF answer (${message.slice(0, 200)})`);
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;

/**
 * The ONVIF calls the adapter needs, over the maintained `onvif` package (agsh/onvif), each with
 * its own time limit and its answer checked: the package calls back with whatever the XML held,
 * and a camera's firmware may send anything. The package's own `connect()` is not used: it
 * swallows media errors, a refused login among them.
 */
export class OnvifClient {
  readonly #t: OnvifTarget;
  readonly #cam: Cam;

  constructor(target: OnvifTarget) {
    this.#t = target;
    const u = new URL(target.url);
    this.#cam = new Cam({
      hostname: u.hostname,
      port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)),
      path: u.pathname,
      username: target.username,
      password: target.password,
      timeout: target.timeoutMs,
      useSecure: u.protocol === 'https:',
      autoconnect: false,
    });
  }

  /** Device clock minus ours, ms (GetSystemDateAndTime, PRE_AUTH): the keepalive. Second precision. */
  async clockDriftMs(now: () => number = Date.now): Promise<number> {
    const before = now();
    const date = await this.#call<Date>('GetSystemDateAndTime', (cb) => this.#cam.getSystemDateAndTime(cb));
    const after = now();
    if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
      throw new CameraError(CameraFault.BAD_RESPONSE, 'GetSystemDateAndTime: no date in the answer');
    }
    // The camera's clock has whole seconds: half a second of drift is below what it can tell.
    const drift = date.getTime() - (before + after) / 2;
    return Math.abs(drift) < 1000 ? 0 : Math.round(drift);
  }

  /** GetCapabilities, GetDeviceInformation, GetProfiles, GetStreamUri (RTP over RTSP/TCP), GetSnapshotUri. */
  async describe(profileToken?: string): Promise<CameraDescription> {
    await this.#call('GetCapabilities', (cb) => this.#cam.getCapabilities(cb));
    if (!this.#cam.uri?.media) throw new CameraError(CameraFault.BAD_RESPONSE, 'GetCapabilities: no media service');
    const rawInfo = obj(await this.#call('GetDeviceInformation', (cb) => this.#cam.getDeviceInformation(cb)));
    if (!rawInfo) throw new CameraError(CameraFault.BAD_RESPONSE, 'GetDeviceInformation: empty answer');
    const info: DeviceInfo = {};
    for (const k of ['manufacturer', 'model', 'firmwareVersion', 'serialNumber'] as const) {
      const v = str(rawInfo[k]);
      if (v !== undefined) info[k] = v.slice(0, 64);
    }
    const profiles = await this.#call<unknown>('GetProfiles', (cb) => this.#cam.getProfiles(cb));
    const list = (Array.isArray(profiles) ? profiles : []).map(obj).filter((p) => p !== undefined);
    const raw = profileToken ? list.find((p) => str(obj(p.$)?.token) === profileToken) : list[0];
    const token = str(obj(raw?.$)?.token);
    if (!raw || !token) {
      throw new CameraError(
        CameraFault.BAD_RESPONSE,
        profileToken ? `GetProfiles: no profile ${profileToken}` : 'GetProfiles: the camera has no media profile',
      );
    }
    const enc = obj(raw.videoEncoderConfiguration);
    const res = obj(enc?.resolution);
    const profile: MediaProfile = { token };
    const encoding = str(enc?.encoding);
    if (encoding) profile.encoding = encoding;
    const width = num(res?.width);
    const height = num(res?.height);
    const fps = num(obj(enc?.rateControl)?.frameRateLimit);
    if (width) profile.width = width;
    if (height) profile.height = height;
    if (fps) profile.fps = fps;
    const stream = obj(
      await this.#call('GetStreamUri', (cb) =>
        this.#cam.getStreamUri({ protocol: 'RTSP', stream: 'RTP-Unicast', profileToken: token }, cb),
      ),
    );
    const streamUri = str(stream?.uri);
    if (!streamUri || !/^rtsps?:\/\//i.test(streamUri)) {
      throw new CameraError(CameraFault.BAD_RESPONSE, 'GetStreamUri: no RTSP URI in the answer');
    }
    let snapshotUri: string | undefined;
    try {
      const snap = obj(
        await this.#call('GetSnapshotUri', (cb) => this.#cam.getSnapshotUri({ profileToken: token }, cb)),
      );
      const s = str(snap?.uri);
      if (s && /^https?:\/\//i.test(s)) snapshotUri = s;
    } catch (err) {
      // Optional in Profile S: without it, snapshots are grabbed from the stream.
      if (err instanceof CameraError && err.fault !== CameraFault.BAD_RESPONSE) throw err;
    }
    return { info, profile, streamUri, ...(snapshotUri ? { snapshotUri } : {}) };
  }

  /**
   * One request: settles once, whatever the package does (it may call back twice when the XML
   * handler throws), and within the time limit even if the camera keeps the socket open.
   */
  #call<T>(what: string, run: (cb: (err: Error | null, result?: T) => void) => void): Promise<T | undefined> {
    return new Promise<T | undefined>((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        reject(new CameraError(CameraFault.UNREACHABLE, `${what}: no answer within ${this.#t.timeoutMs} ms`));
      }, this.#t.timeoutMs + 200);
      try {
        run((err, result) => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          if (err) reject(classifyOnvifError(err, what));
          else resolve(result);
        });
      } catch (err) {
        done = true;
        clearTimeout(timer);
        reject(classifyOnvifError(err, what));
      }
    });
  }
}
