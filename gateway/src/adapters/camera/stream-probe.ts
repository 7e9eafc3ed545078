import { CameraError, CameraFault } from './camera-error.js';
import { runMediaProcess } from './media-process.js';
import { classifyStreamFailure, redactSecrets } from './rtsp-url.js';

export interface StreamProbe {
  codec: string;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
}

interface FfprobeOutput {
  streams?: { codec_name?: string; width?: number; height?: number; avg_frame_rate?: string }[];
  packets?: { size?: string; pts_time?: string }[];
}

const rate = (r: string | undefined): number => {
  const [n, d] = (r ?? '').split('/').map(Number);
  return n && d ? n / d : 0;
};

/**
 * ffprobe reads `seconds` of the stream (RTP over RTSP/TCP) without decoding it: codec and
 * resolution from the stream, frame rate and bitrate from the packets themselves (an RTSP
 * session has no container bitrate, and its SDP frame rate is often missing).
 */
export async function probeStream(opts: {
  ffprobe: string;
  url: string;
  seconds: number;
  timeoutMs: number;
  secrets: readonly string[];
  /** Kills ffprobe (a fire alarm's video review needs the process slot). */
  signal?: AbortSignal;
}): Promise<StreamProbe> {
  const args = [
    '-v',
    'error',
    '-rtsp_transport',
    'tcp',
    '-timeout',
    String(opts.timeoutMs * 1000),
    '-read_intervals',
    `%+${opts.seconds}`,
    '-select_streams',
    'v:0',
    '-show_entries',
    'stream=codec_name,width,height,avg_frame_rate:packet=size,pts_time',
    '-of',
    'json',
    opts.url,
  ];
  const limit = opts.timeoutMs + opts.seconds * 1000 + 2000;
  const r = await runMediaProcess(opts.ffprobe, args, {
    timeoutMs: limit,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  if (r.code !== 0 || r.timedOut) {
    throw classifyStreamFailure(redactSecrets(r.stderr, opts.secrets), r, opts.timeoutMs);
  }
  let out: FfprobeOutput;
  try {
    out = JSON.parse(r.stdout.toString('utf8')) as FfprobeOutput;
  } catch {
    throw new CameraError(CameraFault.BAD_RESPONSE, 'ffprobe printed no JSON');
  }
  const s = out.streams?.[0];
  if (!s?.codec_name || !s.width || !s.height) {
    throw new CameraError(CameraFault.STREAM_DOWN, 'the stream has no video track');
  }
  const packets = out.packets ?? [];
  const times = packets.map((p) => Number(p.pts_time)).filter((t) => Number.isFinite(t));
  const bytes = packets.reduce((sum, p) => sum + (Number(p.size) || 0), 0);
  if (times.length < 2) throw new CameraError(CameraFault.STREAM_TIMEOUT, 'the stream sent no video frames');
  const span = Math.max(...times) - Math.min(...times);
  const fps = span > 0 ? (times.length - 1) / span : rate(s.avg_frame_rate);
  // The span covers n - 1 frame intervals; the bytes are n frames': one more interval.
  const seconds = span + (fps > 0 ? 1 / fps : 0);
  return {
    codec: s.codec_name.slice(0, 16),
    width: s.width,
    height: s.height,
    fps: Math.round(fps * 10) / 10,
    bitrateKbps: seconds > 0 ? Math.round((bytes * 8) / seconds / 1000) : 0,
  };
}
