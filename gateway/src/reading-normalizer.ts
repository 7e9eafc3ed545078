import {
  type EventPayload,
  EventPayload as EventSchema,
  SCHEMA_VERSION,
  type SnapshotPayload,
  SnapshotPayload as SnapshotSchema,
  type TelemetryPayload,
  TelemetryPayload as TelemetrySchema,
} from '@anlian/protocol';
import type { DeviceReading, ReadingRejectReason } from './adapters/device-reading.js';
import type { DeviceEntry } from './config/gateway-config.js';

export type NormalizedReading =
  | { ok: true; message: 'telemetry'; device: string; payload: TelemetryPayload }
  | { ok: true; message: 'event'; device: string; payload: EventPayload }
  | { ok: true; message: 'snapshot'; device: string; payload: SnapshotPayload }
  | { ok: false; reason: ReadingRejectReason; detail: string };

/** Envelope fields a device may not set: the gateway numbers and versions its messages. */
const GATEWAY_FIELDS = new Set(['v', 'seq', 'ts', 'kind']);

/**
 * Turns an adapter's reading into a payload of the contract: the device's configured kind (and
 * medium, zone), the envelope, then the contract's own schema — so what the county would refuse
 * is refused here, with the reason, before it takes a place in the queue. `seq` is left at 0:
 * the caller numbers only what it queues.
 */
export class ReadingNormalizer {
  #devices: ReadonlyMap<string, DeviceEntry>;

  constructor(devices: ReadonlyMap<string, DeviceEntry>) {
    this.#devices = devices;
  }

  setDevices(devices: ReadonlyMap<string, DeviceEntry>): void {
    this.#devices = devices;
  }

  normalize(reading: DeviceReading, now: number): NormalizedReading {
    const device = this.#devices.get(reading.device);
    if (!device) {
      return {
        ok: false,
        reason: 'unknown_device',
        detail: `device ${JSON.stringify(reading.device)} is not configured`,
      };
    }
    const claimed = reading.fields.kind;
    if (claimed !== undefined && claimed !== device.kind) {
      return {
        ok: false,
        reason: 'kind_mismatch',
        detail: `device ${device.id} is configured as ${device.kind}, the reading says ${String(claimed)}`,
      };
    }
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(reading.fields)) if (!GATEWAY_FIELDS.has(k)) fields[k] = v;
    const base = { v: SCHEMA_VERSION, ts: Math.round(reading.ts ?? now), seq: 0, kind: device.kind };
    if (reading.message === 'telemetry') {
      if (device.kind === 'extinguisher' && fields.medium === undefined && device.medium) fields.medium = device.medium;
      const r = TelemetrySchema.safeParse({ ...base, ...fields });
      return r.success ? { ok: true, message: 'telemetry', device: device.id, payload: r.data } : bad(r.error.issues);
    }
    if (reading.message === 'snapshot') {
      const r = SnapshotSchema.safeParse({ ...base, ...fields });
      return r.success ? { ok: true, message: 'snapshot', device: device.id, payload: r.data } : bad(r.error.issues);
    }
    if (fields.zone === undefined && device.zone) fields.zone = device.zone;
    const r = EventSchema.safeParse({ ...base, ...fields });
    return r.success ? { ok: true, message: 'event', device: device.id, payload: r.data } : bad(r.error.issues);
  }
}

function bad(issues: readonly { path: PropertyKey[]; message: string }[]): NormalizedReading {
  const detail = issues
    .slice(0, 5)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return { ok: false, reason: 'bad_reading', detail };
}
