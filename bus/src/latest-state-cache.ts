import type { DeviceKind, EventType, GatewayState } from '@anlian/protocol';

/** The latest values of one device, as the dashboard shows them. */
export interface DeviceState {
  county: string;
  institution: string;
  gateway: string;
  device: string;
  kind: DeviceKind;
  confirmed: boolean;
  /** Device time of the latest telemetry. */
  ts?: number;
  /** County time the latest message (telemetry or event) arrived. */
  receivedAt: number;
  /** The latest telemetry values, without the envelope. */
  values: Record<string, number | boolean | string>;
  lastEvent?: { event: EventType; ts: number; zone?: string; detail?: string };
}

export interface GatewayStateEntry {
  county: string;
  institution: string;
  gateway: string;
  state: GatewayState;
  /** Device time of the latest status document. */
  since: number;
  receivedAt: number;
  lastHeartbeat?: { ts: number; uptimeS: number; queueDepth: number; adaptersOk: number; adaptersTotal: number };
}

/**
 * Latest state per device and gateway, in memory, for the dashboard and the rules.
 * Keys are `gateway/device`. Older device times never overwrite newer ones, so a replayed
 * backlog does not roll a value back.
 */
export class LatestStateCache {
  readonly #devices = new Map<string, DeviceState>();
  readonly #gateways = new Map<string, GatewayStateEntry>();

  static key(gateway: string, device: string): string {
    return `${gateway}/${device}`;
  }

  /**
   * Takes a device's latest telemetry. `values` may be the whole payload: the envelope (`v`,
   * `ts`, `seq`, `kind`) is left out.
   *
   * A device already here is updated in place, its values object included: at 10,000 msg/s a new
   * state object per message lived until that device's next report (seconds), so every one was
   * promoted to the old generation and then thrown away there (~3 MB/s of old-space garbage,
   * most of ingest's heap growth and major GCs in bench:ingest). Readers therefore get a live
   * view: copy what must not change under them.
   */
  updateTelemetry(
    id: Omit<DeviceState, 'values' | 'ts' | 'receivedAt' | 'lastEvent'>,
    ts: number,
    receivedAt: number,
    values: object,
    /** `LatestStateCache.key(id.gateway, id.device)`, when the caller has it already. */
    key?: string,
  ): void {
    const k = key ?? LatestStateCache.key(id.gateway, id.device);
    const prev = this.#devices.get(k);
    if (prev?.ts !== undefined && prev.ts > ts) return;
    if (
      prev !== undefined &&
      prev.kind === id.kind &&
      prev.confirmed === id.confirmed &&
      prev.institution === id.institution &&
      prev.county === id.county
    ) {
      prev.ts = ts;
      prev.receivedAt = receivedAt;
      copyValues(prev.values, values);
      return;
    }
    const fresh: DeviceState['values'] = {};
    copyValues(fresh, values);
    // One shape for every entry: the same keys, in the same order.
    const next: DeviceState = {
      county: id.county,
      institution: id.institution,
      gateway: id.gateway,
      device: id.device,
      kind: id.kind,
      confirmed: id.confirmed,
      ts,
      receivedAt,
      values: fresh,
    };
    if (prev?.lastEvent !== undefined) next.lastEvent = prev.lastEvent;
    this.#devices.set(k, next);
  }

  updateEvent(
    id: Omit<DeviceState, 'values' | 'ts' | 'receivedAt' | 'lastEvent'>,
    event: NonNullable<DeviceState['lastEvent']>,
    receivedAt: number,
  ): void {
    const k = LatestStateCache.key(id.gateway, id.device);
    const prev = this.#devices.get(k);
    if (prev?.lastEvent && prev.lastEvent.ts > event.ts) return;
    this.#devices.set(k, { ...(prev ?? { ...id, values: {} }), receivedAt, lastEvent: event });
  }

  updateGateway(entry: Omit<GatewayStateEntry, 'lastHeartbeat'>): void {
    const prev = this.#gateways.get(entry.gateway);
    if (prev && prev.since > entry.since) return;
    this.#gateways.set(entry.gateway, {
      ...entry,
      ...(prev?.lastHeartbeat ? { lastHeartbeat: prev.lastHeartbeat } : {}),
    });
  }

  updateHeartbeat(
    id: { county: string; institution: string; gateway: string },
    hb: NonNullable<GatewayStateEntry['lastHeartbeat']>,
    receivedAt: number,
  ): void {
    const prev = this.#gateways.get(id.gateway);
    if (prev?.lastHeartbeat && prev.lastHeartbeat.ts > hb.ts) return;
    // A heartbeat proves the gateway is online even if its status document was missed.
    this.#gateways.set(id.gateway, {
      ...id,
      state: prev?.state ?? 'online',
      since: prev?.since ?? hb.ts,
      receivedAt,
      lastHeartbeat: hb,
    });
  }

  device(gateway: string, device: string): DeviceState | undefined {
    return this.#devices.get(LatestStateCache.key(gateway, device));
  }

  gateway(gateway: string): GatewayStateEntry | undefined {
    return this.#gateways.get(gateway);
  }

  devices(filter?: { institution?: string }): DeviceState[] {
    const all = [...this.#devices.values()];
    return filter?.institution ? all.filter((d) => d.institution === filter.institution) : all;
  }

  gateways(filter?: { institution?: string }): GatewayStateEntry[] {
    const all = [...this.#gateways.values()];
    return filter?.institution ? all.filter((g) => g.institution === filter.institution) : all;
  }

  get size(): { devices: number; gateways: number } {
    return { devices: this.#devices.size, gateways: this.#gateways.size };
  }

  /** Everything, as JSON-able data: saved so a restart does not blank the dashboard. */
  snapshot(): LatestStateSnapshot {
    return { version: 1, devices: [...this.#devices.values()], gateways: [...this.#gateways.values()] };
  }

  /**
   * Takes back a saved snapshot under what is already here: an entry newer in the cache (a
   * message that arrived before the restore) wins over the saved one.
   */
  restore(snapshot: LatestStateSnapshot): void {
    for (const d of snapshot.devices) {
      const k = LatestStateCache.key(d.gateway, d.device);
      if (!this.#devices.has(k)) this.#devices.set(k, d);
    }
    for (const g of snapshot.gateways) {
      if (!this.#gateways.has(g.gateway)) this.#gateways.set(g.gateway, g);
    }
  }
}

/**
 * `into` becomes a copy of `from`'s values without the envelope: keys are assigned in place
 * (no allocation when a report has the keys of the last one) and keys `from` lacks are removed.
 */
function copyValues(into: DeviceState['values'], from: object): void {
  const src = from as Record<string, unknown>;
  let stale = false;
  for (const key in into) {
    if (!(key in src)) {
      stale = true;
      break;
    }
  }
  if (stale) for (const key in into) if (!(key in src)) delete into[key];
  for (const key in src) {
    if (key === 'v' || key === 'ts' || key === 'seq' || key === 'kind') continue;
    const value = src[key];
    if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') into[key] = value;
  }
}

export interface LatestStateSnapshot {
  version: 1;
  devices: DeviceState[];
  gateways: GatewayStateEntry[];
}
