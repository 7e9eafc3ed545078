import type { Alert } from './alerts-port.js';

/**
 * Video review (视频复核): a camera's picture of a fire alarm, as the dashboard serves it — in the
 * answer of `GET /api/alerts/:id/snapshots` and, as it arrives, in a `snapshot` delta on the live
 * feed. Imported by the web app as well, so it imports types only.
 */
export interface AlertSnapshot {
  /** The camera's device id, and its name in the registry (what the screens show). */
  camera: string;
  cameraName?: string;
  /** 0 at the alarm, 1 a few seconds later, … */
  shot: number;
  /** When the camera's picture was taken (gateway time). */
  ts: number;
  width?: number;
  height?: number;
  /** Where the picture is served, to users allowed to see its institution. */
  url: string;
}

/** A snapshot as the live feed announces it: with the fire alarm it documents. */
export interface SnapshotNotice extends AlertSnapshot {
  institution: string;
  /** The detector whose fire alarm it documents, and that alarm's device time. */
  detector: string;
  causeTs: number;
}

/** Pictures whose alarm time is this much before the alert opened still belong to it (device clocks drift). */
export const SNAPSHOT_BEFORE_OPEN_MS = 10 * 60_000;
/** … and this much after it closed. */
export const SNAPSHOT_AFTER_CLOSE_MS = 60_000;

/** The URL of a stored picture by its media-store key (`{institution}/{yyyymmdd}/{id}.jpg`). */
export const mediaUrl = (key: string): string => `/api/media/${key}`;

/** The alarm times whose pictures belong to the alert: from a little before it opened to just after it closed. */
export function snapshotWindow(alert: Pick<Alert, 'openedAt' | 'closedAt'>, now: number): [number, number] {
  return [alert.openedAt - SNAPSHOT_BEFORE_OPEN_MS, (alert.closedAt ?? now) + SNAPSHOT_AFTER_CLOSE_MS];
}

/** Whether a pushed picture documents this alert: same institution and detector, alarm time in its window. */
export function snapshotBelongsTo(
  n: SnapshotNotice,
  alert: Pick<Alert, 'institution' | 'device' | 'openedAt' | 'closedAt'>,
  now: number,
): boolean {
  const [from, to] = snapshotWindow(alert, now);
  return n.institution === alert.institution && n.detector === alert.device && n.causeTs >= from && n.causeTs <= to;
}
