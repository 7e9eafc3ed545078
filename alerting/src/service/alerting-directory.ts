import { setImmediate as nextTurn } from 'node:timers/promises';
import { DeviceKind, PressureMedium } from '@anlian/protocol';
import { readDevicePages, registryChangeProbe } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { DeviceInfo } from '../engine/rule-engine.js';
import type { ContactRow } from '../store/alert-store.js';
import type { AlertingDatabase } from '../store/alerting-schema.js';

const KINDS: ReadonlySet<string> = new Set(DeviceKind.options);
const MEDIA: ReadonlySet<string> = new Set(PressureMedium.options);
/** Devices mapped per event-loop turn: a reload never holds a fire alarm for more than a few ms. */
const DEVICES_PER_TURN = 5000;

export interface DeviceEntry extends DeviceInfo {
  name: string;
  building: string;
  floor: string;
  room: string;
}

export interface InstitutionEntry {
  id: string;
  county: string;
  name: string;
}

/** An enabled gateway: where county → gateway commands (a drill's start and stop) go. */
export interface GatewayEntry {
  county: string;
  institution: string;
  gateway: string;
}

/**
 * What alerting needs of the registry, held in memory so the alarm path reads no database:
 * devices (kind, interval, location) for the rules and the push text, institutions' names, and
 * their contacts. `refresh()` reloads it; the service calls it periodically.
 */
export class AlertingDirectory {
  #devices = new Map<string, DeviceEntry>();
  #institutions = new Map<string, InstitutionEntry>();
  #contacts = new Map<string, ContactRow[]>();
  #gateways = new Map<string, GatewayEntry[]>();

  constructor(private readonly db: Kysely<AlertingDatabase>) {}

  #version: string | undefined;

  /**
   * Reloads when the registry changed (counts and latest `updated_at` of devices, institutions
   * and contacts); returns whether it did. A county's 50k devices take a few hundred ms to load
   * on the event loop, so an unchanged registry is not reloaded.
   */
  async refresh(): Promise<boolean> {
    const version = await registryChangeProbe(this.db, ['institutions', 'gateways', 'devices', 'contacts']);
    if (version === this.#version) return false;
    const [institutions, contacts, gateways] = await Promise.all([
      this.db.selectFrom('institutions').select(['id', 'county_id', 'name']).execute(),
      this.db.selectFrom('contacts').selectAll().execute(),
      this.db
        .selectFrom('gateways')
        .innerJoin('institutions', 'institutions.id', 'gateways.institution_id')
        .select(['gateways.id', 'gateways.institution_id', 'institutions.county_id'])
        .where('gateways.enabled', '=', 1)
        .orderBy('gateways.id')
        .execute(),
    ]);
    const devices = await readDevicePages(this.db, (q) =>
      q.select([
        'devices.gateway_id',
        'devices.id',
        'devices.institution_id',
        'institutions.county_id',
        'devices.kind',
        'devices.medium',
        'devices.report_interval_s',
        'devices.name',
        'devices.building',
        'devices.floor',
        'devices.room',
      ]),
    );
    // Mapped in slices, with set lookups rather than zod (a failed safeParse per device without a
    // medium cost 120–200 ms for 50k devices in one turn): on an alerting node this runs on the
    // alarm thread, whenever the registry changed (issue 12: periodic work never stalls it).
    const byDevice = new Map<string, DeviceEntry>();
    for (const [i, d] of devices.entries()) {
      if (i > 0 && i % DEVICES_PER_TURN === 0) await nextTurn();
      if (!KINDS.has(d.kind)) continue;
      const entry: DeviceEntry = {
        county: d.county_id,
        institution: d.institution_id,
        gateway: d.gateway_id,
        device: d.id,
        kind: d.kind as DeviceKind,
        name: d.name,
        building: d.building,
        floor: d.floor,
        room: d.room,
      };
      if (d.medium !== null && MEDIA.has(d.medium)) entry.medium = d.medium as PressureMedium;
      if (d.report_interval_s !== null) entry.reportIntervalS = d.report_interval_s;
      byDevice.set(`${d.gateway_id}/${d.id}`, entry);
    }
    const byContactInstitution = new Map<string, ContactRow[]>();
    for (const c of contacts) {
      const row: ContactRow = { institution: c.institution_id, id: c.id, name: c.name, role: c.role, phone: c.phone };
      if (c.wecom_user_id) row.wecomUserId = c.wecom_user_id;
      if (c.dingtalk_user_id) row.dingtalkUserId = c.dingtalk_user_id;
      const list = byContactInstitution.get(c.institution_id) ?? [];
      list.push(row);
      byContactInstitution.set(c.institution_id, list);
    }
    this.#devices = byDevice;
    this.#institutions = new Map(institutions.map((i) => [i.id, { id: i.id, county: i.county_id, name: i.name }]));
    this.#contacts = byContactInstitution;
    const byGatewayInstitution = new Map<string, GatewayEntry[]>();
    for (const g of gateways) {
      const list = byGatewayInstitution.get(g.institution_id) ?? [];
      list.push({ county: g.county_id, institution: g.institution_id, gateway: g.id });
      byGatewayInstitution.set(g.institution_id, list);
    }
    this.#gateways = byGatewayInstitution;
    this.#version = version;
    return true;
  }

  /** The rule engine's `DeviceLookup`. */
  readonly device = (gateway: string, device: string): DeviceEntry | undefined =>
    this.#devices.get(`${gateway}/${device}`);

  devices(): IterableIterator<DeviceEntry> {
    return this.#devices.values();
  }

  institution(id: string): InstitutionEntry | undefined {
    return this.#institutions.get(id);
  }

  /** The institution's enabled gateways. */
  gateways(institution: string): readonly GatewayEntry[] {
    return this.#gateways.get(institution) ?? [];
  }

  contacts(institution: string): readonly ContactRow[] {
    return this.#contacts.get(institution) ?? [];
  }

  get counts(): { devices: number; institutions: number } {
    return { devices: this.#devices.size, institutions: this.#institutions.size };
  }
}
