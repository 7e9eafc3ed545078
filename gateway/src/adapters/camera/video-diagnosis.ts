import type { DiagnosisThresholds } from '../../config/camera-adapter-config.js';
import { CameraError, CameraFault } from './camera-error.js';
import { runMediaProcess } from './media-process.js';
import { classifyStreamFailure, redactSecrets } from './rtsp-url.js';

/** What ffmpeg's filters measured over a few seconds of a camera's picture. */
export interface PictureMeasures {
  frames: number;
  /** Mean luma (signalstats YAVG, 0–255; black ≈ 16, a normal scene ≈ 100–130). */
  luma: number;
  /** Mean luma entropy, bits (entropy filter, normal mode). */
  entropy: number;
  /** Mean `blurdetect` value (larger is blurrier); undefined on a flat picture, which has no edges. */
  blur: number | undefined;
  /** `blackdetect` found a black stretch at least its minimum duration long. */
  black: boolean;
  /** `freezedetect` found a frozen stretch at least its minimum duration long. */
  frozen: boolean;
}

export interface PictureVerdict {
  black: boolean;
  frozen: boolean;
  dark: boolean;
  bright: boolean;
  blurred: boolean;
  occluded: boolean;
}

/**
 * The filter chain: every measure in one decode of the stream (ffmpeg 5.1's filters, options as
 * in shared/DOMAIN.md). `metadata=print` writes each frame's measures to stdout, `blackdetect`
 * and `freezedetect` log their stretches on stderr.
 */
export function diagnosisFilters(t: DiagnosisThresholds): string {
  return [
    `blackdetect=d=${t.black.minDurationS}:pic_th=${t.black.pictureRatio}:pix_th=${t.black.pixelRatio}`,
    `freezedetect=n=${t.frozen.noise}:d=${t.frozen.minDurationS}`,
    'signalstats',
    'entropy',
    'blurdetect',
    // ffmpeg's stdout (quoted: `:` separates filter options). Not /dev/stdout: Node's pipes are
    // sockets, which cannot be opened by name.
    "metadata=mode=print:file='pipe\\:1'",
  ].join(',');
}

/** Reads ffmpeg's output of {@link diagnosisFilters}. */
export function parseMeasures(stdout: string, stderr: string): PictureMeasures {
  let frames = 0;
  let luma = 0;
  let entropy = 0;
  let blur = 0;
  let blurFrames = 0;
  for (const line of stdout.split('\n')) {
    if (line.startsWith('frame:')) frames++;
    else if (line.startsWith('lavfi.signalstats.YAVG=')) luma += Number(line.slice(23)) || 0;
    else if (line.startsWith('lavfi.entropy.entropy.normal.Y=')) entropy += Number(line.slice(31)) || 0;
    else if (line.startsWith('lavfi.blur=')) {
      const v = Number(line.slice(11));
      if (Number.isFinite(v)) {
        blur += v;
        blurFrames++;
      }
    }
  }
  return {
    frames,
    luma: frames ? luma / frames : 0,
    entropy: frames ? entropy / frames : 0,
    blur: blurFrames ? blur / blurFrames : undefined,
    black: /black_start:/.test(stderr),
    frozen: /freezedetect\.freeze_start/.test(stderr),
  };
}

/**
 * The verdict on measures. Occlusion compares the picture's entropy with the camera's own
 * reference (its first healthy picture): a covered lens loses most of its detail, a dull scene
 * only some. Without a reference yet, only the absolute floor applies.
 */
export function judgePicture(m: PictureMeasures, t: DiagnosisThresholds, referenceEntropy?: number): PictureVerdict {
  const dark = !m.black && m.luma < t.darkBelowLuma;
  const bright = m.luma > t.brightAboveLuma;
  const occluded =
    !m.black &&
    !dark &&
    (m.entropy < t.occlusionMinEntropy ||
      (referenceEntropy !== undefined && m.entropy < referenceEntropy * t.occlusionEntropyRatio));
  return {
    black: m.black,
    frozen: m.frozen,
    dark,
    bright,
    blurred: !occluded && !m.black && m.blur !== undefined && m.blur > t.blurAbove,
    occluded,
  };
}

/** Decodes `seconds` of the stream through the diagnosis filters. */
export async function measurePicture(opts: {
  ffmpeg: string;
  url: string;
  seconds: number;
  timeoutMs: number;
  thresholds: DiagnosisThresholds;
  secrets: readonly string[];
  /** Kills ffmpeg (a fire alarm's video review needs the process slot). */
  signal?: AbortSignal;
}): Promise<PictureMeasures> {
  const args = [
    '-hide_banner',
    '-nostdin',
    '-nostats',
    '-loglevel',
    'info',
    '-rtsp_transport',
    'tcp',
    '-timeout',
    String(opts.timeoutMs * 1000),
    '-i',
    opts.url,
    '-t',
    String(opts.seconds),
    '-an',
    '-sn',
    '-dn',
    '-vf',
    diagnosisFilters(opts.thresholds),
    '-f',
    'null',
    '-',
  ];
  const limit = opts.timeoutMs + opts.seconds * 1000 + 3000;
  const r = await runMediaProcess(opts.ffmpeg, args, {
    timeoutMs: limit,
    maxStdout: 4 * 1024 * 1024,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const stderr = redactSecrets(r.stderr, opts.secrets);
  if (r.code !== 0 || r.timedOut) throw classifyStreamFailure(stderr, r, opts.timeoutMs);
  const m = parseMeasures(r.stdout.toString('utf8'), stderr);
  if (m.frames === 0) throw new CameraError(CameraFault.STREAM_TIMEOUT, 'the stream sent no video frames');
  return m;
}
