import { SegmentId } from '@anlian/protocol';
import { z } from 'zod';

/**
 * Video quality diagnosis thresholds (视频质量诊断). Defaults from shared/DOMAIN.md (vendor
 * defaults and ffmpeg 5.1's filter options); every one is configurable.
 */
export const DiagnosisThresholds = z
  .object({
    /** `blackdetect`: black for at least this long (s), ≥ `pictureRatio` of pixels darker than `pixelRatio`. */
    black: z
      .object({
        minDurationS: z.number().min(0.1).max(60).default(2),
        pictureRatio: z.number().min(0).max(1).default(0.98),
        pixelRatio: z.number().min(0).max(1).default(0.1),
      })
      .strict()
      .prefault({}),
    /** `freezedetect`: frames alike within `noise` (ratio) for at least this long (s). */
    frozen: z
      .object({
        noise: z.number().min(0).max(1).default(0.001),
        minDurationS: z.number().min(0.1).max(60).default(2),
      })
      .strict()
      .prefault({}),
    /** `signalstats` mean luma (YAVG, 0–255): below is too dark, above too bright. */
    darkBelowLuma: z.number().min(0).max(255).default(30),
    brightAboveLuma: z.number().min(0).max(255).default(220),
    /** `blurdetect` mean (larger is blurrier): a sharp picture measures ~2–5. */
    blurAbove: z.number().min(0).max(1000).default(12),
    /**
     * Occlusion: luma entropy (`entropy`, bits) below this share of the camera's own reference
     * — the entropy of its first healthy picture — or below `occlusionMinEntropy` outright.
     */
    occlusionEntropyRatio: z.number().min(0).max(1).default(0.4),
    occlusionMinEntropy: z.number().min(0).max(8).default(1),
  })
  .strict();
export type DiagnosisThresholds = z.infer<typeof DiagnosisThresholds>;

/** A zone as fire events name it, `building floor room` (主楼 3F 东走廊); a camera covers a zone and every zone under it. */
const ZonePrefix = z.string().min(1).max(64);

export const CameraEntry = z
  .object({
    /** The camera's device id (a `camera` entry of `devices`). */
    device: SegmentId,
    /** The ONVIF device service, e.g. `http://192.168.1.64/onvif/device_service`. */
    url: z.url({ protocol: /^https?$/ }).optional(),
    /**
     * Or the camera's WS-Discovery identity (EndpointReference, `urn:uuid:…`, as `discovery`
     * finds it): its address is then whatever it answers from, followed when DHCP moves it.
     */
    endpoint: z.string().min(1).max(128).optional(),
    username: z.string().min(1).max(64),
    /** Exactly one of `password` or `passwordFile`; never logged. */
    password: z.string().min(1).max(256).optional(),
    passwordFile: z.string().min(1).optional(),
    /** Zones the camera sees, for video review of fire alarms (视频复核): `主楼 3F` covers `主楼 3F 东走廊`. */
    covers: z.array(ZonePrefix).max(32).default([]),
    /** Media profile to watch; default the camera's first. */
    profile: z.string().min(1).max(64).optional(),
  })
  .strict()
  .refine((c) => (c.password === undefined) !== (c.passwordFile === undefined), {
    message: 'give exactly one of password or passwordFile',
    path: ['password'],
  })
  .refine((c) => c.url !== undefined || c.endpoint !== undefined, {
    message: 'give url, or endpoint (found by discovery)',
    path: ['url'],
  });
export type CameraEntry = z.infer<typeof CameraEntry>;

export const CameraAdapterConfig = z
  .object({
    type: z.literal('camera'),
    name: z.string().min(1).max(64).default('cameras'),
    cameras: z.array(CameraEntry).min(1).max(256),
    /** GB/T 28181: keepalive every 60 s … */
    keepaliveS: z.number().int().min(5).max(3600).default(60),
    /** … and offline after 3 missed keepalives. */
    offlineAfterMisses: z.number().int().min(1).max(100).default(3),
    /** Every camera's stream is probed and diagnosed at least this often. */
    diagnoseEveryS: z.number().int().min(10).max(86_400).default(300),
    /** Seconds of stream each diagnosis reads. */
    sampleS: z.number().min(1).max(30).default(4),
    /** ffmpeg/ffprobe processes at a time, for the whole gateway (a gateway box has a core or two). */
    maxFfmpeg: z.number().int().min(1).max(8).default(2),
    /** One ONVIF request's time limit. */
    onvifTimeoutMs: z.number().int().min(200).max(60_000).default(5000),
    /** RTSP connect and read time limit: a stream that does not start within it is `stream_timeout`. */
    streamTimeoutMs: z.number().int().min(500).max(60_000).default(8000),
    /**
     * After the camera refused the credentials, ask again only this often: cameras lock an
     * account after a few failed logins, and the gateway must not be the one that locks it.
     */
    authRetryS: z.number().int().min(10).max(86_400).default(600),
    thresholds: DiagnosisThresholds.prefault({}),
    /**
     * WS-Discovery (ONVIF Core §7.3): Probes for ONVIF cameras on the LAN. Cameras configured by
     * `endpoint` get their address from it; cameras that answer and are not configured are logged
     * and named in the adapter's health, for whoever installs the gateway.
     */
    discovery: z
      .object({
        enabled: z.boolean().default(false),
        /** The WS-Discovery multicast group, or a unicast address where multicast does not pass. */
        address: z.ipv4().default('239.255.255.250'),
        port: z.number().int().min(1).max(65_535).default(3702),
        /** The local interface address to probe from (multicast leaves on it). */
        interface: z.ipv4().optional(),
        /** A Probe this often (and at start). */
        everyS: z.number().int().min(10).max(86_400).default(300),
        /** How long answers are collected after a Probe. */
        timeoutMs: z.number().int().min(200).max(30_000).default(3000),
      })
      .strict()
      .prefault({}),
    /** Video review (视频复核): snapshots of the cameras covering a fire alarm's zone. */
    review: z
      .object({
        enabled: z.boolean().default(true),
        /** When to take each snapshot after the alarm, ms: at once and a few seconds later. */
        delaysMs: z.array(z.number().int().min(0).max(120_000)).min(1).max(5).default([0, 5000]),
        /** Snapshots are scaled to at most this width before they travel. */
        maxWidth: z.number().int().min(160).max(3840).default(960),
        /** A snapshot that takes longer is given up. */
        timeoutMs: z.number().int().min(500).max(60_000).default(5000),
        /**
         * A snapshot is sent once the county has acknowledged the fire alarm, or after this long
         * (the uplink is down: it then waits in the queue behind the alarm). The pictures never
         * share the uplink, or the county's first moments with the alarm, with the alarm itself.
         */
        holdForAlarmAckMs: z.number().int().min(0).max(60_000).default(3000),
      })
      .strict()
      .prefault({}),
    ffmpeg: z.string().min(1).default('ffmpeg'),
    ffprobe: z.string().min(1).default('ffprobe'),
  })
  .strict()
  .superRefine((c, ctx) => {
    c.cameras.forEach((cam, i) => {
      if (cam.url === undefined && !c.discovery.enabled) {
        ctx.addIssue({
          code: 'custom',
          message: 'a camera known only by its endpoint needs discovery.enabled',
          path: ['cameras', i, 'endpoint'],
        });
      }
    });
  });
export type CameraAdapterConfig = z.infer<typeof CameraAdapterConfig>;
