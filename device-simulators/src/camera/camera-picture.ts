import { z } from 'zod';

/**
 * What a simulated camera does wrong, if anything. The picture faults are the video quality
 * diagnosis categories (视频质量诊断, shared/DOMAIN.md); the others are what a gateway meets in an
 * institution: a camera unplugged, its password changed, its encoder down or hung, a firmware that
 * answers ONVIF calls with broken XML.
 */
export const CameraSimFault = z.enum([
  'none',
  /** Neither ONVIF nor RTSP answers (connection refused). */
  'offline',
  /** The camera refuses the gateway's credentials (its password was changed). */
  'wrong-password',
  /** ONVIF answers; the RTSP mount is gone (404). */
  'stream-down',
  /** The RTSP port accepts the connection and never answers: a stream that never starts. */
  'stream-stall',
  'frozen',
  'black',
  'dark',
  'bright',
  'blurred',
  /** The lens covered (a bag, a hand, paint): a flat picture. */
  'occluded',
  /** Every ONVIF answer is truncated XML. */
  'malformed-soap',
]);
export type CameraSimFault = z.infer<typeof CameraSimFault>;

export interface PictureFormat {
  width: number;
  height: number;
  fps: number;
  /** H.264 target bitrate, kbit/s. */
  bitrateKbps: number;
}

export const DEFAULT_PICTURE: PictureFormat = { width: 640, height: 360, fps: 15, bitrateKbps: 512 };

/** Faults that change the picture; the others leave it as it is (or have none to show). */
const PICTURE_FAULTS = new Set<CameraSimFault>(['frozen', 'black', 'dark', 'bright', 'blurred', 'occluded']);
export const isPictureFault = (f: CameraSimFault) => PICTURE_FAULTS.has(f);

/**
 * The GStreamer pipeline of a camera's RTSP mount (gst-launch syntax, for the RTSP server's media
 * factory): `videotestsrc` (SMPTE bars scrolling sideways, so consecutive frames differ) → the
 * fault's look → x264 (baseline, zero latency, a key frame every second) → RTP. The looks were
 * tuned against ffmpeg 5.1's filters with the thresholds of shared/DOMAIN.md: dark ≈ YAVG 18 but
 * not black by `blackdetect`, bright ≈ YAVG 230, blurred ≈ `blurdetect` 23 (sharp ≈ 3.6),
 * occluded = entropy 0.
 */
export function streamPipeline(fault: CameraSimFault, f: PictureFormat = DEFAULT_PICTURE): string {
  const caps = `video/x-raw,width=${f.width},height=${f.height},framerate=${f.fps}/1`;
  const moving = 'videotestsrc is-live=true pattern=smpte horizontal-speed=2';
  let source: string;
  switch (fault) {
    case 'frozen':
      // Not SMPTE bars standing still: GStreamer's have a patch of moving noise.
      source = `videotestsrc is-live=true pattern=colors ! ${caps}`;
      break;
    case 'black':
      source = `videotestsrc is-live=true pattern=black ! ${caps}`;
      break;
    case 'dark':
      source = `${moving} ! ${caps} ! videobalance brightness=-0.3 contrast=0.55`;
      break;
    case 'bright':
      source = `${moving} ! ${caps} ! videobalance brightness=0.7 contrast=0.4`;
      break;
    case 'blurred':
      // Down to 1/20 and back up (bilinear): what an out-of-focus or fogged lens gives.
      source = `${moving} ! video/x-raw,width=${Math.max(8, Math.round(f.width / 20))},height=${Math.max(8, Math.round(f.height / 20))},framerate=${f.fps}/1 ! videoscale ! ${caps}`;
      break;
    case 'occluded':
      source = `videotestsrc is-live=true pattern=solid-color foreground-color=0xff706050 ! ${caps}`;
      break;
    default:
      source = `${moving} ! ${caps}`;
  }
  return (
    `${source} ! videoconvert ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=${f.bitrateKbps} ` +
    `key-int-max=${f.fps} ! rtph264pay name=pay0 pt=96 config-interval=1`
  );
}

/** Seconds of picture a camera's snapshot URI cycles through (one JPEG a second). */
export const SNAPSHOT_LOOP_S = 20;

/**
 * ffmpeg arguments that write the JPEGs a camera's snapshot URI (ONVIF GetSnapshotUri) serves, one
 * per second of picture for {@link SNAPSHOT_LOOP_S} seconds, to stdout: `testsrc2` at one frame a
 * second, so two snapshots a few seconds apart differ like two frames of a live picture. Rendered
 * once per look and served from memory: a camera answers a snapshot in well under a second, and
 * the simulator must not be what a video review waits for.
 */
export function snapshotFramesArgs(fault: CameraSimFault, f: PictureFormat = DEFAULT_PICTURE): string[] {
  const size = `${f.width}x${f.height}`;
  let source = `testsrc2=size=${size}:rate=1`;
  let look = 'null';
  switch (fault) {
    case 'black':
      source = `color=c=black:size=${size}:rate=1`;
      break;
    case 'occluded':
      source = `color=c=0x706050:size=${size}:rate=1`;
      break;
    case 'dark':
      look = 'eq=brightness=-0.35:contrast=0.5';
      break;
    case 'bright':
      look = 'eq=brightness=0.6:contrast=0.5';
      break;
    case 'blurred':
      look = 'gblur=sigma=12';
      break;
    default:
  }
  return [
    '-hide_banner',
    '-loglevel',
    'error',
    '-f',
    'lavfi',
    '-i',
    source,
    '-frames:v',
    fault === 'frozen' ? '1' : String(SNAPSHOT_LOOP_S),
    '-vf',
    look,
    '-q:v',
    '5',
    '-f',
    'image2pipe',
    '-c:v',
    'mjpeg',
    'pipe:1',
  ];
}

/** Splits ffmpeg's image2pipe output into its JPEGs (each from SOI `FFD8` to EOI `FFD9`). */
export function splitJpegs(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = data.indexOf(Buffer.from([0xff, 0xd8]));
  while (start >= 0) {
    // Inside entropy-coded data 0xFF is stuffed (FF 00), so FF D9 is the end of this picture.
    const end = data.indexOf(Buffer.from([0xff, 0xd9]), start + 2);
    if (end < 0) break;
    out.push(data.subarray(start, end + 2));
    start = data.indexOf(Buffer.from([0xff, 0xd8]), end + 2);
  }
  return out;
}
