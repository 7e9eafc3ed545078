import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type CountyConfig,
  DEFAULT_REPORT_INTERVAL_S,
  DEVICE_KINDS,
  type DeviceKind,
  PressureMedium,
} from '@anlian/protocol';
import { type Kysely, sql } from 'kysely';
import type { Logger } from 'pino';
import { registryChangeProbe } from './change-probe.js';
import { type ImportSummary, importCountyConfig } from './county-import.js';
import { readDevicePages } from './device-pages.js';
import { StoreError, StoreErrorCode } from './errors.js';
import type { GatewayDirectory, GatewayIdentity, VerifyGatewayOptions } from './gateway-directory.js';
import type { Database, EpochMs } from './schema.js';
import { hashSecret, mosquittoHash, secretDigest, verifySecret } from './secret-hash.js';
import { VerificationGate } from './verification-gate.js';

/** Where a device is, as the county file gives it (protocol `DeviceLocation`). */
export interface DeviceLocationRecord {
  building: string;
  floor: string;
  room: string;
}

/** A registered, confirmed device as ingest and alerting need it, keyed `${gatewayId}/${deviceId}`. */
export interface DeviceRecord {
  countyId: string;
  institutionId: string;
  gatewayId: string;
  deviceId: string;
  kind: DeviceKind;
  name: string;
  medium?: PressureMedium;
  /** The configured interval, or the protocol's default for the kind. */
  reportIntervalS: number;
  location: DeviceLocationRecord;
}

export interface GatewayRecord extends GatewayIdentity {
  name: string | null;
  /** False for a gateway registered without secret or secretHash: it cannot connect. */
  hasCredentials: boolean;
  credentialsRotatedAt: EpochMs | null;
  createdAt: EpochMs;
  updatedAt: EpochMs;
}

/** One message from a device that is not in the registry, under a gateway that is. */
export interface UnconfirmedDeviceSighting {
  gatewayId: string;
  deviceId: string;
  kind?: string | undefined;
  seenAt: EpochMs;
  /** Messages this sighting stands for (callers that aggregate); 1 when absent. */
  count?: number | undefined;
  /** The earliest of them, when aggregated; `seenAt` when absent. */
  firstSeenAt?: EpochMs | undefined;
}

export interface UnconfirmedDeviceRecord {
  countyId: string;
  institutionId: string;
  gatewayId: string;
  deviceId: string;
  kind: string | null;
  firstSeenAt: EpochMs;
  lastSeenAt: EpochMs;
  messageCount: number;
}

/** What a mosquitto password file and ACL need; enabled gateways only. */
export interface MosquittoCredential {
  gatewayId: string;
  county: string;
  institution: string;
  /** `$7$…`; null when the gateway's secret is known only as a scrypt `secretHash`. */
  mosquittoHash: string | null;
}

export interface CountySummary {
  institutions: number;
  gateways: number;
  devices: { total: number; byKind: Record<DeviceKind, number> };
  unconfirmedDevices: number;
}

export interface RegistryOptions {
  logger?: Logger;
  /** Epoch ms; injectable for tests. */
  clock?: () => EpochMs;
  /**
   * How long a successful verification is reused without scrypt. Bounds how long a change made
   * by another process (another replica, an admin tool) takes to apply; changes made through
   * this instance apply at once.
   */
  verifyCacheTtlMs?: number;
  verifyCacheMaxEntries?: number;
  /** Bounds concurrent scrypt verifications (default: 2 at once, 64 waiting). */
  verificationGate?: VerificationGate;
}

/** A row of `Registry.deviceIndex`'s query. */
interface DeviceIndexRow {
  county_id: string;
  institution_id: string;
  gateway_id: string;
  id: string;
  kind: string;
  name: string;
  medium: string | null;
  report_interval_s: number | null;
  building: string;
  floor: string;
  room: string;
}

interface VerifiedEntry {
  digest: Buffer;
  /** The stored hash the secret was verified against: a rotation anywhere changes it. */
  hash: string;
  at: EpochMs;
}

const isAbort = (err: unknown): boolean => err instanceof Error && err.name === 'AbortError';

/** The protocol's bounds for a gateway secret (`GatewayConfig.secret`). */
const SECRET_MIN = 12;
const SECRET_MAX = 256;
const UPSERT_CHUNK = 500;

/**
 * The registry of counties, institutions, gateways and devices in the operational store, and the
 * broker's `GatewayDirectory`.
 */
export class Registry implements GatewayDirectory {
  readonly #db: Kysely<Database>;
  readonly #log: Logger | undefined;
  readonly #clock: () => EpochMs;
  readonly #cacheTtlMs: number;
  readonly #cacheMax: number;
  /**
   * Successful verifications: gateway id → keyed digest of the secret. A reconnect storm of
   * thousands of gateways would otherwise cost one ~50 ms scrypt each.
   */
  readonly #verified = new Map<string, VerifiedEntry>();
  /** Verifications in flight, so that one gateway reconnecting repeatedly costs one scrypt. */
  readonly #inflight = new Map<string, Promise<GatewayIdentity | null>>();
  /** Bumped on every invalidation: a verification that started before it must not fill the cache. */
  #generation = 0;
  readonly #digestKey = randomBytes(32);
  readonly #gate: VerificationGate;

  constructor(db: Kysely<Database>, opts: RegistryOptions = {}) {
    this.#db = db;
    this.#log = opts.logger?.child({ module: 'registry' });
    this.#clock = opts.clock ?? Date.now;
    this.#cacheTtlMs = opts.verifyCacheTtlMs ?? 5 * 60_000;
    this.#cacheMax = opts.verifyCacheMaxEntries ?? 100_000;
    this.#gate = opts.verificationGate ?? new VerificationGate();
  }

  /** A round trip to the database, for health checks; rejects when it is unreachable. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.#db);
  }

  /** Upserts a parsed county file; see `ImportSummary`. Idempotent. */
  async importCounty(config: CountyConfig): Promise<ImportSummary> {
    const { summary, changedGatewayIds } = await importCountyConfig(this.#db, config, {
      now: this.#clock(),
      logger: this.#log,
    });
    for (const id of changedGatewayIds) this.#invalidate(id);
    const counts = (e: { created: number; updated: number; unchanged: number; notInFile: string[] }) => ({
      created: e.created,
      updated: e.updated,
      unchanged: e.unchanged,
      notInFile: e.notInFile.length,
    });
    this.#log?.info(
      {
        county: summary.county,
        institutions: counts(summary.institutions),
        gateways: { ...counts(summary.gateways), credentialsChanged: summary.gateways.credentialsChanged },
        devices: { ...counts(summary.devices), adoptedFromUnconfirmed: summary.devices.adoptedFromUnconfirmed },
        contacts: counts(summary.contacts),
        changes: summary.changes,
      },
      'county imported',
    );
    return summary;
  }

  /**
   * Checks a gateway's credentials against the store. Every call reads the gateway's row (one
   * primary-key lookup), so that a rotation or a disable made by any process sharing the store —
   * the dashboard's admin page, `anlian seed` — takes effect at the next CONNECT. What the cache
   * saves is the scrypt: a secret verified against the same stored hash within the TTL is not
   * hashed again.
   */
  async verifyGateway(id: string, secret: string, opts: VerifyGatewayOptions = {}): Promise<GatewayIdentity | null> {
    const digest = secretDigest(secret, this.#digestKey);
    if (opts.cachedOnly) return this.#verify(id, secret, digest, opts);
    const flightKey = `${id}\0${digest.toString('base64')}`;
    for (;;) {
      let flight = this.#inflight.get(flightKey);
      if (!flight) {
        flight = this.#verify(id, secret, digest, opts).finally(() => this.#inflight.delete(flightKey));
        this.#inflight.set(flightKey, flight);
      }
      try {
        const identity = await flight;
        return identity ? { ...identity } : null;
      } catch (err) {
        // The flight was started by a requester that has gone; this one has not: verify anew.
        if (opts.signal?.aborted || !isAbort(err)) throw err;
      }
    }
  }

  async #verify(
    id: string,
    secret: string,
    digest: Buffer,
    opts: VerifyGatewayOptions,
  ): Promise<GatewayIdentity | null> {
    const generation = this.#generation;
    const row = await this.#db
      .selectFrom('gateways')
      .innerJoin('institutions', 'institutions.id', 'gateways.institution_id')
      .select([
        'gateways.id',
        'gateways.enabled',
        'gateways.secret_hash',
        'gateways.institution_id',
        'institutions.county_id',
      ])
      .where('gateways.id', '=', id)
      .executeTakeFirst();
    if (row?.enabled !== 1 || !row.secret_hash) {
      this.#verified.delete(id);
      return null;
    }
    const identity: GatewayIdentity = {
      id: row.id,
      county: row.county_id,
      institution: row.institution_id,
      enabled: true,
    };
    const hit = this.#verified.get(id);
    if (
      hit &&
      hit.hash === row.secret_hash &&
      this.#clock() - hit.at < this.#cacheTtlMs &&
      timingSafeEqual(hit.digest, digest)
    ) {
      return identity;
    }
    if (opts.cachedOnly) return null;
    const hash = row.secret_hash;
    if (!(await this.#gate.run(() => verifySecret(secret, hash), opts.signal))) return null;
    if (generation === this.#generation) {
      this.#verified.delete(id);
      if (this.#verified.size >= this.#cacheMax) {
        const oldest = this.#verified.keys().next();
        if (!oldest.done) this.#verified.delete(oldest.value);
      }
      this.#verified.set(id, { digest, hash: row.secret_hash, at: this.#clock() });
    }
    return identity;
  }

  async getGateway(id: string): Promise<GatewayIdentity | undefined> {
    const row = await this.#db
      .selectFrom('gateways')
      .innerJoin('institutions', 'institutions.id', 'gateways.institution_id')
      .select(['gateways.id', 'gateways.enabled', 'gateways.institution_id', 'institutions.county_id'])
      .where('gateways.id', '=', id)
      .executeTakeFirst();
    return row && { id: row.id, county: row.county_id, institution: row.institution_id, enabled: row.enabled === 1 };
  }

  async listGateways(): Promise<GatewayRecord[]> {
    const rows = await this.#db
      .selectFrom('gateways')
      .innerJoin('institutions', 'institutions.id', 'gateways.institution_id')
      .select([
        'gateways.id',
        'gateways.name',
        'gateways.enabled',
        'gateways.institution_id',
        'institutions.county_id',
        'gateways.created_at',
        'gateways.updated_at',
        'gateways.credentials_rotated_at',
        sql<number>`case when gateways.secret_hash is null then 0 else 1 end`.as('has_credentials'),
      ])
      .orderBy('gateways.id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      county: r.county_id,
      institution: r.institution_id,
      enabled: r.enabled === 1,
      name: r.name,
      hasCredentials: Number(r.has_credentials) === 1,
      credentialsRotatedAt: r.credentials_rotated_at,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }));
  }

  /** Rotates a gateway's secret: both hashes are replaced and cached verifications dropped. */
  async setGatewaySecret(id: string, secret: string): Promise<void> {
    if (secret.length < SECRET_MIN || secret.length > SECRET_MAX) {
      throw new StoreError(
        StoreErrorCode.SECRET_INVALID,
        `a gateway secret has ${SECRET_MIN}–${SECRET_MAX} characters`,
      );
    }
    const secretHash = await hashSecret(secret);
    const now = this.#clock();
    const result = await this.#db
      .updateTable('gateways')
      .set({
        secret_hash: secretHash,
        mosquitto_hash: mosquittoHash(secret),
        credentials_rotated_at: now,
        updated_at: now,
      })
      .where('id', '=', id)
      .executeTakeFirst();
    this.#invalidate(id);
    if (result.numUpdatedRows === 0n) {
      throw new StoreError(StoreErrorCode.GATEWAY_UNKNOWN, `gateway "${id}" is not registered`);
    }
    this.#log?.info({ gateway: id }, 'gateway credentials rotated');
  }

  /** Enables or disables a gateway; a disabled gateway fails verification at once. */
  async setGatewayEnabled(id: string, enabled: boolean): Promise<void> {
    const result = await this.#db
      .updateTable('gateways')
      .set({ enabled: enabled ? 1 : 0, updated_at: this.#clock() })
      .where('id', '=', id)
      .executeTakeFirst();
    this.#invalidate(id);
    if (result.numUpdatedRows === 0n) {
      throw new StoreError(StoreErrorCode.GATEWAY_UNKNOWN, `gateway "${id}" is not registered`);
    }
    this.#log?.info({ gateway: id, enabled }, enabled ? 'gateway enabled' : 'gateway disabled');
  }

  /**
   * A cheap fingerprint of what `listGateways` and `deviceIndex` return: row count and latest
   * `updated_at` of institutions, gateways and devices, in one round trip of three aggregates.
   * Every write through this store (import, rotation, enable/disable) bumps `updated_at` or a
   * count, so an unchanged fingerprint means there is nothing to reload. It can miss a change made
   * in the same millisecond as the latest one before it: callers still reload now and then.
   */
  changeProbe(): Promise<string> {
    return registryChangeProbe(this.#db, ['institutions', 'gateways', 'devices']);
  }

  /** Confirmed devices keyed `${gatewayId}/${deviceId}`. */
  /** Every confirmed device, keyed `gateway/device` (read in pages: `readDevicePages`). */
  async deviceIndex(pageSize = 2000): Promise<Map<string, DeviceRecord>> {
    const rows = await readDevicePages(
      this.#db,
      (q) =>
        q
          .select([
            'institutions.county_id',
            'devices.institution_id',
            'devices.gateway_id',
            'devices.id',
            'devices.kind',
            'devices.name',
            'devices.medium',
            'devices.report_interval_s',
            'devices.building',
            'devices.floor',
            'devices.room',
          ])
          .where('devices.confirmed', '=', 1),
      pageSize,
    );
    const index = new Map<string, DeviceRecord>();
    this.#indexDevices(rows, index);
    return index;
  }

  #indexDevices(rows: readonly DeviceIndexRow[], index: Map<string, DeviceRecord>): void {
    for (const r of rows) {
      const kind = asDeviceKind(r.kind);
      if (!kind) {
        this.#log?.warn(
          { gateway: r.gateway_id, device: r.id, kind: r.kind },
          'device of unknown kind left out of the index',
        );
        continue;
      }
      const medium = r.medium === null ? undefined : PressureMedium.safeParse(r.medium).data;
      index.set(`${r.gateway_id}/${r.id}`, {
        countyId: r.county_id,
        institutionId: r.institution_id,
        gatewayId: r.gateway_id,
        deviceId: r.id,
        kind,
        name: r.name,
        ...(medium ? { medium } : {}),
        reportIntervalS: r.report_interval_s ?? DEFAULT_REPORT_INTERVAL_S[kind],
        location: { building: r.building, floor: r.floor, room: r.room },
      });
    }
  }

  /**
   * Records messages from devices that are not registered under a registered gateway, in one
   * upsert per batch (`message_count += n`, first/last seen widened). Sightings under unknown
   * gateways are ignored (the broker refuses those gateways anyway). The caller leaves out
   * devices that are in `deviceIndex()`.
   */
  async recordUnconfirmedDevices(sightings: readonly UnconfirmedDeviceSighting[]): Promise<void> {
    if (sightings.length === 0) return;
    const merged = new Map<
      string,
      { gateway_id: string; device_id: string; kind: string | null; first: number; last: number; n: number }
    >();
    for (const s of sightings) {
      const key = `${s.gatewayId}/${s.deviceId}`;
      const m = merged.get(key);
      if (!m) {
        merged.set(key, {
          gateway_id: s.gatewayId,
          device_id: s.deviceId,
          kind: s.kind ?? null,
          first: s.firstSeenAt ?? s.seenAt,
          last: s.seenAt,
          n: s.count ?? 1,
        });
      } else {
        m.n += s.count ?? 1;
        m.first = Math.min(m.first, s.firstSeenAt ?? s.seenAt);
        m.last = Math.max(m.last, s.seenAt);
        if (s.kind !== undefined) m.kind = s.kind;
      }
    }
    const gatewayIds = [...new Set([...merged.values()].map((m) => m.gateway_id))];
    await this.#db.transaction().execute(async (trx) => {
      const known = new Set<string>();
      for (let i = 0; i < gatewayIds.length; i += UPSERT_CHUNK) {
        const rows = await trx
          .selectFrom('gateways')
          .select('id')
          .where('id', 'in', gatewayIds.slice(i, i + UPSERT_CHUNK))
          .execute();
        for (const r of rows) known.add(r.id);
      }
      const values = [...merged.values()]
        .filter((m) => known.has(m.gateway_id))
        .map((m) => ({
          gateway_id: m.gateway_id,
          device_id: m.device_id,
          kind: m.kind,
          first_seen_at: m.first,
          last_seen_at: m.last,
          message_count: m.n,
        }));
      for (let i = 0; i < values.length; i += UPSERT_CHUNK) {
        // Portable upsert: SQLite ≥ 3.24 and PostgreSQL share ON CONFLICT … DO UPDATE and `excluded`;
        // CASE instead of max()/greatest(), which differ between them.
        await trx
          .insertInto('unconfirmed_devices')
          .values(values.slice(i, i + UPSERT_CHUNK))
          .onConflict((oc) =>
            oc.columns(['gateway_id', 'device_id']).doUpdateSet({
              message_count: sql<number>`unconfirmed_devices.message_count + excluded.message_count`,
              first_seen_at: sql<number>`case when excluded.first_seen_at < unconfirmed_devices.first_seen_at then excluded.first_seen_at else unconfirmed_devices.first_seen_at end`,
              last_seen_at: sql<number>`case when excluded.last_seen_at > unconfirmed_devices.last_seen_at then excluded.last_seen_at else unconfirmed_devices.last_seen_at end`,
              kind: sql<string | null>`coalesce(excluded.kind, unconfirmed_devices.kind)`,
            }),
          )
          .execute();
      }
      const ignored = sightings.filter((s) => !known.has(s.gatewayId)).length;
      if (ignored > 0) this.#log?.debug({ ignored }, 'sightings under unknown gateways ignored');
    });
  }

  async listUnconfirmedDevices(): Promise<UnconfirmedDeviceRecord[]> {
    const rows = await this.#db
      .selectFrom('unconfirmed_devices as u')
      .innerJoin('gateways as g', 'g.id', 'u.gateway_id')
      .innerJoin('institutions as i', 'i.id', 'g.institution_id')
      .select([
        'i.county_id',
        'g.institution_id',
        'u.gateway_id',
        'u.device_id',
        'u.kind',
        'u.first_seen_at',
        'u.last_seen_at',
        'u.message_count',
      ])
      .orderBy('u.gateway_id')
      .orderBy('u.device_id')
      .execute();
    return rows.map((r) => ({
      countyId: r.county_id,
      institutionId: r.institution_id,
      gatewayId: r.gateway_id,
      deviceId: r.device_id,
      kind: r.kind,
      firstSeenAt: r.first_seen_at,
      lastSeenAt: r.last_seen_at,
      messageCount: r.message_count,
    }));
  }

  /** Enabled gateways with their mosquitto password hash, for a password file and per-gateway ACL. */
  async mosquittoCredentials(): Promise<MosquittoCredential[]> {
    const rows = await this.#db
      .selectFrom('gateways as g')
      .innerJoin('institutions as i', 'i.id', 'g.institution_id')
      .select(['g.id', 'i.county_id', 'g.institution_id', 'g.mosquitto_hash'])
      .where('g.enabled', '=', 1)
      .orderBy('g.id')
      .execute();
    return rows.map((r) => ({
      gatewayId: r.id,
      county: r.county_id,
      institution: r.institution_id,
      mosquittoHash: r.mosquitto_hash,
    }));
  }

  /** Counts for one county, or for all when `countyId` is left out. */
  async countySummary(countyId?: string): Promise<CountySummary> {
    const db = this.#db;
    const institutions = await db
      .selectFrom('institutions as i')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .$if(countyId !== undefined, (q) => q.where('i.county_id', '=', countyId ?? ''))
      .executeTakeFirstOrThrow();
    const gateways = await db
      .selectFrom('gateways as g')
      .innerJoin('institutions as i', 'i.id', 'g.institution_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .$if(countyId !== undefined, (q) => q.where('i.county_id', '=', countyId ?? ''))
      .executeTakeFirstOrThrow();
    const devices = await db
      .selectFrom('devices as d')
      .innerJoin('institutions as i', 'i.id', 'd.institution_id')
      .select((eb) => ['d.kind', eb.fn.countAll<number>().as('n')])
      .where('d.confirmed', '=', 1)
      .$if(countyId !== undefined, (q) => q.where('i.county_id', '=', countyId ?? ''))
      .groupBy('d.kind')
      .execute();
    const unconfirmed = await db
      .selectFrom('unconfirmed_devices as u')
      .innerJoin('gateways as g', 'g.id', 'u.gateway_id')
      .innerJoin('institutions as i', 'i.id', 'g.institution_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .$if(countyId !== undefined, (q) => q.where('i.county_id', '=', countyId ?? ''))
      .executeTakeFirstOrThrow();
    const byKind = Object.fromEntries(DEVICE_KINDS.map((k) => [k, 0])) as Record<DeviceKind, number>;
    let total = 0;
    for (const r of devices) {
      const kind = asDeviceKind(r.kind);
      const n = Number(r.n);
      total += n;
      if (kind) byKind[kind] += n;
    }
    return {
      institutions: Number(institutions.n),
      gateways: Number(gateways.n),
      devices: { total, byKind },
      unconfirmedDevices: Number(unconfirmed.n),
    };
  }

  #invalidate(id: string): void {
    this.#verified.delete(id);
    this.#generation++;
  }
}

function asDeviceKind(kind: string): DeviceKind | undefined {
  return (DEVICE_KINDS as readonly string[]).includes(kind) ? (kind as DeviceKind) : undefined;
}
