import { DeviceKind, PressureMedium, SegmentId } from '@anlian/protocol';
import { z } from 'zod';
import { CameraAdapterConfig } from './camera-adapter-config.js';
import { checkFirePanelDevices, Gb26875AdapterConfig } from './fire-panel-config.js';

const Port = z.number().int().min(0).max(65_535);
const Ms = (min: number, max: number) => z.number().int().min(min).max(max);

/** Which gateway this is: its topics are `anlian/v1/{county}/{institution}/{id}/…`. */
export const GatewayIdentityConfig = z
  .object({
    county: SegmentId,
    institution: SegmentId,
    /** Also the MQTT client id and username at the county broker. */
    id: SegmentId,
  })
  .strict();

export const CountyLinkConfig = z
  .object({
    /** `mqtt://host:1883`, `mqtts://host:8883` (TLS in production). */
    url: z.string().regex(/^(mqtts?|wss?):\/\/[^\s]+$/, 'an MQTT URL such as mqtts://county.example:8883'),
    /** The gateway's secret in clear; or `passwordFile` (preferred: the config file then holds no secret). */
    password: z.string().min(1).max(256).optional(),
    passwordFile: z.string().min(1).optional(),
    /** PEM file with the county's CA for `mqtts://` (default: the system's CAs). */
    caFile: z.string().min(1).optional(),
    keepaliveS: z.number().int().min(5).max(600).default(30),
    connectTimeoutMs: Ms(1000, 120_000).default(10_000),
    /** Reconnect backoff: doubles from `initialMs` to `maxMs`, ±20 % jitter so that a county's gateways do not reconnect in step. */
    reconnect: z
      .object({ initialMs: Ms(50, 600_000).default(1000), maxMs: Ms(100, 3_600_000).default(60_000) })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((c) => (c.password === undefined) !== (c.passwordFile === undefined), {
    message: 'give exactly one of password or passwordFile',
    path: ['password'],
  });
export type CountyLinkConfig = z.infer<typeof CountyLinkConfig>;

export const QueueConfig = z
  .object({
    /**
     * Bound of the on-disk queue. Past `thinAbovePercent` of it telemetry is thinned; at the bound
     * the oldest telemetry segment is dropped. Events are never dropped (they may exceed it).
     */
    maxBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(256 * 1024 * 1024),
    thinAbovePercent: z.number().min(10).max(100).default(80),
    /** While thinning, keep one of every N telemetry readings of each device. */
    thinKeepEvery: z.number().int().min(2).max(1000).default(10),
    segmentBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(256 * 1024 * 1024)
      .default(4 * 1024 * 1024),
    /**
     * Telemetry is written to the file before the sensor is acknowledged (it survives SIGKILL)
     * and fsync'd this often (a power cut loses at most this much). 0: fsync every write.
     * Events are always fsync'd before the sensor is acknowledged.
     */
    telemetryFsyncMs: Ms(0, 60_000).default(1000),
  })
  .strict();
export type QueueConfig = z.infer<typeof QueueConfig>;

export const ReplayConfig = z
  .object({
    /** Messages per second to the county, so that a backlog does not flood it. Fire alarms are exempt. */
    ratePerS: z.number().min(1).max(1_000_000).default(500),
    /** Token bucket depth: how many may go at once after a quiet spell. Default: one second's worth. */
    burst: z.number().int().min(1).max(1_000_000).optional(),
    /** QoS 1 messages sent and not yet acknowledged (PUBACK). */
    inflight: z.number().int().min(1).max(65_535).default(100),
  })
  .strict();

export const DeviceEntry = z
  .object({
    id: SegmentId,
    kind: DeviceKind,
    /** Pressure gauges: what they measure (default dry powder). */
    medium: PressureMedium.optional(),
    /** Put on its events when the sensor does not say (e.g. `主楼 3F 东走廊`). */
    zone: z.string().max(64).optional(),
  })
  .strict()
  .refine((d) => d.medium === undefined || d.kind === 'extinguisher', {
    message: 'medium is only for extinguisher devices',
    path: ['medium'],
  });
export type DeviceEntry = z.infer<typeof DeviceEntry>;

/** One topic pattern on the LAN broker: literal levels, `+`, and exactly one `{device}` level. */
export const LanTopicMapping = z
  .object({
    topic: z
      .string()
      .min(1)
      .max(256)
      .refine((t) => t.split('/').filter((l) => l === '{device}').length === 1, 'must contain one {device} level')
      .refine((t) => !t.includes('#') && !t.startsWith('$'), 'no # and no leading $'),
    message: z.enum(['telemetry', 'event']),
    /** Renames of the sensor's fields to the contract's, e.g. `{ temp: temperature }`. */
    fields: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type LanTopicMapping = z.infer<typeof LanTopicMapping>;

export const LanMqttAdapterConfig = z
  .object({
    type: z.literal('lan-mqtt'),
    name: z.string().min(1).max(64).default('lan-mqtt'),
    /** Bind to the LAN side only, never the uplink interface. */
    host: z.string().min(1).default('0.0.0.0'),
    port: Port.default(1884),
    /** When set, every sensor must log in with these. */
    auth: z
      .object({ username: z.string().min(1), password: z.string().min(1) })
      .strict()
      .optional(),
    mappings: z
      .array(LanTopicMapping)
      .min(1)
      .default([
        { topic: 'sensors/{device}/telemetry', message: 'telemetry' },
        { topic: 'sensors/{device}/event', message: 'event' },
      ]),
    /** Where a refused reading is reported with its reason, for installers watching the LAN. */
    rejectTopic: z.string().min(1).default('gateway/rejected'),
  })
  .strict();
export type LanMqttAdapterConfig = z.infer<typeof LanMqttAdapterConfig>;

export const ModbusRegister = z
  .object({
    device: SegmentId,
    /** Modbus unit (slave) id; default the adapter's. */
    unitId: z.number().int().min(0).max(255).optional(),
    table: z.enum(['holding', 'input']).default('holding'),
    address: z.number().int().min(0).max(65_535),
    /** Register encoding; 32-bit values are two registers, high word first (big-endian, the common default). */
    format: z.enum(['uint16', 'int16', 'uint32', 'int32', 'float32']).default('uint16'),
    /** value = raw × scale + offset, e.g. 0.001 for a transmitter reporting kPa·10⁻¹ as MPa. */
    scale: z.number().default(1),
    offset: z.number().default(0),
    /** MPa, °C, % LEL; electrical circuits: residual current in mA, cable temperature in °C. */
    field: z.enum(['pressure', 'temperature', 'gasLel', 'residualCurrent', 'cableTemperature']),
  })
  .strict();
export type ModbusRegister = z.infer<typeof ModbusRegister>;

const ELECTRICAL_FIELDS: ModbusRegister['field'][] = ['residualCurrent', 'cableTemperature'];
/** What a Modbus transmitter of each kind may report; kinds without an entry are not polled. */
const MODBUS_FIELDS: Partial<Record<DeviceKind, readonly ModbusRegister['field'][]>> = {
  extinguisher: ['pressure', 'temperature'],
  kitchen: ['temperature', 'gasLel'],
  electrical: ELECTRICAL_FIELDS,
};

export const ModbusTcpAdapterConfig = z
  .object({
    type: z.literal('modbus-tcp'),
    name: z.string().min(1).max(64).default('modbus'),
    host: z.string().min(1),
    port: Port.default(502),
    unitId: z.number().int().min(0).max(255).default(1),
    pollMs: Ms(100, 3_600_000).default(10_000),
    timeoutMs: Ms(50, 60_000).default(2000),
    /** Consecutive failed polls of a device before a `fault` event (and a `restore` when it answers again). */
    faultAfter: z.number().int().min(1).max(100).default(3),
    registers: z.array(ModbusRegister).min(1),
  })
  .strict();
export type ModbusTcpAdapterConfig = z.infer<typeof ModbusTcpAdapterConfig>;

/**
 * The adapters a gateway can run. The seam for the ones to come: an ONVIF + ffmpeg camera
 * adapter (`type: camera`) and a GB 26875.3 fire-panel adapter (`type: gb26875`) each add a
 * variant here and a case in `adapters/create-adapter.ts`; nothing else changes.
 */
export const AdapterConfig = z.discriminatedUnion('type', [
  LanMqttAdapterConfig,
  ModbusTcpAdapterConfig,
  CameraAdapterConfig,
  Gb26875AdapterConfig,
]);
export type AdapterConfig = z.infer<typeof AdapterConfig>;

export const AlarmOutput = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('command'),
      /** Run without a shell; the alarm is in ANLIAN_ALARM_* environment variables. */
      command: z.string().min(1),
      args: z.array(z.string()).default([]),
      timeoutMs: Ms(100, 600_000).default(10_000),
    })
    .strict(),
  z
    .object({
      type: z.literal('webhook'),
      url: z.url(),
      timeoutMs: Ms(100, 600_000).default(5000),
    })
    .strict(),
  z
    .object({
      type: z.literal('gpio'),
      /** A file to write, e.g. `/sys/class/gpio/gpio17/value` or a relay board's device node. */
      path: z.string().min(1),
      value: z.string().default('1'),
    })
    .strict(),
]);
export type AlarmOutput = z.infer<typeof AlarmOutput>;

export const LocalAlarmConfig = z
  .object({
    outputs: z.array(AlarmOutput).default([]),
    /**
     * A fire alarm the county has not acknowledged (PUBACK) within this long also triggers the
     * local outputs, even when the link looks up: GB 26875.1 asks for the center within 10 s.
     */
    unackedAfterMs: Ms(1000, 600_000).default(10_000),
    /** One trigger per device per this long, so a chattering detector does not hammer a siren. */
    repeatAfterMs: Ms(0, 3_600_000).default(60_000),
  })
  .strict();
export type LocalAlarmConfig = z.infer<typeof LocalAlarmConfig>;

export const GatewayFileConfig = z
  .object({
    $schema: z.string().optional(),
    $comment: z.string().optional(),
    gateway: GatewayIdentityConfig,
    county: CountyLinkConfig,
    /** Queue segments, sequence counter and acknowledgement state. */
    dataDir: z.string().min(1),
    queue: QueueConfig.prefault({}),
    replay: ReplayConfig.prefault({}),
    heartbeatIntervalS: z.number().int().min(5).max(3600).default(30),
    devices: z.array(DeviceEntry).max(5000).default([]),
    adapters: z.array(AdapterConfig).max(32).default([]),
    alarm: LocalAlarmConfig.prefault({}),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const devices = new Map<string, number>();
    c.devices.forEach((d, i) => {
      const first = devices.get(d.id);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `duplicate device id "${d.id}" (first at devices.${first})`,
          path: ['devices', i, 'id'],
        });
      } else devices.set(d.id, i);
    });
    const names = new Map<string, number>();
    c.adapters.forEach((a, i) => {
      const first = names.get(a.name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `duplicate adapter name "${a.name}" (first at adapters.${first})`,
          path: ['adapters', i, 'name'],
        });
      } else names.set(a.name, i);
      if (a.type === 'camera') {
        a.cameras.forEach((cam, j) => {
          const at = devices.get(cam.device);
          if (at === undefined || c.devices[at]?.kind !== 'camera') {
            ctx.addIssue({
              code: 'custom',
              message: `device "${cam.device}" is not a camera in devices`,
              path: ['adapters', i, 'cameras', j, 'device'],
            });
          }
        });
        return;
      }
      if (a.type === 'gb26875') {
        checkFirePanelDevices(
          a,
          (id) => c.devices[devices.get(id) ?? -1]?.kind,
          ['adapters', i],
          (issue) => ctx.addIssue({ code: 'custom', ...issue }),
        );
        return;
      }
      if (a.type !== 'modbus-tcp') return;
      const fields = new Map<string, Set<string>>();
      a.registers.forEach((r, j) => {
        const at = devices.get(r.device);
        const path = ['adapters', i, 'registers', j];
        if (at === undefined) {
          ctx.addIssue({
            code: 'custom',
            message: `device "${r.device}" is not in devices`,
            path: [...path, 'device'],
          });
          return;
        }
        const kind = c.devices[at]?.kind;
        const allowed = kind === undefined ? undefined : MODBUS_FIELDS[kind];
        if (!allowed) {
          ctx.addIssue({
            code: 'custom',
            message: `Modbus transmitters are extinguisher (pressure), kitchen (temperature) or electrical (residual current, cable temperature) devices, not ${kind}`,
            path: [...path, 'device'],
          });
          return;
        }
        if (!allowed.includes(r.field)) {
          ctx.addIssue({
            code: 'custom',
            message: `${r.field} is not read for ${kind} devices (${allowed.join(', ')})`,
            path: [...path, 'field'],
          });
        }
        const seen = fields.get(r.device) ?? new Set<string>();
        if (seen.has(r.field))
          ctx.addIssue({
            code: 'custom',
            message: `${r.field} of ${r.device} is mapped twice`,
            path: [...path, 'field'],
          });
        seen.add(r.field);
        fields.set(r.device, seen);
      });
      for (const [device, seen] of fields) {
        const kind = c.devices[devices.get(device) ?? -1]?.kind;
        const needed =
          kind === 'extinguisher' ? ['pressure'] : kind === 'kitchen' ? ['temperature'] : ELECTRICAL_FIELDS;
        if (!needed.some((f) => seen.has(f))) {
          ctx.addIssue({
            code: 'custom',
            message: `device "${device}" (${kind}) needs a ${needed.join(' or ')} register`,
            path: ['adapters', i, 'registers'],
          });
        }
      }
    });
  });
export type GatewayFileConfig = z.infer<typeof GatewayFileConfig>;
export type GatewayFileConfigInput = z.input<typeof GatewayFileConfig>;

/** The configuration the gateway runs with: the file's, with paths resolved and the secret read. */
export type GatewayConfig = Readonly<
  Omit<GatewayFileConfig, 'county'> & { county: Omit<CountyLinkConfig, 'passwordFile'> & { password: string } }
>;
