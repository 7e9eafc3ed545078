import type { CountyConfigInput } from '@anlian/protocol';
import type { ProbeGateway } from './alarm-messages.js';

/** The county of the probe institutions; the background province's counties are `bench-01` …. */
export const PROBE_COUNTY = 'bench-alarm';

/** MQTT topic filter of every probe fire event, for the broker baseline subscriber. */
export const PROBE_EVENT_FILTER = `anlian/v1/${PROBE_COUNTY}/+/+/device/+/event`;

/** Which probe institutions: the direct ones (`a-0001` … in `bench-alarm`) or another set beside them. */
export interface ProbeCountyVariant {
  county: CountyConfigInput['county'];
  /** Institution ids are `{prefix}-0001` …, gateways `gw-{prefix}-0001` … (ids are unique across counties). */
  prefix: string;
  /** The gateways' MQTT secret in the registry, for a real gateway that logs in with it. */
  secret?: string;
}

const DIRECT_PROBES: ProbeCountyVariant = {
  county: { id: PROBE_COUNTY, name: '报警时延测试县', adcode: '510299' },
  prefix: 'a',
};

export interface ProbeCounty {
  county: CountyConfigInput;
  gateways: ProbeGateway[];
  detectors: number;
}

/**
 * Institutions whose gateways only the prober drives (`a-0001` …, gateway `gw-a-0001` …), each
 * with `detectorsPerGateway` fire detectors and the contacts the default escalation policy
 * notifies first (manager, fire_safety), so that every push has recipients as in production.
 * Separate from the background province: a gateway numbers its own messages (ingest's sequence
 * window is per gateway), so the generator and the prober must not speak for the same one.
 */
export function buildProbeCounty(
  gatewayCount: number,
  detectorsPerGateway: number,
  variant: ProbeCountyVariant = DIRECT_PROBES,
): ProbeCounty {
  const institutions: CountyConfigInput['institutions'] = [];
  const gateways: ProbeGateway[] = [];
  for (let n = 1; n <= gatewayCount; n++) {
    const institution = `${variant.prefix}-${String(n).padStart(4, '0')}`;
    const gateway = `gw-${institution}`;
    const detectors = Array.from({ length: detectorsPerGateway }, (_, k) => `fd${String(k + 1).padStart(3, '0')}`);
    institutions.push({
      id: institution,
      name: `报警时延测试养老机构 ${n}`,
      address: `基准测试县 报警路 ${n} 号`,
      location: { lng: 105 + (n % 50) * 0.01, lat: 31 + Math.floor(n / 50) * 0.01 },
      beds: 40,
      gateways: [
        {
          id: gateway,
          ...(variant.secret ? { secret: variant.secret } : {}),
          devices: detectors.map((id, k) => ({
            id,
            kind: 'fire' as const,
            name: `烟感 ${id}`,
            location: { building: 'A', floor: String(1 + (k % 5)), room: `${100 + k}` },
          })),
        },
      ],
      contacts: [
        { id: `${institution}-mgr`, name: `院长 ${n}`, role: 'manager', phone: `1380000${String(n).padStart(4, '0')}` },
        {
          id: `${institution}-fs`,
          name: `消防负责人 ${n}`,
          role: 'fire_safety',
          phone: `1390000${String(n).padStart(4, '0')}`,
        },
      ],
    });
    gateways.push({ county: variant.county.id, institution, gateway, detectors });
  }
  return {
    county: {
      county: variant.county,
      institutions,
    },
    gateways,
    detectors: gatewayCount * detectorsPerGateway,
  };
}
