import type { CountyConfig, GatewayConfig } from '@anlian/protocol';
import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import type { ContactsTable, Database, DevicesTable, EpochMs, GatewaysTable } from './schema.js';
import { hashSecret, mosquittoHash, verifyMosquittoHash, verifySecret } from './secret-hash.js';

/** What an import did to one kind of entity. */
export interface EntityChanges {
  created: number;
  updated: number;
  unchanged: number;
  /**
   * Registered entities of this county that the file no longer lists, as ids (`gateway/device`
   * for devices, `institution/contact` for contacts). They are kept: deleting them is an
   * administrator's decision, not a side effect of a shorter file.
   */
  notInFile: string[];
}

export interface ImportSummary {
  county: { id: string; status: 'created' | 'updated' | 'unchanged' };
  institutions: EntityChanges;
  /** `credentialsChanged` counts gateways whose stored hashes were replaced (also counted in `updated`). */
  gateways: EntityChanges & { credentialsChanged: number };
  /** `adoptedFromUnconfirmed`: file devices that had been seen before as unconfirmed; that record is removed. */
  devices: EntityChanges & { adoptedFromUnconfirmed: number };
  contacts: EntityChanges;
  /** Rows created or updated over all entities; 0 when the file matches the store. */
  changes: number;
}

export interface ImportResult {
  summary: ImportSummary;
  /** Gateways whose identity or credentials changed: their cached verifications must go. */
  changedGatewayIds: string[];
}

type StoredGateway = Pick<GatewaysTable, 'id' | 'institution_id' | 'name' | 'secret_hash' | 'mosquitto_hash'>;
type StoredContact = Omit<ContactsTable, 'created_at' | 'updated_at'>;

interface StoredCredentials {
  secret_hash: string | null;
  mosquitto_hash: string | null;
}

/** The credentials a gateway should have after the import, worked out from the stored ones it read. */
interface CredentialPlan {
  basis: StoredCredentials | undefined;
  /** `undefined`: keep what is stored. */
  next: StoredCredentials | undefined;
}

/** Rows per multi-row INSERT: ≤ 16 columns × 500 stays under SQLite's 32766 and PostgreSQL's 65535 parameters. */
const INSERT_CHUNK = 500;
/** Ids per `IN (…)` list. */
const IN_CHUNK = 500;

/**
 * Upserts a parsed county file in one transaction. Idempotent: importing the same file again
 * writes nothing. scrypt work happens before the transaction so that the write lock is held
 * for database work only.
 */
export async function importCountyConfig(
  db: Kysely<Database>,
  config: CountyConfig,
  opts: { now: EpochMs; logger?: Logger | undefined },
): Promise<ImportResult> {
  const { now, logger } = opts;
  const fileGateways = config.institutions.flatMap((inst) => inst.gateways);

  // Phase 1, outside the transaction: decide which gateways need new hashes.
  const storedBefore = await readCredentials(
    db,
    fileGateways.map((g) => g.id),
  );
  const plans = new Map<string, CredentialPlan>();
  await Promise.all(
    fileGateways.map(async (gw) => {
      const basis = storedBefore.get(gw.id);
      plans.set(gw.id, { basis, next: await planCredentials(gw, basis) });
    }),
  );

  return db.transaction().execute(async (trx) => {
    // The plans are only good for the hashes they were made from: redo any that changed meanwhile.
    const storedNow = await readCredentials(
      trx,
      fileGateways.map((g) => g.id),
    );
    for (const gw of fileGateways) {
      const current = storedNow.get(gw.id);
      const plan = plans.get(gw.id);
      if (!plan || !sameCredentials(plan.basis, current)) {
        plans.set(gw.id, { basis: current, next: await planCredentials(gw, current) });
      }
    }
    return applyImport(trx, config, plans, now, logger);
  });
}

async function applyImport(
  trx: Transaction<Database>,
  config: CountyConfig,
  plans: Map<string, CredentialPlan>,
  now: EpochMs,
  logger: Logger | undefined,
): Promise<ImportResult> {
  const countyId = config.county.id;
  const changedGatewayIds: string[] = [];

  // ---- county
  const countyRow = {
    name: config.county.name,
    adcode: config.county.adcode,
    timezone: config.county.timezone,
    center_lng: config.county.center?.lng ?? null,
    center_lat: config.county.center?.lat ?? null,
  };
  const storedCounty = await trx.selectFrom('counties').selectAll().where('id', '=', countyId).executeTakeFirst();
  let countyStatus: ImportSummary['county']['status'] = 'unchanged';
  if (!storedCounty) {
    await trx
      .insertInto('counties')
      .values({ id: countyId, ...countyRow, created_at: now, updated_at: now })
      .execute();
    countyStatus = 'created';
  } else if (!sameFields(storedCounty, countyRow)) {
    await trx
      .updateTable('counties')
      .set({ ...countyRow, updated_at: now })
      .where('id', '=', countyId)
      .execute();
    countyStatus = 'updated';
  }

  // ---- institutions
  const fileInstitutionIds = config.institutions.map((i) => i.id);
  const storedInstitutions = new Map(
    (await trx.selectFrom('institutions').selectAll().where('county_id', '=', countyId).execute()).map((r) => [
      r.id,
      r,
    ]),
  );
  for (const chunk of chunks(fileInstitutionIds, IN_CHUNK)) {
    for (const r of await trx.selectFrom('institutions').selectAll().where('id', 'in', chunk).execute()) {
      storedInstitutions.set(r.id, r);
    }
  }
  const institutions = emptyChanges();
  const newInstitutions = [];
  for (const inst of config.institutions) {
    const row = {
      county_id: countyId,
      name: inst.name,
      address: inst.address,
      lng: inst.location.lng,
      lat: inst.location.lat,
      beds: inst.beds,
    };
    const stored = storedInstitutions.get(inst.id);
    if (!stored) {
      newInstitutions.push({ id: inst.id, ...row, created_at: now, updated_at: now });
      institutions.created++;
    } else if (sameFields(stored, row)) {
      institutions.unchanged++;
    } else {
      if (stored.county_id !== countyId) {
        logger?.warn(
          { institution: inst.id, from: stored.county_id, to: countyId },
          'institution moves to another county',
        );
      }
      await trx
        .updateTable('institutions')
        .set({ ...row, updated_at: now })
        .where('id', '=', inst.id)
        .execute();
      institutions.updated++;
    }
  }
  for (const chunk of chunks(newInstitutions, INSERT_CHUNK))
    await trx.insertInto('institutions').values(chunk).execute();
  const fileInstitutionSet = new Set(fileInstitutionIds);
  institutions.notInFile = [...storedInstitutions.values()]
    .filter((r) => r.county_id === countyId && !fileInstitutionSet.has(r.id))
    .map((r) => r.id)
    .sort();
  const countyInstitutionIds = [
    ...new Set([
      ...fileInstitutionIds,
      ...[...storedInstitutions.values()].filter((r) => r.county_id === countyId).map((r) => r.id),
    ]),
  ];

  // ---- gateways
  const fileGatewayIds = config.institutions.flatMap((i) => i.gateways.map((g) => g.id));
  const storedGateways = new Map<string, StoredGateway>();
  for (const chunk of chunks(countyInstitutionIds, IN_CHUNK)) {
    for (const r of await selectGateways(trx).where('institution_id', 'in', chunk).execute())
      storedGateways.set(r.id, r);
  }
  for (const chunk of chunks(fileGatewayIds, IN_CHUNK)) {
    for (const r of await selectGateways(trx).where('id', 'in', chunk).execute()) storedGateways.set(r.id, r);
  }
  const gateways = { ...emptyChanges(), credentialsChanged: 0 };
  const newGateways = [];
  for (const inst of config.institutions) {
    for (const gw of inst.gateways) {
      const stored = storedGateways.get(gw.id);
      const next = plans.get(gw.id)?.next;
      if (!stored) {
        newGateways.push({
          id: gw.id,
          institution_id: inst.id,
          name: gw.name ?? null,
          secret_hash: next?.secret_hash ?? null,
          mosquitto_hash: next?.mosquitto_hash ?? null,
          enabled: 1 as const,
          created_at: now,
          updated_at: now,
          credentials_rotated_at: next?.secret_hash ? now : null,
        });
        gateways.created++;
        continue;
      }
      const row = { institution_id: inst.id, name: gw.name ?? null };
      const credentialsChange = next !== undefined && !sameCredentials(next, stored);
      if (sameFields(stored, row) && !credentialsChange) {
        gateways.unchanged++;
        continue;
      }
      if (stored.institution_id !== inst.id) {
        logger?.info(
          { gateway: gw.id, from: stored.institution_id, to: inst.id },
          'gateway moves to another institution',
        );
      }
      await trx
        .updateTable('gateways')
        .set({
          ...row,
          ...(credentialsChange ? { ...next, credentials_rotated_at: now } : {}),
          updated_at: now,
        })
        .where('id', '=', gw.id)
        .execute();
      gateways.updated++;
      if (credentialsChange) gateways.credentialsChanged++;
      changedGatewayIds.push(gw.id);
    }
  }
  for (const chunk of chunks(newGateways, INSERT_CHUNK)) await trx.insertInto('gateways').values(chunk).execute();
  const fileGatewaySet = new Set(fileGatewayIds);
  gateways.notInFile = [...storedGateways.keys()].filter((id) => !fileGatewaySet.has(id)).sort();
  const relevantGatewayIds = [...new Set([...fileGatewayIds, ...storedGateways.keys()])];

  // ---- devices
  const storedDevices = new Map<string, DevicesTable>();
  for (const chunk of chunks(relevantGatewayIds, IN_CHUNK)) {
    for (const r of await trx.selectFrom('devices').selectAll().where('gateway_id', 'in', chunk).execute()) {
      storedDevices.set(deviceKey(r.gateway_id, r.id), r);
    }
  }
  const unconfirmed = new Map<string, { first_seen_at: EpochMs; last_seen_at: EpochMs }>();
  for (const chunk of chunks(fileGatewayIds, IN_CHUNK)) {
    const rows = await trx
      .selectFrom('unconfirmed_devices')
      .select(['gateway_id', 'device_id', 'first_seen_at', 'last_seen_at'])
      .where('gateway_id', 'in', chunk)
      .execute();
    for (const r of rows) unconfirmed.set(deviceKey(r.gateway_id, r.device_id), r);
  }
  const devices = { ...emptyChanges(), adoptedFromUnconfirmed: 0 };
  const newDevices: DevicesTable[] = [];
  const fileDeviceKeys = new Set<string>();
  for (const inst of config.institutions) {
    for (const gw of inst.gateways) {
      for (const d of gw.devices) {
        const key = deviceKey(gw.id, d.id);
        fileDeviceKeys.add(key);
        const row = {
          institution_id: inst.id,
          kind: d.kind,
          name: d.name,
          medium: d.medium ?? null,
          building: d.location.building,
          floor: d.location.floor,
          room: d.location.room,
          report_interval_s: d.reportIntervalS ?? null,
          confirmed: 1 as const,
        };
        const seen = unconfirmed.get(key);
        if (seen) {
          await trx
            .deleteFrom('unconfirmed_devices')
            .where('gateway_id', '=', gw.id)
            .where('device_id', '=', d.id)
            .execute();
          devices.adoptedFromUnconfirmed++;
        }
        const stored = storedDevices.get(key);
        if (!stored) {
          newDevices.push({
            gateway_id: gw.id,
            id: d.id,
            ...row,
            first_seen_at: seen?.first_seen_at ?? null,
            last_seen_at: seen?.last_seen_at ?? null,
            created_at: now,
            updated_at: now,
          });
          devices.created++;
        } else if (sameFields(stored, row)) {
          devices.unchanged++;
        } else {
          await trx
            .updateTable('devices')
            .set({ ...row, updated_at: now })
            .where('gateway_id', '=', gw.id)
            .where('id', '=', d.id)
            .execute();
          devices.updated++;
        }
      }
    }
  }
  for (const chunk of chunks(newDevices, INSERT_CHUNK)) await trx.insertInto('devices').values(chunk).execute();
  devices.notInFile = [...storedDevices.keys()].filter((k) => !fileDeviceKeys.has(k)).sort();

  // ---- contacts
  const storedContacts = new Map<string, StoredContact>();
  for (const chunk of chunks(countyInstitutionIds, IN_CHUNK)) {
    for (const r of await selectContacts(trx).where('institution_id', 'in', chunk).execute()) {
      storedContacts.set(deviceKey(r.institution_id, r.id), r);
    }
  }
  const contacts = emptyChanges();
  const newContacts = [];
  const fileContactKeys = new Set<string>();
  for (const inst of config.institutions) {
    for (const c of inst.contacts) {
      const key = deviceKey(inst.id, c.id);
      fileContactKeys.add(key);
      const row = {
        name: c.name,
        role: c.role,
        phone: c.phone,
        wecom_user_id: c.wecomUserId ?? null,
        dingtalk_user_id: c.dingtalkUserId ?? null,
      };
      const stored = storedContacts.get(key);
      if (!stored) {
        newContacts.push({ institution_id: inst.id, id: c.id, ...row, created_at: now, updated_at: now });
        contacts.created++;
      } else if (sameFields(stored, row)) {
        contacts.unchanged++;
      } else {
        await trx
          .updateTable('contacts')
          .set({ ...row, updated_at: now })
          .where('institution_id', '=', inst.id)
          .where('id', '=', c.id)
          .execute();
        contacts.updated++;
      }
    }
  }
  for (const chunk of chunks(newContacts, INSERT_CHUNK)) await trx.insertInto('contacts').values(chunk).execute();
  contacts.notInFile = [...storedContacts.keys()].filter((k) => !fileContactKeys.has(k)).sort();

  const changes =
    (countyStatus === 'unchanged' ? 0 : 1) +
    [institutions, gateways, devices, contacts].reduce((n, e) => n + e.created + e.updated, 0);
  return {
    summary: { county: { id: countyId, status: countyStatus }, institutions, gateways, devices, contacts, changes },
    changedGatewayIds,
  };
}

/** What the file asks for, given what is stored; `undefined` when the stored hashes already fit. */
async function planCredentials(
  gw: GatewayConfig,
  stored: StoredCredentials | undefined,
): Promise<StoredCredentials | undefined> {
  if (gw.secretHash !== undefined) {
    return stored?.secret_hash === gw.secretHash ? undefined : { secret_hash: gw.secretHash, mosquitto_hash: null };
  }
  if (gw.secret === undefined) return undefined;
  // Verify before rehashing: a fresh salt would otherwise change the row on every import.
  const scryptOk = stored?.secret_hash ? await verifySecret(gw.secret, stored.secret_hash) : false;
  const mosquittoOk = stored?.mosquitto_hash ? verifyMosquittoHash(gw.secret, stored.mosquitto_hash) : false;
  if (scryptOk && mosquittoOk) return undefined;
  return {
    secret_hash: scryptOk && stored?.secret_hash ? stored.secret_hash : await hashSecret(gw.secret),
    mosquitto_hash: mosquittoHash(gw.secret),
  };
}

async function readCredentials(db: Kysely<Database>, ids: readonly string[]): Promise<Map<string, StoredCredentials>> {
  const out = new Map<string, StoredCredentials>();
  for (const chunk of chunks(ids, IN_CHUNK)) {
    const rows = await db
      .selectFrom('gateways')
      .select(['id', 'secret_hash', 'mosquitto_hash'])
      .where('id', 'in', chunk)
      .execute();
    for (const r of rows) out.set(r.id, { secret_hash: r.secret_hash, mosquitto_hash: r.mosquitto_hash });
  }
  return out;
}

function selectGateways(trx: Transaction<Database>) {
  return trx.selectFrom('gateways').select(['id', 'institution_id', 'name', 'secret_hash', 'mosquitto_hash']);
}

function selectContacts(trx: Transaction<Database>) {
  return trx
    .selectFrom('contacts')
    .select(['institution_id', 'id', 'name', 'role', 'phone', 'wecom_user_id', 'dingtalk_user_id']);
}

function sameCredentials(a: StoredCredentials | undefined, b: StoredCredentials | undefined): boolean {
  return a?.secret_hash === b?.secret_hash && a?.mosquitto_hash === b?.mosquitto_hash;
}

/** True when every field of `desired` equals the stored one. */
function sameFields<T extends object>(stored: T, desired: Partial<T>): boolean {
  return (Object.keys(desired) as (keyof T)[]).every((k) => stored[k] === desired[k]);
}

function deviceKey(parent: string, id: string): string {
  return `${parent}/${id}`;
}

function emptyChanges(): EntityChanges {
  return { created: 0, updated: 0, unchanged: 0, notInFile: [] };
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
