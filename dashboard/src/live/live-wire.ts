import { z } from 'zod';
import type { AlertLevel } from '../alerts/alert-level.js';
import type { SnapshotNotice } from '../alerts/alert-snapshot.js';
import type { Alert } from '../alerts/alerts-port.js';
import type { InstitutionLive, InstitutionStatus, RiskLevel } from './institution-status.js';

/**
 * The socket.io contract between the server and the web app. A client subscribes to rooms;
 * each answer is a snapshot with the room's sequence number, and every later change in the room
 * is a delta with the next number. A client that sees a gap asks for a new snapshot.
 */

/** `county:<id>` or `institution:<id>`. */
export const RoomName = z.string().regex(/^(county|institution):[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/);
export const SubscribeRequest = z.object({ room: RoomName });
export type SubscribeRequest = z.infer<typeof SubscribeRequest>;

export interface Stats {
  institutions: number;
  devices: number;
  devicesOnline: number;
  /** 0–1; null while the county has no devices. */
  deviceOnlineRate: number | null;
  gatewaysOnline: number;
  gateways: number;
  openByKind: Record<string, number>;
  alarmsToday: number;
  meanTimeToAcknowledgeMs: number | null;
  statusCounts: Record<InstitutionStatus, number>;
}

export interface Panels {
  fire: { open: number; unacknowledged: number };
  extinguishers: {
    total: number;
    outOfRange: number;
    worst: { institution: string; device: string; name: string; pressure: number; medium: string }[];
  };
  kitchens: {
    institution: string;
    device: string;
    name: string;
    temperature: number;
    level: 'ok' | 'warn' | 'alarm';
  }[];
  cameras: {
    total: number;
    healthy: number;
    faulty: { institution: string; device: string; name: string; problem: string }[];
  };
}

export interface TickerItem {
  at: number;
  institution: string;
  kind: string;
  text: { zh: string; en: string };
  /** How the screens colour it: an alert's level (`alertLevel`), or the event's. */
  level: AlertLevel;
}

export interface InstitutionMarker extends InstitutionLive {
  name: string;
  lng: number;
  lat: number;
}

export interface CountySnapshot {
  county: { id: string; name: string; adcode: string; timezone: string; center: { lng: number; lat: number } | null };
  institutions: InstitutionMarker[];
  stats: Stats;
  panels: Panels;
  alerts: Alert[];
  ticker: TickerItem[];
}

export interface DeviceLive {
  key: string;
  gateway: string;
  device: string;
  kind: string;
  name: string;
  medium?: string;
  building: string;
  floor: string;
  room: string;
  online: boolean;
  /** ok, warn (out of range), alarm (an alarm stands on it), offline. */
  state: 'ok' | 'warn' | 'alarm' | 'offline';
  receivedAt: number | null;
  values: Record<string, number | boolean | string>;
  lastEvent?: { event: string; ts: number; zone?: string; detail?: string };
}

export interface GatewayLive {
  id: string;
  name: string | null;
  state: 'online' | 'offline' | 'unknown';
  since: number | null;
  lastHeartbeatAt: number | null;
  queueDepth: number | null;
}

export interface InstitutionSnapshot {
  institution: { id: string; name: string; address: string; lng: number; lat: number; beds: number; county: string };
  live: InstitutionLive;
  risk: RiskLevel;
  gateways: GatewayLive[];
  devices: DeviceLive[];
  alerts: Alert[];
}

export type CountyDelta =
  | { type: 'alert'; data: { change: 'raised' | 'updated' | 'cleared'; alert: Alert } }
  | { type: 'institution'; data: InstitutionLive }
  | { type: 'stats'; data: { stats: Stats; panels: Panels } }
  | { type: 'ticker'; data: TickerItem[] }
  /** A camera's picture of a fire alarm has arrived (视频复核): the wall's alarm banner shows it. */
  | { type: 'snapshot'; data: SnapshotNotice };

export type InstitutionDelta =
  | { type: 'alert'; data: { change: 'raised' | 'updated' | 'cleared'; alert: Alert } }
  | { type: 'institution'; data: InstitutionLive }
  | { type: 'devices'; data: DeviceLive[] }
  | { type: 'gateway'; data: GatewayLive }
  /** A camera's picture of a fire alarm has arrived (视频复核): the manager's alert card shows it. */
  | { type: 'snapshot'; data: SnapshotNotice };

export type Delta = (CountyDelta | InstitutionDelta) & { room: string; seq: number };

export type SnapshotAnswer =
  | { ok: true; room: string; seq: number; snapshot: CountySnapshot | InstitutionSnapshot }
  | { ok: false; code: string; message: string };
