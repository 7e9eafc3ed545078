import type { CountyConfig, DeviceConfig, DeviceKind } from '@anlian/protocol';
import { hashUnit } from '../prng.js';
import type { FaultTarget } from '../scenario/scenario-schema.js';

/** A gateway, or a device on a gateway, in the simulated county. */
export interface TargetRef {
  institution: string;
  gateway: string;
  device?: string;
}

interface DeviceEntry {
  institution: string;
  gateway: string;
  device: DeviceConfig;
}

/** True when the target names or filters devices (rather than only an institution or gateway). */
export function targetsDevices(t: FaultTarget): boolean {
  return (
    t.device !== undefined ||
    t.kind !== undefined ||
    t.medium !== undefined ||
    t.building !== undefined ||
    t.floor !== undefined ||
    t.room !== undefined
  );
}

function pick<T>(items: T[], t: FaultTarget, seed: number, salt: string): T[] {
  if (items.length === 0 || t.pick === 'all') return items;
  if (t.pick === 'seeded') return [items[Math.floor(hashUnit(seed, salt) * items.length)] as T];
  return [items[0] as T];
}

function matchesDevice(e: DeviceEntry, t: FaultTarget, kind: DeviceKind | undefined): boolean {
  const d = e.device;
  return (
    (t.institution === undefined || e.institution === t.institution) &&
    (t.gateway === undefined || e.gateway === t.gateway) &&
    (t.device === undefined || d.id === t.device) &&
    ((t.kind ?? kind) === undefined || d.kind === (t.kind ?? kind)) &&
    (t.medium === undefined || (d.medium ?? (d.kind === 'extinguisher' ? 'dry_powder' : undefined)) === t.medium) &&
    (t.building === undefined || d.location.building === t.building) &&
    (t.floor === undefined || d.location.floor === t.floor) &&
    (t.room === undefined || d.location.room.includes(t.room))
  );
}

/**
 * Devices a fault acts on, in county-file order: `kind` defaults to what the fault needs
 * (a fire alarm picks a `fire` device). Deterministic: `first` and `all` ignore the seed.
 */
export function selectDevices(
  county: CountyConfig,
  t: FaultTarget,
  opts: { kind?: DeviceKind; seed: number; salt: string },
): TargetRef[] {
  const matches: TargetRef[] = [];
  for (const inst of county.institutions) {
    if (t.institution !== undefined && inst.id !== t.institution) continue;
    for (const gw of inst.gateways) {
      if (t.gateway !== undefined && gw.id !== t.gateway) continue;
      for (const device of gw.devices) {
        if (matchesDevice({ institution: inst.id, gateway: gw.id, device }, t, opts.kind)) {
          matches.push({ institution: inst.id, gateway: gw.id, device: device.id });
        }
      }
    }
  }
  return pick(matches, t, opts.seed, opts.salt);
}

/** Gateways a fault acts on; device filters select the gateways that carry matching devices. */
export function selectGateways(
  county: CountyConfig,
  t: FaultTarget,
  opts: { seed: number; salt: string },
): TargetRef[] {
  const matches: TargetRef[] = [];
  const deviceLevel = targetsDevices(t);
  for (const inst of county.institutions) {
    if (t.institution !== undefined && inst.id !== t.institution) continue;
    for (const gw of inst.gateways) {
      if (t.gateway !== undefined && gw.id !== t.gateway) continue;
      if (
        deviceLevel &&
        !gw.devices.some((device) => matchesDevice({ institution: inst.id, gateway: gw.id, device }, t, undefined))
      ) {
        continue;
      }
      matches.push({ institution: inst.id, gateway: gw.id });
    }
  }
  return pick(matches, t, opts.seed, opts.salt);
}

/** `yy-zhongduo/gw-yy-zhongduo-1/heat-kitchen-1`, for messages. */
export function formatTarget(r: TargetRef): string {
  return r.device === undefined ? `${r.institution}/${r.gateway}` : `${r.institution}/${r.gateway}/${r.device}`;
}
