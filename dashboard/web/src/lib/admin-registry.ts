import type { ContactConfig, ContactRole, DeviceKind, PressureMedium } from '@anlian/protocol';
import type { DeviceRecord, GatewayRecord } from '@anlian/store';
import type { EscalationPolicy } from '../../../src/alerts/alerts-port';

/**
 * What the admin forms edit, as the API answers it. The option lists mirror the protocol's enums
 * (protocol/src/ids.ts, county.ts, payloads.ts) and alerting's severities: the web app does not
 * bundle zod, so the values are repeated here and the server's schemas stay the judge.
 */
export const DEVICE_KINDS = [
  'fire',
  'extinguisher',
  'kitchen',
  'camera',
  'electrical',
] as const satisfies readonly DeviceKind[];
export const PRESSURE_MEDIA = [
  'dry_powder',
  'sprinkler',
  'hydrant_static',
  'hydrant_dynamic',
] as const satisfies readonly PressureMedium[];
export const CONTACT_ROLES = [
  'manager',
  'deputy',
  'fire_safety',
  'duty_officer',
] as const satisfies readonly ContactRole[];
export const SEVERITIES = ['critical', 'major', 'minor', 'info'] as const;

/** protocol's DEFAULT_REPORT_INTERVAL_S: what a device without its own interval is expected to keep. */
export const DEFAULT_REPORT_INTERVAL_S: Record<DeviceKind, number> = {
  fire: 300,
  extinguisher: 300,
  kitchen: 60,
  camera: 60,
  electrical: 300,
};

/** protocol's SegmentId: ids become MQTT topic levels and InfluxDB tags. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** `GET /api/institutions`, as county staff see it. */
export interface AdminInstitution {
  id: string;
  name: string;
  address: string;
  lng: number;
  lat: number;
  beds: number;
  status: string;
  risk: string;
}

export type AdminGateway = GatewayRecord;
export type AdminDevice = DeviceRecord;
export type Contact = ContactConfig;
export type Policy = EscalationPolicy;
export type { ContactRole, DeviceKind, PressureMedium };

/** A path segment for the API, escaped (ids are already safe; names typed by hand may not be). */
export const seg = (s: string): string => encodeURIComponent(s);
