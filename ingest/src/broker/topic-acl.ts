import { gatewayPrefix, parseTopic, type TopicType } from '@anlian/protocol';
import type { GatewayIdentity } from '@anlian/store';

/**
 * Why a gateway may not publish to a topic or subscribe to a filter. Also the `reason` label of
 * `anlian_broker_publish_denied_total` / `anlian_broker_subscribe_denied_total`, so the set is
 * small and fixed.
 */
export type AclDenyReason =
  /** `$SYS/…`, `$share/…` or any other `$` topic [MQTT-4.7.2-1]. */
  | 'reserved'
  /** `+` or `#` where the contract has none (a PUBLISH topic never has any [MQTT-3.3.2-2]). */
  | 'wildcard'
  /** Not a topic of the contract (bad ids, extra or missing levels, unknown types). */
  | 'not_contract_topic'
  /** A topic of the contract, but under another gateway's prefix. */
  | 'other_gateway'
  /** A county → gateway topic (`…/cmd/{name}`) published by a gateway, or a filter for anything but commands. */
  | 'wrong_direction'
  /** The gateway's own identity does not make a valid prefix (registry data problem). */
  | 'bad_identity';

export type AclDecision = { allowed: true } | { allowed: false; reason: AclDenyReason; detail: string };

const ALLOW: AclDecision = Object.freeze({ allowed: true });
const deny = (reason: AclDenyReason, detail: string): AclDecision => ({ allowed: false, reason, detail });

/** What a gateway sends to the county: everything of the contract except commands. */
const GATEWAY_TO_COUNTY: Readonly<Record<TopicType, boolean>> = {
  status: true,
  heartbeat: true,
  telemetry: true,
  event: true,
  snapshot: true,
  'command-reply': true,
  command: false,
};

function prefixOf(gw: GatewayIdentity): string | undefined {
  try {
    return gatewayPrefix({ county: gw.county, institution: gw.institution, gateway: gw.id });
  } catch {
    // gatewayPrefix throws on an id that is not a topic segment; the caller denies with a reason.
    return undefined;
  }
}

/**
 * May this gateway publish to `topic`? Only topics of the contract under its own prefix
 * `anlian/v1/{county}/{institution}/{gateway}/…` that flow gateway → county: status (also the
 * retained one and the last will), heartbeat, telemetry, events and command replies.
 */
export function mayPublish(gw: GatewayIdentity, topic: string): AclDecision {
  if (topic.startsWith('$')) return deny('reserved', `topic ${topic} is reserved`);
  if (topic.includes('+') || topic.includes('#')) {
    return deny('wildcard', `wildcards are not allowed in a topic name: ${topic}`);
  }
  const prefix = prefixOf(gw);
  if (prefix === undefined) return deny('bad_identity', `gateway ${JSON.stringify(gw.id)} has no valid topic prefix`);
  const parsed = parseTopic(topic);
  if (!parsed) return deny('not_contract_topic', `not a topic of the contract: ${topic}`);
  if (parsed.county !== gw.county || parsed.institution !== gw.institution || parsed.gateway !== gw.id) {
    return deny('other_gateway', `topic ${topic} is not under ${prefix}/`);
  }
  if (!GATEWAY_TO_COUNTY[parsed.type]) {
    return deny('wrong_direction', `${parsed.type} topics flow county → gateway: ${topic}`);
  }
  return ALLOW;
}

/**
 * May this gateway subscribe to `filter`? Only to its own commands: `{prefix}/cmd/+` or
 * `{prefix}/cmd/{name}`. No `#`, no `+` anywhere else, nothing starting with `$`.
 */
export function maySubscribe(gw: GatewayIdentity, filter: string): AclDecision {
  if (filter.startsWith('$')) return deny('reserved', `filter ${filter} is reserved`);
  if (filter.includes('#')) return deny('wildcard', `multi-level wildcard not allowed: ${filter}`);
  const prefix = prefixOf(gw);
  if (prefix === undefined) return deny('bad_identity', `gateway ${JSON.stringify(gw.id)} has no valid topic prefix`);
  const own = `${prefix}/cmd/`;
  if (!filter.startsWith(own)) {
    // Say "other gateway" only when the filter really names one; everything else is not ours to read.
    // `…/cmd/+` of another gateway: parse it with a concrete name in place of the wildcard.
    const parsed = parseTopic(filter.endsWith('/cmd/+') ? `${filter.slice(0, -1)}x` : filter);
    if (parsed) {
      return parsed.type === 'command'
        ? deny('other_gateway', `filter ${filter} is not under ${prefix}/`)
        : deny('wrong_direction', `a gateway may subscribe only to its commands, not ${parsed.type}: ${filter}`);
    }
    if (filter.includes('+')) return deny('wildcard', `wildcards are allowed only as ${own}+: ${filter}`);
    return deny('not_contract_topic', `a gateway may subscribe only to ${own}+: ${filter}`);
  }
  const name = filter.slice(own.length);
  if (name === '+') return ALLOW;
  if (name.includes('+')) return deny('wildcard', `wildcards are allowed only as ${own}+: ${filter}`);
  // A concrete command: parseTopic checks the name is one segment with a valid id.
  const parsed = parseTopic(filter);
  if (parsed?.type === 'command') return ALLOW;
  return parsed
    ? deny('wrong_direction', `a gateway may subscribe only to its commands, not ${parsed.type}: ${filter}`)
    : deny('not_contract_topic', `not a command filter of the contract: ${filter}`);
}
