import { createHash } from 'node:crypto';

/**
 * The county's store of video-review pictures (视频复核): one interface, two implementations —
 * files under the data directory (the all-in-one on SQLite) and the operational store's `media`
 * table (PostgreSQL: every ingest replica and dashboard node, on any server, sees the same
 * pictures) — and room for an S3-compatible one. Used by the process that receives snapshots
 * (ingest) and the one that serves them (dashboard).
 */

/** What is known about one stored picture. */
export interface MediaRecord {
  /** Opaque, URL-safe: `{institution}/{yyyymmdd}/{id}.jpg`. */
  key: string;
  county: string;
  institution: string;
  gateway: string;
  /** The camera. */
  device: string;
  contentType: 'image/jpeg';
  bytes: number;
  width?: number;
  height?: number;
  /** The fire alarm it documents: detector and its device time. */
  cause: { device: string; ts: number; zone?: string };
  shot: number;
  /** Device time of the picture. */
  ts: number;
  /** County time it was stored. */
  receivedAt: number;
}

export type NewMedia = Omit<MediaRecord, 'key' | 'bytes' | 'receivedAt'>;

export interface MediaStore {
  /** Stores a picture durably; resolves with its record. Idempotent per (gateway, camera, cause, shot). */
  put(meta: NewMedia, data: Buffer, receivedAt?: number): Promise<MediaRecord>;
  get(key: string): Promise<{ record: MediaRecord; data: Buffer } | undefined>;
  /** Pictures of an institution's fire alarm from one detector, whose cause time is within [fromTs, toTs]. */
  findByCause(institution: string, detector: string, fromTs: number, toTs: number): Promise<MediaRecord[]>;
  /** Deletes what was stored before `beforeMs` (retention); returns how many. */
  purge(beforeMs: number): Promise<number>;
}

/** Video retention ≥ 30 days (公共安全视频图像信息系统管理条例, 2025): the default, configurable. */
export const DEFAULT_MEDIA_RETENTION_DAYS = 30;

/** A media key: `{institution}/{yyyymmdd}/{32 hex}.jpg` (what `mediaKey` makes; nothing else is looked up). */
const MEDIA_KEY = /^[A-Za-z0-9_-]{1,64}\/\d{8}\/[a-f0-9]{32}\.jpg$/;

export function isMediaKey(key: string): boolean {
  return MEDIA_KEY.test(key);
}

/**
 * The key of a picture: a hash of (gateway, camera, cause, shot), so a redelivered snapshot lands
 * on the key it had, under its institution and the day of the alarm it documents.
 */
export function mediaKey(meta: Pick<NewMedia, 'institution' | 'gateway' | 'device' | 'cause' | 'shot'>): string {
  const id = createHash('sha256')
    .update(JSON.stringify([meta.gateway, meta.device, meta.cause.device, meta.cause.ts, meta.shot]))
    .digest('hex')
    .slice(0, 32);
  const day = new Date(meta.cause.ts).toISOString().slice(0, 10).replaceAll('-', '');
  return `${meta.institution}/${day}/${id}.jpg`;
}
