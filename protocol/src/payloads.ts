import { z } from 'zod';
import { SegmentId } from './ids.js';

/** Version of the payload schemas in this file; every payload carries it as `v`. */
export const SCHEMA_VERSION = 1 as const;

/** Largest payload the county accepts, in bytes. Telemetry is a few hundred bytes. */
export const MAX_PAYLOAD_BYTES = 16 * 1024;

// Device clocks drift and some boot at 1970; anything between these is stored as sent,
// and ingest measures the skew against its own clock instead of rejecting the message.
const MIN_TS = Date.UTC(2000, 0, 1);
const MAX_TS = Date.UTC(2100, 0, 1);

/** Device time in milliseconds since the Unix epoch (UTC). */
export const DeviceTime = z.number().int().min(MIN_TS).max(MAX_TS);

/**
 * The envelope every gateway payload carries: schema version, device time and the
 * per-gateway sequence number that lets the county side drop QoS 1 redeliveries
 * [MQTT-4.3.2-2: a QoS 1 message may arrive more than once] and detect gaps.
 */
export const Envelope = z.object({
  v: z.literal(SCHEMA_VERSION),
  ts: DeviceTime,
  seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /**
   * The simulation run this message belongs to, when a simulator does not run in real time (a
   * speed other than 1, or a start other than now): its `ts` is simulated time. The county keeps
   * such points apart (InfluxDB tag `sim_run`) or refuses them, and nothing live takes them
   * (design.md "Simulated time"; issue 13). Real gateways never set it.
   */
  simRun: SegmentId.optional(),
});

/** A simulation run's id (`Envelope.simRun`): the id alphabet, one value per run (a bounded tag). */
export const SimRunId = SegmentId;
export type Envelope = z.infer<typeof Envelope>;

/**
 * The county drill a device message belongs to (issue 13): set by a gateway in drill mode
 * (`cmd/drill-start` … `cmd/drill-stop`) on its events, and by the simulator on what its drill
 * scenario produces. The county tags an alert as a drill only when its message carries the id of
 * a drill running for that institution; anything else is real. The id alphabet, so it can travel
 * in topics and logs unquoted.
 */
export const DrillId = SegmentId;

/** What every device message (telemetry and events) may carry besides the envelope. */
const deviceFields = { drillId: DrillId.optional() };

const Percent = z.number().min(0).max(100);
/** Received signal strength in dBm (LoRa, NB-IoT, Wi-Fi). */
const SignalDbm = z.number().min(-150).max(0);
const Note = z.string().max(500);

// ---------------------------------------------------------------- gateway

export const GatewayState = z.enum(['online', 'offline']);
export type GatewayState = z.infer<typeof GatewayState>;

/** `…/status`, retained. The last will carries `offline` with reason `will`. */
export const StatusPayload = Envelope.extend({
  state: GatewayState,
  reason: z.enum(['connect', 'shutdown', 'will', 'uplink-lost']).optional(),
}).strict();
export type StatusPayload = z.infer<typeof StatusPayload>;

export const AdapterHealth = z
  .object({
    name: z.string().min(1).max(64),
    ok: z.boolean(),
    detail: Note.optional(),
  })
  .strict();

/** `…/heartbeat`, every 30 s: gateway health. */
export const HeartbeatPayload = Envelope.extend({
  uptimeS: z.number().min(0),
  queueDepth: z.number().int().min(0),
  adapters: z.array(AdapterHealth).max(64).default([]),
  version: z.string().max(64).optional(),
}).strict();
export type HeartbeatPayload = z.infer<typeof HeartbeatPayload>;

// ---------------------------------------------------------------- telemetry

/** Smoke/heat detectors and fire panels (智能烟感、消防主机). */
export const FireTelemetry = Envelope.extend({
  ...deviceFields,
  kind: z.literal('fire'),
  battery: Percent.optional(),
  signal: SignalDbm.optional(),
  /** Heat detectors report their temperature in °C. */
  temperature: z.number().min(-40).max(200).optional(),
  /** Smoke obscuration in dB/m, for detectors that report it. */
  smoke: z.number().min(0).max(10).optional(),
}).strict();

/**
 * What a pressure gauge is on. Dry powder extinguishers: green 1.0–1.4 MPa (GB 50444);
 * water: sprinkler worst point ≥ 0.05 MPa, hydrant static/dynamic per GB 50974.
 */
export const PressureMedium = z.enum(['dry_powder', 'sprinkler', 'hydrant_static', 'hydrant_dynamic']);
export type PressureMedium = z.infer<typeof PressureMedium>;

/** Extinguisher, hydrant and sprinkler pressure gauges. */
export const ExtinguisherTelemetry = Envelope.extend({
  ...deviceFields,
  kind: z.literal('extinguisher'),
  medium: PressureMedium.default('dry_powder'),
  /** Gauge pressure in MPa. */
  pressure: z.number().min(0).max(10),
  temperature: z.number().min(-40).max(120).optional(),
  battery: Percent.optional(),
  signal: SignalDbm.optional(),
}).strict();

/** Kitchen heat (GB 4716 / EN 54-5 class A1R) and optional gas (GB 15322) sensors. */
export const KitchenTelemetry = Envelope.extend({
  ...deviceFields,
  kind: z.literal('kitchen'),
  /** °C */
  temperature: z.number().min(-40).max(400),
  /** Combustible gas in % of the lower explosive limit. */
  gasLel: Percent.optional(),
  battery: Percent.optional(),
  signal: SignalDbm.optional(),
}).strict();

/** Camera health as seen by the gateway's ONVIF + ffprobe checks (视频质量诊断). */
export const CameraTelemetry = Envelope.extend({
  ...deviceFields,
  kind: z.literal('camera'),
  online: z.boolean(),
  streamOk: z.boolean(),
  fps: z.number().min(0).max(240).optional(),
  bitrateKbps: z.number().min(0).max(1_000_000).optional(),
  width: z.number().int().min(1).max(16384).optional(),
  height: z.number().int().min(1).max(16384).optional(),
  frozen: z.boolean().optional(),
  black: z.boolean().optional(),
  /** Device time of the last decoded frame. */
  lastFrameTs: DeviceTime.optional(),
  /** Video codec of the stream as ffprobe names it (`h264`, `hevc`). */
  codec: z.string().min(1).max(16).optional(),
  /** Mean luma below the dark threshold (signalstats YAVG < 30 of 255 by default), not black. */
  dark: z.boolean().optional(),
  /** Mean luma above the bright threshold (YAVG > 220 by default). */
  bright: z.boolean().optional(),
  /** ffmpeg `blurdetect` above its threshold. */
  blurred: z.boolean().optional(),
  /** Luma entropy collapsed against the camera's own reference: the lens is covered. */
  occluded: z.boolean().optional(),
  /** Measures behind the verdicts: mean luma (0–255), luma entropy (bits), blurdetect mean. */
  luma: z.number().min(0).max(255).optional(),
  entropy: z.number().min(0).max(16).optional(),
  blur: z.number().min(0).max(10_000).optional(),
  /** Camera clock minus the gateway's (ONVIF GetSystemDateAndTime), ms. */
  clockDriftMs: z.number().int().min(-1e12).max(1e12).optional(),
  /**
   * Why the camera could not be checked: `auth` (credentials refused), `unreachable` (no ONVIF
   * answer), `bad_response` (not an ONVIF answer), `stream_down`, `stream_timeout`.
   */
  fault: z.enum(['auth', 'unreachable', 'bad_response', 'stream_down', 'stream_timeout']).optional(),
}).strict();

/**
 * Electrical fire monitoring (电气火灾监控, GB 14287; GB 50116-2013 §9.2.3): one device per
 * monitored circuit (回路) — a multi-channel monitor is one device per channel.
 */
export const ElectricalTelemetry = Envelope.extend({
  ...deviceFields,
  kind: z.literal('electrical'),
  /** Residual (leakage) current in mA; natural leakage is 100–200 mA, alarms are set at 300–500. */
  residualCurrent: z.number().min(0).max(100_000).optional(),
  /** Cable or terminal temperature in °C. */
  cableTemperature: z.number().min(-40).max(300).optional(),
  battery: Percent.optional(),
  signal: SignalDbm.optional(),
}).strict();

export const TelemetryPayload = z.discriminatedUnion('kind', [
  FireTelemetry,
  ExtinguisherTelemetry,
  KitchenTelemetry,
  CameraTelemetry,
  ElectricalTelemetry,
]);
export type TelemetryPayload = z.infer<typeof TelemetryPayload>;
export type FireTelemetry = z.infer<typeof FireTelemetry>;
export type ExtinguisherTelemetry = z.infer<typeof ExtinguisherTelemetry>;
export type KitchenTelemetry = z.infer<typeof KitchenTelemetry>;
export type CameraTelemetry = z.infer<typeof CameraTelemetry>;
export type ElectricalTelemetry = z.infer<typeof ElectricalTelemetry>;

// ---------------------------------------------------------------- events

/**
 * Events every kind can raise. `offline`: the gateway lost its link to the device (a fire panel's
 * UITD connection dropped); `restore` follows when it is back.
 */
export const COMMON_EVENTS = ['fault', 'restore', 'test', 'tamper', 'offline'] as const;
/**
 * Fire detector / panel events, after the GB 26875.3 component status bits
 * (test, fire, fault, disabled, supervisory …).
 */
export const FireEventType = z.enum(['fire', 'supervisory', 'disabled', ...COMMON_EVENTS]);
export const ExtinguisherEventType = z.enum(['low_pressure', 'moved', ...COMMON_EVENTS]);
export const KitchenEventType = z.enum(['overheat', 'gas', ...COMMON_EVENTS]);
/** Video quality diagnosis categories that a camera check reports as discrete events. */
export const CameraEventType = z.enum([
  'signal_loss',
  'frozen',
  'black',
  'occlusion',
  'too_dark',
  'too_bright',
  'blurred',
  ...COMMON_EVENTS,
]);
/** Electrical fire monitoring alarms: residual current (`leakage`) and over-temperature (`overheat`). */
export const ElectricalEventType = z.enum(['leakage', 'overheat', ...COMMON_EVENTS]);

const eventFields = {
  ...deviceFields,
  /** Zone or loop/address on a fire panel, free text. */
  zone: z.string().max(64).optional(),
  detail: Note.optional(),
};

export const FireEvent = Envelope.extend({ kind: z.literal('fire'), event: FireEventType, ...eventFields }).strict();
export const ExtinguisherEvent = Envelope.extend({
  kind: z.literal('extinguisher'),
  event: ExtinguisherEventType,
  ...eventFields,
}).strict();
export const KitchenEvent = Envelope.extend({
  kind: z.literal('kitchen'),
  event: KitchenEventType,
  ...eventFields,
}).strict();
export const CameraEvent = Envelope.extend({
  kind: z.literal('camera'),
  event: CameraEventType,
  ...eventFields,
}).strict();

export const ElectricalEvent = Envelope.extend({
  kind: z.literal('electrical'),
  event: ElectricalEventType,
  ...eventFields,
}).strict();

export const EventPayload = z.discriminatedUnion('kind', [
  FireEvent,
  ExtinguisherEvent,
  KitchenEvent,
  CameraEvent,
  ElectricalEvent,
]);
export type EventPayload = z.infer<typeof EventPayload>;
export type EventType = EventPayload['event'];

/** True for the one event that must reach the center within 10 s ahead of everything else (GB 26875.1). */
export function isFireAlarm(e: EventPayload): boolean {
  return e.kind === 'fire' && e.event === 'fire';
}

// ---------------------------------------------------------------- snapshots

/**
 * Largest snapshot payload. Snapshots travel on the gateway's MQTT link (the broker's ACL already
 * confines a gateway to its own institution's topics, and its durable queue carries them across
 * an outage), so they must stay well under the brokers' packet limit (mosquitto.conf
 * `max_packet_size` 131072) and never hold the link long: ~90 KiB of JPEG is ~0.7 s on a
 * 1 Mbit/s 4G uplink.
 */
export const MAX_SNAPSHOT_PAYLOAD_BYTES = 124 * 1024;
/** Largest JPEG in a snapshot, before Base64. */
export const MAX_SNAPSHOT_IMAGE_BYTES = 90 * 1024;

/**
 * `…/device/{camera}/snapshot`: a picture from a camera that covers the zone of a fire alarm
 * (视频复核, video review), sent beside the alarm, never ahead of it.
 */
export const SnapshotPayload = Envelope.extend({
  kind: z.literal('camera'),
  /** The fire alarm it documents: detector and its event's device time. */
  cause: z
    .object({
      device: SegmentId,
      ts: DeviceTime,
      zone: z.string().max(64).optional(),
    })
    .strict(),
  /** 0 at the alarm, 1 a few seconds later, … */
  shot: z.number().int().min(0).max(9),
  contentType: z.literal('image/jpeg'),
  width: z.number().int().min(1).max(16384).optional(),
  height: z.number().int().min(1).max(16384).optional(),
  /** The JPEG, Base64. */
  data: z.base64().max(Math.ceil(MAX_SNAPSHOT_IMAGE_BYTES / 3) * 4),
}).strict();
export type SnapshotPayload = z.infer<typeof SnapshotPayload>;

// ---------------------------------------------------------------- commands

export const CommandName = z.enum(['ping', 'reload', 'snapshot', 'drill-start', 'drill-stop', 'duty-check']);
export type CommandName = z.infer<typeof CommandName>;

/** `…/cmd/{name}`: county → gateway. Not sequenced by the gateway; `id` correlates the reply. */
export const CommandPayload = z
  .object({
    v: z.literal(SCHEMA_VERSION),
    ts: DeviceTime,
    id: z.string().min(1).max(64),
    args: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();
export type CommandPayload = z.infer<typeof CommandPayload>;

/** `…/cmd/{name}/reply`: gateway → county. */
export const CommandReplyPayload = Envelope.extend({
  id: z.string().min(1).max(64),
  ok: z.boolean(),
  detail: Note.optional(),
  result: z.record(z.string(), z.unknown()).optional(),
}).strict();
export type CommandReplyPayload = z.infer<typeof CommandReplyPayload>;
