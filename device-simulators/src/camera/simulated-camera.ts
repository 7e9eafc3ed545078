import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type CameraSimFault, DEFAULT_PICTURE, type PictureFormat, streamPipeline } from './camera-picture.js';
import * as soap from './onvif-soap.js';
import type { RtspStreamServer } from './rtsp-stream-server.js';
import { SnapshotFrames } from './snapshot-frames.js';

export interface SimulatedCameraOptions {
  /** Device id; also the RTSP mount. */
  id: string;
  host?: string;
  /** ONVIF HTTP port; 0: any free port (kept across an `offline` fault). */
  port?: number;
  username: string;
  password: string;
  rtsp: RtspStreamServer;
  /** Where a `stream-stall` camera's stream URI points: a port that accepts and never answers. */
  stallUrl: () => string;
  picture?: PictureFormat;
  /** The camera's clock minus the true time (GetSystemDateAndTime), ms. */
  clockOffsetMs?: number;
  fault?: CameraSimFault;
  now?: () => number;
  ffmpeg?: string;
  /** Pre-rendered snapshot pictures, shared by a fleet; default the camera's own. */
  frames?: SnapshotFrames;
}

export interface SimulatedCameraStats {
  soapRequests: number;
  authFailures: number;
  snapshots: number;
  /** Operations asked for, in order (the last 200). */
  operations: string[];
}

/** ONVIF Core §5.9.4.3: the PRE_AUTH class, answered without credentials. */
const PRE_AUTH = new Set(['GetSystemDateAndTime', 'GetCapabilities', 'GetServices', 'GetWsdlUrl', 'GetHostname']);
/** WSS replay protection: a token's `Created` may differ from the camera's clock by this much. */
const CREATED_WINDOW_MS = 5 * 60_000;
const PROFILE_TOKEN = 'main';

/**
 * One simulated IP camera, driven only through public protocols: an ONVIF device and media
 * service over HTTP (SOAP 1.2, WS-Security UsernameToken with PasswordDigest or PasswordText), a
 * JPEG snapshot URI (HTTP Basic auth) and an H.264 stream on the shared GStreamer RTSP server.
 * `setFault` changes what it does from the next request on.
 */
export class SimulatedCamera {
  readonly id: string;
  readonly #o: SimulatedCameraOptions;
  readonly #picture: PictureFormat;
  readonly #frames: SnapshotFrames;
  readonly #now: () => number;
  #fault: CameraSimFault;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port: number;
  readonly #nonces = new Set<string>();
  readonly #stats: SimulatedCameraStats = { soapRequests: 0, authFailures: 0, snapshots: 0, operations: [] };

  constructor(opts: SimulatedCameraOptions) {
    this.id = opts.id;
    this.#o = opts;
    this.#picture = opts.picture ?? DEFAULT_PICTURE;
    this.#frames =
      opts.frames ?? new SnapshotFrames({ picture: this.#picture, ...(opts.ffmpeg ? { ffmpeg: opts.ffmpeg } : {}) });
    this.#now = opts.now ?? Date.now;
    this.#fault = opts.fault ?? 'none';
    this.#port = opts.port ?? 0;
  }

  get host(): string {
    return this.#o.host ?? '127.0.0.1';
  }

  get port(): number {
    return this.#port;
  }

  get fault(): CameraSimFault {
    return this.#fault;
  }

  /** The ONVIF device service, what a gateway is configured with (or finds by WS-Discovery). */
  get deviceServiceUrl(): string {
    return `http://${this.host}:${this.#port}/onvif/device_service`;
  }

  stats(): SimulatedCameraStats {
    return { ...this.#stats, operations: [...this.#stats.operations] };
  }

  async start(): Promise<void> {
    await this.#applyStream();
    if (this.#fault !== 'offline') await this.#listen();
  }

  async stop(): Promise<void> {
    await this.#close();
    await this.#o.rtsp.unset(this.id).catch(() => {});
  }

  async setFault(fault: CameraSimFault): Promise<void> {
    const was = this.#fault;
    this.#fault = fault;
    if (fault === 'offline' && was !== 'offline') await this.#close();
    if (fault !== 'offline' && (was === 'offline' || !this.#server)) await this.#listen();
    await this.#applyStream();
  }

  async #applyStream(): Promise<void> {
    if (this.#fault === 'offline' || this.#fault === 'stream-down') await this.#o.rtsp.unset(this.id);
    else await this.#o.rtsp.set(this.id, streamPipeline(this.#fault, this.#picture));
  }

  async #listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500);
        res.end(String(err));
      });
    });
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address();
    if (typeof a === 'object' && a) this.#port = a.port;
    this.#server = server;
  }

  async #close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://camera');
    if (req.method === 'GET' && url.pathname === `/snapshot/${PROFILE_TOKEN}.jpg`) return this.#snapshot(req, res);
    if (req.method !== 'POST' || !url.pathname.startsWith('/onvif/')) {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    this.#stats.soapRequests++;
    const op = soap.soapOperation(body) ?? '(none)';
    this.#stats.operations.push(op);
    if (this.#stats.operations.length > 200) this.#stats.operations.shift();
    const send = (status: number, xml: string): void => {
      res.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' }).end(xml);
    };
    if (this.#fault === 'malformed-soap') {
      // A firmware that cuts its answers short: well-formed HTTP, broken XML.
      send(200, soap.envelope(`<tds:${op}Response><tt:Broken>`).slice(0, 180));
      return;
    }
    if (!PRE_AUTH.has(op) && !this.#authorized(body)) {
      this.#stats.authFailures++;
      send(400, soap.fault('Sender', 'ter:NotAuthorized', 'Sender not Authorized'));
      return;
    }
    const base = `http://${this.host}:${this.#port}`;
    const p = { token: PROFILE_TOKEN, ...this.#picture };
    switch (op) {
      case 'GetSystemDateAndTime':
        return send(200, soap.systemDateAndTime(new Date(this.#cameraNow())));
      case 'GetCapabilities':
        return send(200, soap.capabilities(base));
      case 'GetDeviceInformation':
        return send(
          200,
          soap.deviceInformation({
            manufacturer: 'Anlian Simulator',
            model: 'SIM-IPC-640',
            firmwareVersion: '1.0.0',
            serialNumber: `SIM-${this.id}`,
            hardwareId: 'sim',
          }),
        );
      case 'GetProfiles':
        return send(200, soap.profiles(p));
      case 'GetVideoSources':
        return send(200, soap.videoSources(p));
      case 'GetStreamUri': {
        const uri = this.#fault === 'stream-stall' ? this.#o.stallUrl() : this.#o.rtsp.url(this.id);
        return send(200, soap.mediaUri('GetStreamUri', uri));
      }
      case 'GetSnapshotUri':
        return send(200, soap.mediaUri('GetSnapshotUri', `${base}/snapshot/${PROFILE_TOKEN}.jpg`));
      default:
        return send(
          400,
          soap.fault('Sender', 'ter:ActionNotSupported', `${op} is not implemented by this simulated camera`),
        );
    }
  }

  #cameraNow(): number {
    return this.#now() + (this.#o.clockOffsetMs ?? 0);
  }

  #authorized(body: string): boolean {
    if (this.#fault === 'wrong-password') return false;
    const token = soap.usernameToken(body);
    if (!token || !soap.tokenMatches(token, this.#o.username, this.#o.password)) return false;
    if (token.digest) {
      const created = Date.parse(token.created ?? '');
      if (!Number.isFinite(created) || Math.abs(created - this.#cameraNow()) > CREATED_WINDOW_MS) return false;
      const nonce = token.nonce ?? '';
      if (this.#nonces.has(nonce)) return false;
      this.#nonces.add(nonce);
      if (this.#nonces.size > 1000) this.#nonces.delete(this.#nonces.values().next().value as string);
    }
    return true;
  }

  async #snapshot(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const expected = `Basic ${Buffer.from(`${this.#o.username}:${this.#o.password}`).toString('base64')}`;
    if (this.#fault === 'wrong-password' || req.headers.authorization !== expected) {
      this.#stats.authFailures++;
      res.writeHead(401, { 'www-authenticate': 'Basic realm="camera"' }).end();
      return;
    }
    if (this.#fault === 'stream-down' || this.#fault === 'stream-stall') {
      res.writeHead(503).end();
      return;
    }
    const jpeg = await this.#frames.frame(this.#fault, this.#now());
    this.#stats.snapshots++;
    res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg);
  }
}
