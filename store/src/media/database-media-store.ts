import type { Kysely, Selectable } from 'kysely';
import type { Database, MediaTable } from '../schema.js';
import { isMediaKey, type MediaRecord, type MediaStore, mediaKey, type NewMedia } from './media-store.js';

/** Every column but the picture: what a record is made of. */
const RECORD_COLUMNS = [
  'key',
  'county_id',
  'institution_id',
  'gateway_id',
  'device_id',
  'content_type',
  'bytes',
  'width',
  'height',
  'cause_device',
  'cause_ts',
  'cause_zone',
  'shot',
  'ts',
  'received_at',
] as const satisfies readonly (keyof MediaTable)[];

type RecordRow = Pick<Selectable<MediaTable>, (typeof RECORD_COLUMNS)[number]>;

/**
 * Pictures in the operational store's `media` table (migration 2026-12-03-003-media), through
 * kysely on PostgreSQL or SQLite. On PostgreSQL — the production form — whichever ingest replica
 * received a snapshot, every dashboard node on every server serves it. One row per key, written
 * in one statement, so a picture is either wholly there or not at all; a redelivered snapshot
 * (QoS 1, or two replicas racing after a failover) finds its key taken and keeps the first copy.
 */
export class DatabaseMediaStore implements MediaStore {
  readonly #db: Kysely<Database>;

  constructor(opts: { db: Kysely<Database> }) {
    this.#db = opts.db;
  }

  async put(meta: NewMedia, data: Buffer, receivedAt = Date.now()): Promise<MediaRecord> {
    const key = mediaKey(meta);
    const inserted = await this.#db
      .insertInto('media')
      .values({
        key,
        county_id: meta.county,
        institution_id: meta.institution,
        gateway_id: meta.gateway,
        device_id: meta.device,
        content_type: meta.contentType,
        bytes: data.length,
        width: meta.width ?? null,
        height: meta.height ?? null,
        cause_device: meta.cause.device,
        cause_ts: meta.cause.ts,
        cause_zone: meta.cause.zone ?? null,
        shot: meta.shot,
        ts: meta.ts,
        received_at: receivedAt,
        data,
      })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning(RECORD_COLUMNS)
      .executeTakeFirst();
    if (inserted) return toRecord(inserted);
    // Stored before: answer with what the store holds (the first delivery's record).
    const stored = await this.#db.selectFrom('media').select(RECORD_COLUMNS).where('key', '=', key).executeTakeFirst();
    if (!stored) throw new Error(`ANL_ERR_MEDIA_PUT: picture ${key} neither inserted nor found (removed meanwhile)`);
    return toRecord(stored);
  }

  async get(key: string): Promise<{ record: MediaRecord; data: Buffer } | undefined> {
    if (!isMediaKey(key)) return undefined;
    const row = await this.#db
      .selectFrom('media')
      .select([...RECORD_COLUMNS, 'data'])
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row) return undefined;
    // pg (bytea) and better-sqlite3 (blob) both answer a Buffer.
    return { record: toRecord(row), data: row.data };
  }

  async findByCause(institution: string, detector: string, fromTs: number, toTs: number): Promise<MediaRecord[]> {
    const rows = await this.#db
      .selectFrom('media')
      .select(RECORD_COLUMNS)
      .where('institution_id', '=', institution)
      .where('cause_device', '=', detector)
      .where('cause_ts', '>=', fromTs)
      .where('cause_ts', '<=', toTs)
      .orderBy('shot')
      .orderBy('device_id')
      .execute();
    return rows.map(toRecord);
  }

  async purge(beforeMs: number): Promise<number> {
    const r = await this.#db.deleteFrom('media').where('received_at', '<', beforeMs).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}

function toRecord(r: RecordRow): MediaRecord {
  return {
    key: r.key,
    county: r.county_id,
    institution: r.institution_id,
    gateway: r.gateway_id,
    device: r.device_id,
    contentType: r.content_type,
    bytes: r.bytes,
    ...(r.width !== null ? { width: r.width } : {}),
    ...(r.height !== null ? { height: r.height } : {}),
    cause: { device: r.cause_device, ts: r.cause_ts, ...(r.cause_zone !== null ? { zone: r.cause_zone } : {}) },
    shot: r.shot,
    ts: r.ts,
    receivedAt: r.received_at,
  };
}
