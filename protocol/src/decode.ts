import type { z } from 'zod';
import {
  CommandPayload,
  CommandReplyPayload,
  EventPayload,
  HeartbeatPayload,
  MAX_PAYLOAD_BYTES,
  MAX_SNAPSHOT_PAYLOAD_BYTES,
  SnapshotPayload,
  StatusPayload,
  TelemetryPayload,
} from './payloads.js';
import { type ParsedTopic, parseTopic, type TopicType } from './topics.js';

/** The schema that governs each topic type: the topic ↔ schema map of the contract. */
export const TOPIC_SCHEMAS = {
  status: StatusPayload,
  heartbeat: HeartbeatPayload,
  telemetry: TelemetryPayload,
  event: EventPayload,
  snapshot: SnapshotPayload,
  command: CommandPayload,
  'command-reply': CommandReplyPayload,
} as const satisfies Record<TopicType, z.ZodType>;

type PayloadOf<T extends TopicType> = z.infer<(typeof TOPIC_SCHEMAS)[T]>;

/** A message of the contract, topic and payload parsed together. */
export type DecodedMessage = {
  [T in TopicType]: { type: T; topic: Extract<ParsedTopic, { type: T }>; payload: PayloadOf<T> };
}[TopicType];

/** Why a message was rejected; also the `reason` label of the rejection metric. */
export type RejectReason = 'bad_topic' | 'too_large' | 'bad_json' | 'bad_schema';

export type DecodeResult =
  | { ok: true; message: DecodedMessage }
  | { ok: false; reason: RejectReason; detail: string; topic?: ParsedTopic };

/** Decodes one MQTT message against the contract. Never throws. */
export function decodeMessage(topic: string, payload: Uint8Array | string): DecodeResult {
  const parsed = parseTopic(topic);
  if (!parsed) return { ok: false, reason: 'bad_topic', detail: `not a topic of the contract: ${topic}` };
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;
  const max = parsed.type === 'snapshot' ? MAX_SNAPSHOT_PAYLOAD_BYTES : MAX_PAYLOAD_BYTES;
  if (size > max) {
    return {
      ok: false,
      reason: 'too_large',
      detail: `payload of ${size} bytes exceeds ${max}`,
      topic: parsed,
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(typeof payload === 'string' ? payload : Buffer.from(payload).toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'bad_json', detail: (err as Error).message, topic: parsed };
  }
  const result = TOPIC_SCHEMAS[parsed.type].safeParse(json);
  if (!result.success) {
    const detail = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    return { ok: false, reason: 'bad_schema', detail, topic: parsed };
  }
  return { ok: true, message: { type: parsed.type, topic: parsed, payload: result.data } as DecodedMessage };
}

/** Serializes a payload after checking it against its topic's schema, for publishers. */
export function encodePayload<T extends TopicType>(type: T, payload: z.input<(typeof TOPIC_SCHEMAS)[T]>): string {
  const schema = TOPIC_SCHEMAS[type] as z.ZodType;
  return JSON.stringify(schema.parse(payload));
}
