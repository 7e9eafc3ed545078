import { z } from 'zod';
import { SegmentId } from './ids.js';
import { DeviceTime } from './payloads.js';

/**
 * `anlian-county/v1/{county}/media/{institution}` (QoS 1, ingest → dashboards): a video-review
 * picture (视频复核) is now in the county's media store. The record only — never the JPEG, which
 * a dashboard serves from the store by `key` to whoever may see the institution. It lets a
 * dashboard node that did not receive the snapshot itself (the production form: ingest is a
 * process of its own) push the picture to walls and phones as it arrives.
 */
export const MediaStoredMessage = z
  .object({
    v: z.literal(1),
    /** The media store's key: `{institution}/{yyyymmdd}/{32 hex}.jpg`. */
    key: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\/\d{8}\/[a-f0-9]{32}\.jpg$/),
    county: SegmentId,
    institution: SegmentId,
    gateway: SegmentId,
    /** The camera. */
    device: SegmentId,
    contentType: z.literal('image/jpeg'),
    bytes: z.number().int().min(0),
    width: z.number().int().min(1).max(16384).optional(),
    height: z.number().int().min(1).max(16384).optional(),
    /** The fire alarm it documents: detector and its event's device time. */
    cause: z.object({ device: SegmentId, ts: DeviceTime, zone: z.string().max(64).optional() }).strict(),
    shot: z.number().int().min(0).max(9),
    /** Device time of the picture. */
    ts: DeviceTime,
    /** County time it was stored. */
    receivedAt: z.number().int(),
  })
  .strict();
export type MediaStoredMessage = z.infer<typeof MediaStoredMessage>;
