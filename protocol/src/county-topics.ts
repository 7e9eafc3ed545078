import { SegmentId } from './ids.js';

/**
 * The county's own topics, between its services (never a gateway's): a root of their own, so that
 * neither ingest's `anlian/v1/#` shared subscription nor a gateway's ACL can ever cover them.
 */
export const COUNTY_TOPIC_ROOT = 'anlian-county/v1';

function segment(what: string, value: string): string {
  if (!SegmentId.safeParse(value).success)
    throw new TypeError(`invalid ${what} id for a topic: ${JSON.stringify(value)}`);
  return value;
}

export const countyTopics = {
  /** One alert's change (`AlertChangeMessage`), by the institution it belongs to. */
  alertChange: (county: string, institution: string) =>
    `${COUNTY_TOPIC_ROOT}/${segment('county', county)}/alert/${segment('institution', institution)}`,
  /** Every alert change of every county the subscriber may read. */
  allAlertChanges: () => `${COUNTY_TOPIC_ROOT}/+/alert/+`,
  /** Alerting's silences, drills or policies changed (`AlertingConfigChanged`). */
  alertingConfig: (county: string) => `${COUNTY_TOPIC_ROOT}/${segment('county', county)}/alerting/config`,
  allAlertingConfig: () => `${COUNTY_TOPIC_ROOT}/+/alerting/config`,
  /** A video-review picture stored by ingest (`MediaStoredMessage`), by the institution it belongs to. */
  mediaStored: (county: string, institution: string) =>
    `${COUNTY_TOPIC_ROOT}/${segment('county', county)}/media/${segment('institution', institution)}`,
  allMediaStored: () => `${COUNTY_TOPIC_ROOT}/+/media/+`,
} as const;

export type ParsedCountyTopic =
  | { type: 'alert-change'; county: string; institution: string }
  | { type: 'alerting-config'; county: string }
  | { type: 'media-stored'; county: string; institution: string };

export function parseCountyTopic(topic: string): ParsedCountyTopic | null {
  const parts = topic.split('/');
  if (parts[0] !== 'anlian-county' || parts[1] !== 'v1') return null;
  const [, , county, a, b, ...rest] = parts;
  if (rest.length > 0 || county === undefined || !SegmentId.safeParse(county).success) return null;
  if (a === 'alert' && b !== undefined && SegmentId.safeParse(b).success) {
    return { type: 'alert-change', county, institution: b };
  }
  if (a === 'alerting' && b === 'config') return { type: 'alerting-config', county };
  if (a === 'media' && b !== undefined && SegmentId.safeParse(b).success) {
    return { type: 'media-stored', county, institution: b };
  }
  return null;
}
