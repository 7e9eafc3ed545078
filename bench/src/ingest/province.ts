import type { CountyConfigInput, DeviceKind } from '@anlian/protocol';

/** One simulated gateway as the generator drives it. */
export interface SimGateway {
  county: string;
  institution: string;
  gateway: string;
  /** Gateways whose points the latency probe follows in InfluxDB (see `isProbeGateway`). */
  probe: boolean;
  devices: { id: string; kind: DeviceKind }[];
}

export interface Province {
  counties: CountyConfigInput[];
  gateways: SimGateway[];
  devices: number;
}

/**
 * A device mix like a monitored home's: mostly smoke/heat detectors and pressure gauges, a few
 * kitchen sensors and cameras. 20 devices per gateway; all four telemetry kinds are exercised.
 */
const DEVICE_MIX: readonly DeviceKind[] = [
  'fire',
  'fire',
  'fire',
  'fire',
  'fire',
  'fire',
  'fire',
  'fire',
  'extinguisher',
  'extinguisher',
  'extinguisher',
  'extinguisher',
  'extinguisher',
  'extinguisher',
  'kitchen',
  'kitchen',
  'kitchen',
  'camera',
  'camera',
  'camera',
];

/** Institutions per simulated county: a province of 2,500 homes is 25 counties of 100. */
const INSTITUTIONS_PER_COUNTY = 100;

/**
 * 1 gateway in 100 (numbers ending in 50) is a probe: the latency poller follows exactly these
 * points in InfluxDB, so that its queries stay small whatever the rate.
 */
export const PROBE_GATEWAY_REGEX = '^gw-p-[0-9]*50$';
export const isProbeGateway = (n: number): boolean => n % 100 === 50;

export const institutionId = (n: number): string => `p-${String(n).padStart(4, '0')}`;
export const gatewayId = (n: number): string => `gw-${institutionId(n)}`;

/**
 * A simulated province: `gateways` institutions (`p-0001` …), each with one gateway (`gw-p-0001` …)
 * of `devicesPerGateway` devices, grouped into counties `bench-01` … of 100 institutions.
 * No secrets: the benchmark broker is anonymous on loopback.
 */
export function buildProvince(gateways: number, devicesPerGateway = DEVICE_MIX.length): Province {
  const counties: CountyConfigInput[] = [];
  const sims: SimGateway[] = [];
  const countyCount = Math.ceil(gateways / INSTITUTIONS_PER_COUNTY);
  for (let c = 1; c <= countyCount; c++) {
    const countyId = `bench-${String(c).padStart(2, '0')}`;
    const institutions: CountyConfigInput['institutions'] = [];
    const first = (c - 1) * INSTITUTIONS_PER_COUNTY + 1;
    const last = Math.min(gateways, c * INSTITUTIONS_PER_COUNTY);
    for (let n = first; n <= last; n++) {
      const devices = Array.from({ length: devicesPerGateway }, (_, k) => {
        const kind = DEVICE_MIX[k % DEVICE_MIX.length] ?? 'fire';
        const id = `d${String(k + 1).padStart(2, '0')}`;
        return {
          id,
          kind,
          name: `${kind} ${id}`,
          ...(kind === 'extinguisher' ? { medium: 'dry_powder' as const } : {}),
          location: { building: 'A', floor: String(1 + (k % 4)), room: `${100 + k}` },
        };
      });
      institutions.push({
        id: institutionId(n),
        name: `基准测试养老机构 ${n}`,
        address: `基准测试县 ${c} 号路 ${n} 号`,
        location: { lng: 104 + (n % 50) * 0.01, lat: 30 + Math.floor(n / 50) * 0.01 },
        beds: 50,
        gateways: [{ id: gatewayId(n), devices }],
      });
      sims.push({
        county: countyId,
        institution: institutionId(n),
        gateway: gatewayId(n),
        probe: isProbeGateway(n),
        devices: devices.map((d) => ({ id: d.id, kind: d.kind })),
      });
    }
    counties.push({
      county: { id: countyId, name: `基准测试县 ${c}`, adcode: String(510200 + c).padStart(6, '0') },
      institutions,
    });
  }
  return { counties, gateways: sims, devices: gateways * devicesPerGateway };
}
