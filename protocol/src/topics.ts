import { SegmentId } from './ids.js';

/** Topic root; the version segment changes only with an incompatible contract. */
export const TOPIC_ROOT = 'anlian/v1';

/** Where one gateway lives: every topic it publishes starts with `anlian/v1/{county}/{institution}/{gateway}`. */
export interface GatewayAddress {
  county: string;
  institution: string;
  gateway: string;
}

export type ParsedTopic =
  | ({ type: 'status' } & GatewayAddress)
  | ({ type: 'heartbeat' } & GatewayAddress)
  | ({ type: 'telemetry'; device: string } & GatewayAddress)
  | ({ type: 'event'; device: string } & GatewayAddress)
  | ({ type: 'snapshot'; device: string } & GatewayAddress)
  | ({ type: 'command'; name: string } & GatewayAddress)
  | ({ type: 'command-reply'; name: string } & GatewayAddress);

export type TopicType = ParsedTopic['type'];

function checkSegment(what: string, value: string): string {
  if (!SegmentId.safeParse(value).success) {
    throw new TypeError(`invalid ${what} id for a topic: ${JSON.stringify(value)}`);
  }
  return value;
}

/** `anlian/v1/{county}/{institution}/{gateway}` — the prefix a gateway may publish under. */
export function gatewayPrefix(a: GatewayAddress): string {
  return `${TOPIC_ROOT}/${checkSegment('county', a.county)}/${checkSegment('institution', a.institution)}/${checkSegment('gateway', a.gateway)}`;
}

/** Topic builders. Each checks its segments, so a bad id fails here and not at the broker. */
export const topics = {
  /** Retained `online`/`offline` document; the gateway's last will publishes `offline`. */
  status: (a: GatewayAddress) => `${gatewayPrefix(a)}/status`,
  heartbeat: (a: GatewayAddress) => `${gatewayPrefix(a)}/heartbeat`,
  telemetry: (a: GatewayAddress, device: string) =>
    `${gatewayPrefix(a)}/device/${checkSegment('device', device)}/telemetry`,
  event: (a: GatewayAddress, device: string) => `${gatewayPrefix(a)}/device/${checkSegment('device', device)}/event`,
  /** A camera's snapshot for the video review of a fire alarm (视频复核). */
  snapshot: (a: GatewayAddress, device: string) =>
    `${gatewayPrefix(a)}/device/${checkSegment('device', device)}/snapshot`,
  command: (a: GatewayAddress, name: string) => `${gatewayPrefix(a)}/cmd/${checkSegment('command', name)}`,
  commandReply: (a: GatewayAddress, name: string) => `${gatewayPrefix(a)}/cmd/${checkSegment('command', name)}/reply`,
  /** Filter for everything every gateway publishes, for the county side. */
  allGateways: () => `${TOPIC_ROOT}/+/+/+/#`,
  /** MQTT 5 shared subscription [MQTT-4.8.2] so that several ingest replicas split the load. */
  sharedAll: (group: string) => `$share/${checkSegment('share group', group)}/${TOPIC_ROOT}/#`,
  /** Filter for the commands of one gateway (what it may subscribe to). */
  commandsOf: (a: GatewayAddress) => `${gatewayPrefix(a)}/cmd/+`,
} as const;

const isSegment = (s: string | undefined): s is string => s !== undefined && SegmentId.safeParse(s).success;

/**
 * Parses a topic of the contract. Returns `null` for anything that is not one, including
 * topics with bad ids, wildcards or extra levels, so callers can reject with a reason.
 */
export function parseTopic(topic: string): ParsedTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== 'anlian' || parts[1] !== 'v1') return null;
  const [, , county, institution, gateway, a, b, c, ...rest] = parts;
  if (rest.length > 0 || !isSegment(county) || !isSegment(institution) || !isSegment(gateway)) return null;
  const addr: GatewayAddress = { county, institution, gateway };
  if (a === 'status' && b === undefined) return { type: 'status', ...addr };
  if (a === 'heartbeat' && b === undefined) return { type: 'heartbeat', ...addr };
  if (a === 'device' && isSegment(b)) {
    if (c === 'telemetry') return { type: 'telemetry', device: b, ...addr };
    if (c === 'event') return { type: 'event', device: b, ...addr };
    if (c === 'snapshot') return { type: 'snapshot', device: b, ...addr };
    return null;
  }
  if (a === 'cmd' && isSegment(b)) {
    if (c === undefined) return { type: 'command', name: b, ...addr };
    if (c === 'reply') return { type: 'command-reply', name: b, ...addr };
  }
  return null;
}
