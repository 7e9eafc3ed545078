import { createServer, type Server, type Socket } from 'node:net';
import type { CameraSimFault, PictureFormat } from './camera-picture.js';
import { DEFAULT_PICTURE } from './camera-picture.js';
import { RtspStreamServer } from './rtsp-stream-server.js';
import { SimulatedCamera } from './simulated-camera.js';
import { SnapshotFrames } from './snapshot-frames.js';
import { WsDiscoveryResponder } from './ws-discovery-responder.js';

export interface SimulatedCameraSpec {
  id: string;
  username?: string;
  password?: string;
  fault?: CameraSimFault;
  clockOffsetMs?: number;
  /** Its ONVIF HTTP port; 0 or left out: any free port. */
  port?: number;
}

export interface SimulatedCameraFleetOptions {
  cameras: readonly SimulatedCameraSpec[];
  host?: string;
  picture?: PictureFormat;
  /** Default credentials of every camera. */
  username?: string;
  password?: string;
  now?: () => number;
  python?: string;
  ffmpeg?: string;
  /**
   * Answer WS-Discovery Probes for the cameras: unicast at `host:port` (0: any free port; 3702 is
   * the standard), and with `multicast` also on the group 239.255.255.250 on `host`'s interface.
   */
  discovery?: { port: number; multicast?: boolean };
}

export const DEFAULT_CAMERA_USERNAME = 'admin';
export const DEFAULT_CAMERA_PASSWORD = 'anlian-camera-demo';

/**
 * The simulated cameras of a gateway: one GStreamer RTSP server process for all their streams,
 * one ONVIF HTTP endpoint per camera (each camera its own port, as each has its own address on a
 * LAN), and a port that accepts RTSP connections and never answers (`stream-stall`).
 */
export class SimulatedCameraFleet {
  readonly rtsp: RtspStreamServer;
  readonly #o: SimulatedCameraFleetOptions;
  readonly #cameras = new Map<string, SimulatedCamera>();
  #stall: Server | undefined;
  #discovery: WsDiscoveryResponder | undefined;
  readonly #stalled = new Set<Socket>();
  #stallPort = 0;

  constructor(opts: SimulatedCameraFleetOptions) {
    this.#o = opts;
    this.rtsp = new RtspStreamServer({
      ...(opts.host ? { host: opts.host } : {}),
      ...(opts.python ? { python: opts.python } : {}),
    });
  }

  get host(): string {
    return this.#o.host ?? '127.0.0.1';
  }

  cameras(): SimulatedCamera[] {
    return [...this.#cameras.values()];
  }

  /** Where the cameras answer WS-Discovery Probes, once started with `discovery`. */
  get discoveryPort(): number | undefined {
    return this.#discovery?.port;
  }

  camera(id: string): SimulatedCamera {
    const c = this.#cameras.get(id);
    if (!c) throw new Error(`no simulated camera ${id}`);
    return c;
  }

  async start(): Promise<void> {
    await this.rtsp.start();
    const stall = createServer((s) => {
      // Accept, read nothing back, never answer: an RTSP server that hangs.
      this.#stalled.add(s);
      s.on('error', () => {});
      s.once('close', () => this.#stalled.delete(s));
    });
    await new Promise<void>((resolve) => stall.listen(0, this.host, resolve));
    // Every camera's snapshots from one set of pictures, the normal one rendered before the first asks.
    const frames = new SnapshotFrames({
      picture: this.#o.picture ?? DEFAULT_PICTURE,
      ...(this.#o.ffmpeg ? { ffmpeg: this.#o.ffmpeg } : {}),
    });
    await frames.warm();
    const a = stall.address();
    this.#stallPort = typeof a === 'object' && a ? a.port : 0;
    this.#stall = stall;
    for (const spec of this.#o.cameras) {
      const cam = new SimulatedCamera({
        id: spec.id,
        host: this.host,
        ...(spec.port ? { port: spec.port } : {}),
        username: spec.username ?? this.#o.username ?? DEFAULT_CAMERA_USERNAME,
        password: spec.password ?? this.#o.password ?? DEFAULT_CAMERA_PASSWORD,
        rtsp: this.rtsp,
        stallUrl: () => `rtsp://${this.host}:${this.#stallPort}/${spec.id}`,
        ...(this.#o.picture ? { picture: this.#o.picture } : {}),
        ...(spec.clockOffsetMs === undefined ? {} : { clockOffsetMs: spec.clockOffsetMs }),
        ...(spec.fault ? { fault: spec.fault } : {}),
        ...(this.#o.now ? { now: this.#o.now } : {}),
        ...(this.#o.ffmpeg ? { ffmpeg: this.#o.ffmpeg } : {}),
        frames,
      });
      this.#cameras.set(spec.id, cam);
      await cam.start();
    }
    const d = this.#o.discovery;
    if (d) {
      this.#discovery = new WsDiscoveryResponder({
        host: this.host,
        port: d.port,
        multicast: d.multicast ?? false,
        cameras: () =>
          this.cameras().map((c) => ({
            id: c.id,
            deviceServiceUrl: c.deviceServiceUrl,
            reachable: c.fault !== 'offline',
          })),
      });
      await this.#discovery.start();
    }
  }

  setFault(id: string, fault: CameraSimFault): Promise<void> {
    return this.camera(id).setFault(fault);
  }

  async stop(): Promise<void> {
    await this.#discovery?.stop();
    this.#discovery = undefined;
    for (const c of this.#cameras.values()) await c.stop().catch(() => {});
    for (const s of this.#stalled) s.destroy();
    const stall = this.#stall;
    this.#stall = undefined;
    if (stall) await new Promise<void>((resolve) => stall.close(() => resolve()));
    await this.rtsp.stop();
  }
}
