import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { MAX_SNAPSHOT_IMAGE_BYTES } from '@anlian/protocol';
import { CameraError, CameraFault } from './camera-error.js';
import { runMediaProcess } from './media-process.js';
import { classifyStreamFailure, redactSecrets } from './rtsp-url.js';

export interface Jpeg {
  data: Buffer;
  width?: number;
  height?: number;
}

/** Width and height from a JPEG's start-of-frame segment (ITU T.81 §B.2.2), if it has one. */
export function jpegSize(b: Buffer): { width: number; height: number } | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1] ?? 0;
    const length = b.readUInt16BE(i + 2);
    // SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  return undefined;
}

/** GET of the camera's snapshot URI (ONVIF GetSnapshotUri) with HTTP Basic auth. */
export function fetchSnapshot(uri: string, username: string, password: string, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const u = new URL(uri);
    const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = request(
      u,
      {
        method: 'GET',
        headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          bytes += c.length;
          if (bytes <= 8 * 1024 * 1024) chunks.push(c);
        });
        res.on('end', () => {
          if (res.statusCode === 401 || res.statusCode === 403) {
            reject(
              new CameraError(CameraFault.AUTH, `snapshot: the camera refused the credentials (${res.statusCode})`),
            );
          } else if (res.statusCode !== 200) {
            reject(new CameraError(CameraFault.STREAM_DOWN, `snapshot: HTTP ${res.statusCode}`));
          } else resolve(Buffer.concat(chunks));
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () =>
      req.destroy(new CameraError(CameraFault.UNREACHABLE, `snapshot: no answer within ${timeoutMs} ms`)),
    );
    req.on('error', (err) =>
      reject(err instanceof CameraError ? err : new CameraError(CameraFault.UNREACHABLE, `snapshot: ${err.message}`)),
    );
    req.end();
  });
}

const scaleArgs = (maxWidth: number, quality: number) => [
  '-vf',
  `scale='min(iw,${maxWidth})':-2`,
  '-q:v',
  String(quality),
  '-f',
  'mjpeg',
  'pipe:1',
];

/** Re-encodes a JPEG smaller (narrower, then coarser) until it fits a snapshot message. */
export async function shrinkJpeg(ffmpeg: string, jpeg: Buffer, maxWidth: number, timeoutMs: number): Promise<Jpeg> {
  let out = jpeg;
  for (const quality of [5, 9, 14, 20]) {
    const size = jpegSize(out);
    if (out.length <= MAX_SNAPSHOT_IMAGE_BYTES && size && size.width <= maxWidth) return { data: out, ...size };
    const r = await runMediaProcess(
      ffmpeg,
      [
        '-hide_banner',
        '-loglevel',
        'error',
        '-f',
        'image2pipe',
        '-i',
        'pipe:0',
        '-frames:v',
        '1',
        ...scaleArgs(maxWidth, quality),
      ],
      { timeoutMs, stdin: jpeg },
    );
    if (r.code !== 0 || r.stdout.length === 0) {
      throw new CameraError(
        CameraFault.BAD_RESPONSE,
        `snapshot is not a picture ffmpeg can read: ${r.stderr.trim().slice(-200)}`,
      );
    }
    out = r.stdout;
  }
  const size = jpegSize(out);
  if (out.length > MAX_SNAPSHOT_IMAGE_BYTES) {
    throw new CameraError(CameraFault.BAD_RESPONSE, `snapshot still ${out.length} bytes after re-encoding`);
  }
  return { data: out, ...(size ?? {}) };
}

/** One frame of the stream as a JPEG, for cameras without a snapshot URI (or a failing one). */
export async function grabFrame(opts: {
  ffmpeg: string;
  url: string;
  maxWidth: number;
  timeoutMs: number;
  secrets: readonly string[];
}): Promise<Buffer> {
  const r = await runMediaProcess(
    opts.ffmpeg,
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-rtsp_transport',
      'tcp',
      '-timeout',
      String(opts.timeoutMs * 1000),
      '-i',
      opts.url,
      '-frames:v',
      '1',
      ...scaleArgs(opts.maxWidth, 5),
    ],
    { timeoutMs: opts.timeoutMs + 1000 },
  );
  if (r.code !== 0 || r.stdout.length === 0) {
    throw classifyStreamFailure(redactSecrets(r.stderr, opts.secrets), r, opts.timeoutMs);
  }
  return r.stdout;
}
