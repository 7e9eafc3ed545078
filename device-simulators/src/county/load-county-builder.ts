import { CountyConfig, type CountyConfigInput, type DeviceKind, type PressureMedium } from '@anlian/protocol';
import { parseDurationMs } from '../duration.js';
import { SimErrorCode, SimulatorError } from '../errors.js';

/** `--load 250x200x10s`: institutions × devices per institution × report interval. */
export interface LoadSpec {
  institutions: number;
  devicesPerInstitution: number;
  intervalS: number;
}

export function parseLoadSpec(text: string): LoadSpec {
  const m = /^(\d+)\s*[x×]\s*(\d+)\s*[x×]\s*(\S+)$/i.exec(text.trim());
  const intervalMs = m?.[3] === undefined ? undefined : parseDurationMs(m[3]);
  if (!m || intervalMs === undefined || intervalMs < 1000) {
    throw new SimulatorError(
      SimErrorCode.BAD_ARGUMENT,
      `--load ${JSON.stringify(text)}: expected INSTITUTIONSxDEVICESxINTERVAL, e.g. 250x200x10s (interval ≥ 1s)`,
    );
  }
  const spec = {
    institutions: Number(m[1]),
    devicesPerInstitution: Number(m[2]),
    intervalS: Math.round(intervalMs / 1000),
  };
  if (
    spec.institutions < 1 ||
    spec.institutions > 10_000 ||
    spec.devicesPerInstitution < 1 ||
    spec.devicesPerInstitution > 5000
  ) {
    throw new SimulatorError(SimErrorCode.BAD_ARGUMENT, `--load ${text}: 1–10000 institutions of 1–5000 devices`);
  }
  return spec;
}

// A monitored home's mix (the demo county: ~65 % detectors, 18 % gauges, 14 % cameras, 3 % kitchen),
// as a repeating pattern of 20 so that any device count keeps the proportions.
const PATTERN: readonly (readonly [DeviceKind, PressureMedium?])[] = [
  ['fire'],
  ['fire'],
  ['camera'],
  ['fire'],
  ['extinguisher', 'dry_powder'],
  ['fire'],
  ['fire'],
  ['camera'],
  ['fire'],
  ['extinguisher', 'dry_powder'],
  ['fire'],
  ['kitchen'],
  ['fire'],
  ['camera'],
  ['fire'],
  ['extinguisher', 'sprinkler'],
  ['fire'],
  ['fire'],
  ['extinguisher', 'hydrant_static'],
  ['fire'],
];

/**
 * A synthetic county for load tests: `institutions` homes with one gateway each and
 * `devicesPerInstitution` devices reporting every `intervalS`. No secrets: the broker must allow
 * anonymous clients, or the simulator is given credentials to use for every gateway.
 */
export function buildLoadCounty(spec: LoadSpec & { countyId?: string }): CountyConfig {
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  const iw = Math.max(4, String(spec.institutions).length);
  const dw = Math.max(4, String(spec.devicesPerInstitution).length);
  const cols = Math.ceil(Math.sqrt(spec.institutions));
  const input: CountyConfigInput = {
    county: { id: spec.countyId ?? 'loadtest', name: '负载测试县', adcode: '999999', timezone: 'Asia/Shanghai' },
    institutions: Array.from({ length: spec.institutions }, (_, i) => {
      const id = `load-${pad(i + 1, iw)}`;
      return {
        id,
        name: `负载测试机构${i + 1}`,
        address: `负载测试县${i + 1}号`,
        // A grid around the demo county seat; only the dashboard map cares.
        location: { lng: 108.5 + (i % cols) * 0.01, lat: 28.6 + Math.floor(i / cols) * 0.01 },
        beds: 50,
        gateways: [
          {
            id: `gw-${id}`,
            devices: Array.from({ length: spec.devicesPerInstitution }, (_, k) => {
              const [kind, medium] = PATTERN[k % PATTERN.length] ?? ['fire'];
              const floor = 1 + Math.floor(k / 40);
              return {
                id: `${kind === 'extinguisher' ? 'ext' : kind}-${pad(k + 1, dw)}`,
                kind,
                ...(medium ? { medium } : {}),
                name: `${kind} ${k + 1}`,
                location: {
                  building: '主楼',
                  floor: `${floor}F`,
                  room: kind === 'kitchen' ? '厨房' : `${floor}${pad((k % 40) + 1, 2)}室`,
                },
                reportIntervalS: spec.intervalS,
              };
            }),
          },
        ],
      };
    }),
  };
  return CountyConfig.parse(input);
}
