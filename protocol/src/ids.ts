import { z } from 'zod';

/**
 * One path segment of an MQTT topic: county, institution, gateway or device id.
 * Letters, digits, `_` and `-` only, so an id can never smuggle `/`, `+`, `#` or `$`
 * into a topic [MQTT-4.7.1-1] and can be used unquoted as an InfluxDB tag value.
 */
export const SegmentId = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
    'an id is 1–64 letters, digits, "_" or "-", starting with a letter or digit',
  );
export type SegmentId = z.infer<typeof SegmentId>;

/** The device kinds the platform monitors. */
export const DeviceKind = z.enum(['fire', 'extinguisher', 'kitchen', 'camera', 'electrical']);
export type DeviceKind = z.infer<typeof DeviceKind>;
export const DEVICE_KINDS = DeviceKind.options;
