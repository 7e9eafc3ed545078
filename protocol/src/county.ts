import { z } from 'zod';
import { DeviceKind, SegmentId } from './ids.js';
import { PressureMedium } from './payloads.js';

/** Longitude/latitude in degrees (WGS84, as the county GeoJSON). */
export const Coordinates = z
  .object({
    lng: z.number().min(-180).max(180),
    lat: z.number().min(-90).max(90),
  })
  .strict();

export const DeviceLocation = z
  .object({
    building: z.string().min(1).max(64),
    floor: z.string().min(1).max(16),
    room: z.string().min(1).max(64),
  })
  .strict();

/** Default expected report interval per kind, in seconds; the absence rule uses k × this. */
export const DEFAULT_REPORT_INTERVAL_S: Record<DeviceKind, number> = {
  fire: 300,
  extinguisher: 300,
  kitchen: 60,
  // GB/T 28181: keepalive every 60 s.
  camera: 60,
  electrical: 300,
};

/**
 * A zone a camera sees, for the video review of fire alarms (视频复核): a whole building, a floor
 * of it, or one room. A fire alarm's zone is `building floor room`; the cameras whose zones contain
 * it take the snapshots.
 */
export const CameraCoverage = z
  .object({
    building: z.string().min(1).max(64),
    floor: z.string().min(1).max(16).optional(),
    room: z.string().min(1).max(64).optional(),
  })
  .strict()
  .refine((c) => c.room === undefined || c.floor !== undefined, {
    message: 'a room needs its floor',
    path: ['room'],
  });
export type CameraCoverage = z.infer<typeof CameraCoverage>;

/** A coverage as the gateway's `covers` prefixes and fire events' zones spell it: `主楼 3F 东走廊`. */
export function coverageZone(c: CameraCoverage): string {
  return [c.building, c.floor, c.room].filter((p) => p !== undefined).join(' ');
}

/** A device's own place as a zone (`building floor room`), what the gateway puts in its events. */
export function locationZone(l: z.infer<typeof DeviceLocation>): string {
  return `${l.building} ${l.floor} ${l.room}`.slice(0, 64);
}

export const DeviceConfig = z
  .object({
    id: SegmentId,
    kind: DeviceKind,
    name: z.string().min(1).max(128),
    /** What a pressure gauge is on; only for `extinguisher`. */
    medium: PressureMedium.optional(),
    location: DeviceLocation,
    /** Expected seconds between reports; defaults per kind. */
    reportIntervalS: z.number().int().min(1).max(86_400).optional(),
    /**
     * Cameras only: the zones it sees, whose fire alarms it takes snapshots of (视频复核).
     * Left out, a camera covers the room it is in.
     */
    covers: z.array(CameraCoverage).min(1).max(32).optional(),
  })
  .strict()
  .refine((d) => d.medium === undefined || d.kind === 'extinguisher', {
    message: 'medium is only for extinguisher devices',
    path: ['medium'],
  })
  .refine((d) => d.covers === undefined || d.kind === 'camera', {
    message: 'covers is only for camera devices',
    path: ['covers'],
  });
export type DeviceConfig = z.infer<typeof DeviceConfig>;

/** The zones a camera covers, as zone strings: its `covers`, or the room it is in. */
export function cameraCoverageZones(d: DeviceConfig): string[] {
  return d.covers ? d.covers.map(coverageZone) : [locationZone(d.location)];
}

/** `scrypt$N$r$p$salt$hash`, base64url parts; what the store keeps instead of a secret. */
export const SecretHash = z
  .string()
  .regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/, 'not a scrypt hash');

export const GatewayConfig = z
  .object({
    /** Globally unique; also the MQTT client id and username. */
    id: SegmentId,
    name: z.string().min(1).max(128).optional(),
    /**
     * The gateway's MQTT password in clear, for demo and drill counties only; it is hashed on
     * import and never stored or logged as is. Production files carry `secretHash` instead.
     */
    secret: z.string().min(12).max(256).optional(),
    secretHash: SecretHash.optional(),
    devices: z.array(DeviceConfig).max(5000).default([]),
  })
  .strict()
  .refine((g) => !(g.secret && g.secretHash), { message: 'give secret or secretHash, not both', path: ['secret'] });
export type GatewayConfig = z.infer<typeof GatewayConfig>;

export const ContactRole = z.enum(['manager', 'deputy', 'fire_safety', 'duty_officer']);
export type ContactRole = z.infer<typeof ContactRole>;

export const ContactConfig = z
  .object({
    id: SegmentId,
    name: z.string().min(1).max(64),
    role: ContactRole,
    /** Mainland mobile numbers, optionally with +86. */
    phone: z.string().regex(/^(\+86)?1[3-9]\d{9}$/, 'a mainland mobile number such as 13800138000'),
    wecomUserId: z.string().max(64).optional(),
    dingtalkUserId: z.string().max(64).optional(),
  })
  .strict();
export type ContactConfig = z.infer<typeof ContactConfig>;

export const InstitutionConfig = z
  .object({
    /** Globally unique. */
    id: SegmentId,
    name: z.string().min(1).max(128),
    address: z.string().min(1).max(256),
    location: Coordinates,
    beds: z.number().int().min(0).max(100_000),
    gateways: z.array(GatewayConfig).min(1).max(100),
    contacts: z.array(ContactConfig).max(100).default([]),
  })
  .strict();
export type InstitutionConfig = z.infer<typeof InstitutionConfig>;

export const CountyInfo = z
  .object({
    /** The county's own id in topics, e.g. `youyang`. */
    id: SegmentId,
    name: z.string().min(1).max(128),
    /** GB/T 2260 administrative division code, e.g. 500242. */
    adcode: z.string().regex(/^\d{6}$/, 'a six-digit administrative division code'),
    timezone: z.string().default('Asia/Shanghai'),
    /** Map centre for the wall screen. */
    center: Coordinates.optional(),
  })
  .strict();

/** A county file: what `anlian seed FILE` imports and the simulators drive. */
export const CountyConfig = z
  .object({
    $schema: z.string().optional(),
    $comment: z.string().optional(),
    county: CountyInfo,
    institutions: z.array(InstitutionConfig).max(10_000),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = (what: string) => {
      const ids = new Map<string, (string | number)[]>();
      return (id: string, path: (string | number)[]) => {
        const first = ids.get(id);
        if (first) {
          ctx.addIssue({ code: 'custom', message: `duplicate ${what} id "${id}" (first at ${first.join('.')})`, path });
        } else ids.set(id, path);
      };
    };
    const institution = seen('institution');
    const gateway = seen('gateway');
    c.institutions.forEach((inst, i) => {
      institution(inst.id, ['institutions', i, 'id']);
      const contact = seen('contact');
      inst.contacts.forEach((ct, k) => {
        contact(ct.id, ['institutions', i, 'contacts', k, 'id']);
      });
      inst.gateways.forEach((gw, j) => {
        gateway(gw.id, ['institutions', i, 'gateways', j, 'id']);
        const device = seen('device');
        gw.devices.forEach((d, k) => {
          device(d.id, ['institutions', i, 'gateways', j, 'devices', k, 'id']);
        });
      });
    });
  });
export type CountyConfig = z.infer<typeof CountyConfig>;
export type CountyConfigInput = z.input<typeof CountyConfig>;
