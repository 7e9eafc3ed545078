import { type Database, type DeviceRecord, Registry } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { DashboardDatabase } from '../store/dashboard-schema.js';

export interface CountyInfoView {
  id: string;
  name: string;
  adcode: string;
  timezone: string;
  center: { lng: number; lat: number } | null;
}

export interface InstitutionView {
  id: string;
  county: string;
  name: string;
  address: string;
  lng: number;
  lat: number;
  beds: number;
  gateways: string[];
}

export interface GatewayView {
  id: string;
  institution: string;
  name: string | null;
  enabled: boolean;
}

export interface RegistrySnapshot {
  counties: Map<string, CountyInfoView>;
  institutions: Map<string, InstitutionView>;
  gateways: Map<string, GatewayView>;
  /** Confirmed devices keyed `${gateway}/${device}` (ingest's `deviceIndex`). */
  devices: Map<string, DeviceRecord>;
  /** Device keys per institution, for per-institution views. */
  devicesByInstitution: Map<string, string[]>;
  loadedAt: number;
}

export interface RegistryViewOptions {
  db: Kysely<DashboardDatabase>;
  logger: Logger;
  /** How often to look for changes made by other processes (ingest seeding, another replica). */
  refreshMs?: number;
}

/**
 * The registry as the dashboard reads it, in memory: the wall screen's map and figures need it on
 * every update, so it is loaded once and reloaded only when ingest's change probe says the store
 * changed. `reload()` after writes made through the dashboard applies them at once.
 */
export class RegistryView {
  readonly #db: Kysely<DashboardDatabase>;
  readonly #log: Logger;
  readonly #registry: Registry;
  readonly #refreshMs: number;
  #snapshot: RegistrySnapshot = empty();
  #probe = '';
  #timer: NodeJS.Timeout | undefined;
  readonly #listeners = new Set<() => void>();

  constructor(opts: RegistryViewOptions) {
    this.#db = opts.db;
    this.#log = opts.logger.child({ module: 'registry-view' });
    this.#registry = new Registry(opts.db as unknown as Kysely<Database>, { logger: opts.logger });
    this.#refreshMs = opts.refreshMs ?? 10_000;
  }

  get snapshot(): RegistrySnapshot {
    return this.#snapshot;
  }

  /** Called after every reload that changed something. */
  onReload(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async start(): Promise<void> {
    await this.reload();
    this.#timer = setInterval(() => {
      this.#refreshIfChanged().catch((err: unknown) => this.#log.warn({ err }, 'registry refresh failed'));
    }, this.#refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async reload(): Promise<void> {
    this.#probe = await this.#registry.changeProbe();
    const [counties, institutions, gateways, devices] = await Promise.all([
      this.#db.selectFrom('counties').selectAll().execute(),
      this.#db.selectFrom('institutions').selectAll().orderBy('id').execute(),
      this.#db.selectFrom('gateways').select(['id', 'institution_id', 'name', 'enabled']).orderBy('id').execute(),
      this.#registry.deviceIndex(),
    ]);
    const snap = empty();
    for (const c of counties) {
      snap.counties.set(c.id, {
        id: c.id,
        name: c.name,
        adcode: c.adcode,
        timezone: c.timezone,
        center: c.center_lng !== null && c.center_lat !== null ? { lng: c.center_lng, lat: c.center_lat } : null,
      });
    }
    for (const i of institutions) {
      snap.institutions.set(i.id, {
        id: i.id,
        county: i.county_id,
        name: i.name,
        address: i.address,
        lng: i.lng,
        lat: i.lat,
        beds: i.beds,
        gateways: [],
      });
    }
    for (const g of gateways) {
      snap.gateways.set(g.id, { id: g.id, institution: g.institution_id, name: g.name, enabled: g.enabled === 1 });
      snap.institutions.get(g.institution_id)?.gateways.push(g.id);
    }
    snap.devices = devices;
    for (const [key, d] of devices) {
      let list = snap.devicesByInstitution.get(d.institutionId);
      if (!list) {
        list = [];
        snap.devicesByInstitution.set(d.institutionId, list);
      }
      list.push(key);
    }
    snap.loadedAt = Date.now();
    this.#snapshot = snap;
    this.#log.debug({ institutions: snap.institutions.size, devices: snap.devices.size }, 'registry loaded');
    for (const l of this.#listeners) l();
  }

  async #refreshIfChanged(): Promise<void> {
    const probe = await this.#registry.changeProbe();
    if (probe !== this.#probe) await this.reload();
  }
}

function empty(): RegistrySnapshot {
  return {
    counties: new Map(),
    institutions: new Map(),
    gateways: new Map(),
    devices: new Map(),
    devicesByInstitution: new Map(),
    loadedAt: 0,
  };
}
