import { randomBytes } from 'node:crypto';
import { type ContactRole, type CountyConfig, type DEVICE_KINDS, PressureMedium } from '@anlian/protocol';
import { type Database, Registry } from '@anlian/store';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { DashboardError, DashboardErrorCode } from '../errors.js';
import type { DashboardDatabase } from '../store/dashboard-schema.js';

export interface InstitutionInput {
  name: string;
  address: string;
  lng: number;
  lat: number;
  beds: number;
}

export interface DeviceInput {
  institution: string;
  kind: (typeof DEVICE_KINDS)[number];
  name: string;
  medium?: PressureMedium | undefined;
  building: string;
  floor: string;
  room: string;
  reportIntervalS?: number | null | undefined;
}

export interface ContactInput {
  id: string;
  name: string;
  role: ContactRole;
  phone: string;
  wecomUserId?: string | null | undefined;
  dingtalkUserId?: string | null | undefined;
}

/**
 * Writes to the registry from the admin pages. Every write bumps `updated_at`, which ingest's
 * change probe watches, so ingest and the dashboard's own view pick changes up without a restart.
 * Gateways' credentials go through ingest's `Registry` so its verification cache is invalidated.
 */
export class RegistryEditor {
  readonly #db: Kysely<DashboardDatabase>;
  readonly #registry: Registry;
  readonly #clock: () => number;

  constructor(db: Kysely<DashboardDatabase>, logger: Logger, clock: () => number = Date.now) {
    this.#db = db;
    this.#registry = new Registry(db as unknown as Kysely<Database>, { logger, clock });
    this.#clock = clock;
  }

  get registry(): Registry {
    return this.#registry;
  }

  async putInstitution(county: string, id: string, input: InstitutionInput): Promise<'created' | 'updated'> {
    const now = this.#clock();
    const existing = await this.#db
      .selectFrom('institutions')
      .select(['id', 'county_id'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (existing && existing.county_id !== county)
      throw new DashboardError(DashboardErrorCode.CONFLICT, `institution ${id} belongs to another county`);
    if (existing) {
      await this.#db
        .updateTable('institutions')
        .set({ ...input, updated_at: now })
        .where('id', '=', id)
        .execute();
      return 'updated';
    }
    await this.#db
      .insertInto('institutions')
      .values({ id, county_id: county, ...input, created_at: now, updated_at: now })
      .execute();
    return 'created';
  }

  /** Creates a gateway or renames/moves it; credentials are issued with `rotateSecret`. */
  async putGateway(id: string, input: { institution: string; name: string | null }): Promise<'created' | 'updated'> {
    const now = this.#clock();
    const existing = await this.#db.selectFrom('gateways').select('id').where('id', '=', id).executeTakeFirst();
    if (existing) {
      await this.#db
        .updateTable('gateways')
        .set({ institution_id: input.institution, name: input.name, updated_at: now })
        .where('id', '=', id)
        .execute();
      await this.#db
        .updateTable('devices')
        .set({ institution_id: input.institution, updated_at: now })
        .where('gateway_id', '=', id)
        .execute();
      return 'updated';
    }
    await this.#db
      .insertInto('gateways')
      .values({
        id,
        institution_id: input.institution,
        name: input.name,
        secret_hash: null,
        mosquitto_hash: null,
        enabled: 1,
        created_at: now,
        updated_at: now,
        credentials_rotated_at: null,
      })
      .execute();
    return 'created';
  }

  /** Issues a new random secret; returns it once — only its hashes are stored. */
  async rotateSecret(gateway: string): Promise<string> {
    const secret = randomBytes(24).toString('base64url');
    await this.#registry.setGatewaySecret(gateway, secret);
    return secret;
  }

  async setGatewayEnabled(gateway: string, enabled: boolean): Promise<void> {
    await this.#registry.setGatewayEnabled(gateway, enabled);
  }

  async putDevice(gateway: string, id: string, input: DeviceInput): Promise<'created' | 'updated'> {
    if (input.medium !== undefined && input.kind !== 'extinguisher') {
      throw new DashboardError(DashboardErrorCode.BAD_REQUEST, 'medium is only for extinguisher devices');
    }
    const now = this.#clock();
    const values = {
      institution_id: input.institution,
      kind: input.kind,
      name: input.name,
      medium: input.medium ?? null,
      building: input.building,
      floor: input.floor,
      room: input.room,
      report_interval_s: input.reportIntervalS ?? null,
      confirmed: 1 as const,
      updated_at: now,
    };
    const existing = await this.#db
      .selectFrom('devices')
      .select('id')
      .where('gateway_id', '=', gateway)
      .where('id', '=', id)
      .executeTakeFirst();
    if (existing) {
      await this.#db
        .updateTable('devices')
        .set(values)
        .where('gateway_id', '=', gateway)
        .where('id', '=', id)
        .execute();
      return 'updated';
    }
    await this.#db
      .insertInto('devices')
      .values({ gateway_id: gateway, id, ...values, first_seen_at: null, last_seen_at: null, created_at: now })
      .execute();
    await this.#db
      .deleteFrom('unconfirmed_devices')
      .where('gateway_id', '=', gateway)
      .where('device_id', '=', id)
      .execute();
    return 'created';
  }

  async deleteDevice(gateway: string, id: string): Promise<boolean> {
    const r = await this.#db
      .deleteFrom('devices')
      .where('gateway_id', '=', gateway)
      .where('id', '=', id)
      .executeTakeFirst();
    // A delete leaves no newer updated_at behind; the change probe sees the count drop.
    return r.numDeletedRows > 0n;
  }

  async replaceContacts(institution: string, contacts: readonly ContactInput[]): Promise<void> {
    const now = this.#clock();
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('contacts').where('institution_id', '=', institution).execute();
      if (contacts.length === 0) return;
      await trx
        .insertInto('contacts')
        .values(
          contacts.map((c) => ({
            institution_id: institution,
            id: c.id,
            name: c.name,
            role: c.role,
            phone: c.phone,
            wecom_user_id: c.wecomUserId ?? null,
            dingtalk_user_id: c.dingtalkUserId ?? null,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
    });
  }

  /** The county's registry as a county file, without any credentials (for export). */
  async exportCounty(county: string): Promise<CountyConfig> {
    const c = await this.#db.selectFrom('counties').selectAll().where('id', '=', county).executeTakeFirst();
    if (!c) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `no county ${county}`);
    const institutions = await this.#db
      .selectFrom('institutions')
      .selectAll()
      .where('county_id', '=', county)
      .orderBy('id')
      .execute();
    const ids = institutions.map((i) => i.id);
    const gateways = ids.length
      ? await this.#db.selectFrom('gateways').selectAll().where('institution_id', 'in', ids).orderBy('id').execute()
      : [];
    const devices = ids.length
      ? await this.#db
          .selectFrom('devices')
          .selectAll()
          .where('institution_id', 'in', ids)
          .where('confirmed', '=', 1)
          .orderBy('gateway_id')
          .orderBy('id')
          .execute()
      : [];
    const contacts = ids.length
      ? await this.#db.selectFrom('contacts').selectAll().where('institution_id', 'in', ids).orderBy('id').execute()
      : [];
    return {
      county: {
        id: c.id,
        name: c.name,
        adcode: c.adcode,
        timezone: c.timezone,
        ...(c.center_lng !== null && c.center_lat !== null ? { center: { lng: c.center_lng, lat: c.center_lat } } : {}),
      },
      institutions: institutions.map((i) => ({
        id: i.id,
        name: i.name,
        address: i.address,
        location: { lng: i.lng, lat: i.lat },
        beds: i.beds,
        gateways: gateways
          .filter((g) => g.institution_id === i.id)
          .map((g) => ({
            id: g.id,
            ...(g.name ? { name: g.name } : {}),
            devices: devices
              .filter((d) => d.gateway_id === g.id)
              .map((d) => ({
                id: d.id,
                kind: d.kind as (typeof DEVICE_KINDS)[number],
                name: d.name,
                ...(d.medium ? { medium: PressureMedium.parse(d.medium) } : {}),
                location: { building: d.building, floor: d.floor, room: d.room },
                ...(d.report_interval_s !== null ? { reportIntervalS: d.report_interval_s } : {}),
              })),
          })),
        contacts: contacts
          .filter((k) => k.institution_id === i.id)
          .map((k) => ({
            id: k.id,
            name: k.name,
            role: k.role as ContactRole,
            phone: k.phone,
            ...(k.wecom_user_id ? { wecomUserId: k.wecom_user_id } : {}),
            ...(k.dingtalk_user_id ? { dingtalkUserId: k.dingtalk_user_id } : {}),
          })),
      })),
    };
  }
}
