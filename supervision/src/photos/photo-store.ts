import type { Kysely } from 'kysely';
import { SupervisionError, SupervisionErrorCode } from '../errors.js';
import { newId } from '../new-id.js';
import type { SupervisionDatabase } from '../store/supervision-schema.js';

export interface StoredPhoto {
  id: string;
  county: string;
  institution: string;
  contentType: string;
  bytes: Buffer;
  createdAt: number;
  createdBy: string;
}

/**
 * Where rectification and inspection photos go. A narrow interface so that the camera work's
 * media store (`store/src/media/`, when it lands) can take over: implement it there and pass it
 * to `buildSupervision`.
 */
export interface PhotoStore {
  put(p: { county: string; institution: string; contentType: string; bytes: Buffer; by: string }): Promise<string>;
  get(id: string): Promise<StoredPhoto | undefined>;
}

/** Photos larger than this are refused; the phone downsizes to ~1600 px JPEG (a few hundred kB) first. */
export const MAX_PHOTO_BYTES = 6 * 1024 * 1024;

const SIGNATURES: [string, (b: Buffer) => boolean][] = [
  ['image/jpeg', (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff],
  ['image/png', (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))],
  [
    'image/webp',
    (b) => b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  ],
];

/** The image type the bytes really are (not what the client claimed), or undefined. */
export function sniffImageType(bytes: Buffer): string | undefined {
  return SIGNATURES.find(([, test]) => bytes.length >= 12 && test(bytes))?.[0];
}

/**
 * Photos in the operational store (`supervision_photos`, base64 text: portable between SQLite and
 * PostgreSQL, and every dashboard node sees the same photos). Only JPEG, PNG and WebP are taken,
 * checked by their bytes, so a photo can never be served as anything else.
 */
export class DatabasePhotoStore implements PhotoStore {
  constructor(
    private readonly db: Kysely<SupervisionDatabase>,
    private readonly clock: () => number = Date.now,
  ) {}

  async put(p: {
    county: string;
    institution: string;
    contentType: string;
    bytes: Buffer;
    by: string;
  }): Promise<string> {
    if (p.bytes.length === 0 || p.bytes.length > MAX_PHOTO_BYTES) {
      throw new SupervisionError(
        SupervisionErrorCode.PHOTO_INVALID,
        `a photo must be 1 byte to ${MAX_PHOTO_BYTES / 1024 / 1024} MB (got ${p.bytes.length} bytes)`,
      );
    }
    const type = sniffImageType(p.bytes);
    if (!type)
      throw new SupervisionError(SupervisionErrorCode.PHOTO_INVALID, 'only JPEG, PNG and WebP photos are taken');
    const now = this.clock();
    const id = newId('ph', now);
    await this.db
      .insertInto('supervision_photos')
      .values({
        id,
        county_id: p.county,
        institution_id: p.institution,
        content_type: type,
        data_b64: p.bytes.toString('base64'),
        size: p.bytes.length,
        created_at: now,
        created_by: p.by,
      })
      .execute();
    return id;
  }

  async get(id: string): Promise<StoredPhoto | undefined> {
    const r = await this.db.selectFrom('supervision_photos').selectAll().where('id', '=', id).executeTakeFirst();
    return r
      ? {
          id: r.id,
          county: r.county_id,
          institution: r.institution_id,
          contentType: r.content_type,
          bytes: Buffer.from(r.data_b64, 'base64'),
          createdAt: r.created_at,
          createdBy: r.created_by,
        }
      : undefined;
  }
}
