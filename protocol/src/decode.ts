import type { z } from 'zod';
import {
  CommandPayload,
  CommandReplyPayload,
  EventPayload,
  HeartbeatPayload,
  MAX_PAYLOAD_BYTES,
  MAX_SNAPSHOT_PAYLOAD_BYTES,
  SCHEMA_VERSION,
  SnapshotPayload,
  StatusPayload,
  TelemetryPayload,
} from './payloads.js';
import { type ParsedTopic, parseTopic, type TopicType, topics } from './topics.js';

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
export type RejectReason = 'bad_topic' | 'too_large' | 'bad_utf8' | 'bad_json' | 'bad_schema';

/**
 * MQTT payloads of the contract are JSON, and JSON text exchanged between systems is UTF-8
 * (RFC 8259 §8.1). A lenient decoder would replace invalid bytes with U+FFFD and store a value
 * the gateway never sent, so the fatal decoder refuses the message instead. `ignoreBOM: false`
 * (the default) strips a leading BOM, which RFC 8259 lets a parser ignore.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

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
  let text: string;
  try {
    text = typeof payload === 'string' ? payload : UTF8.decode(payload);
  } catch (err) {
    return { ok: false, reason: 'bad_utf8', detail: (err as Error).message, topic: parsed };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
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

let primed = false;

/**
 * Decodes one message of each kind the alarm path reads — an event of every device kind, a
 * gateway status, a command reply — and throws their results away, once per thread. zod compiles
 * a schema's fast path on its first parse (`generateFastpass`), which put ~30 ms of compilation
 * into the first fire alarm a process received (bench:alarm-latency, issue 12); called when a
 * subscriber starts, that happens before any gateway message arrives. Pure: nothing is
 * published, counted or stored.
 */
export function primeDecoders(): void {
  if (primed) return;
  primed = true;
  const a = { county: 'prime', institution: 'prime', gateway: 'gw-prime' };
  const envelope = { v: SCHEMA_VERSION, ts: Date.now(), seq: 1 };
  const messages: [string, object][] = [
    ...(['fire', 'extinguisher', 'kitchen', 'camera', 'electrical'] as const).map((kind): [string, object] => [
      topics.event(a, 'd1'),
      { ...envelope, kind, event: 'test', zone: 'z', detail: 'prime', drillId: 'dr-prime' },
    ]),
    [topics.status(a), { ...envelope, state: 'online', reason: 'connect' }],
    [topics.commandReply(a, 'ping'), { ...envelope, id: 'c1', ok: true, detail: 'prime', result: {} }],
  ];
  for (const [topic, payload] of messages) {
    const r = decodeMessage(topic, Buffer.from(JSON.stringify(payload)));
    if (!r.ok) throw new Error(`primeDecoders: ${topic} does not decode (${r.reason}: ${r.detail})`);
  }
}
