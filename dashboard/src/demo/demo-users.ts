import type { Database } from '@anlian/store';
import type { Kysely } from 'kysely';
import { UserStore } from '../auth/user-store.js';
import type { DashboardDatabase } from '../store/dashboard-schema.js';

/** Demo passwords: like the demo county's gateway secrets, for demonstrations only. */
export const DEMO_PASSWORDS = Object.freeze({
  admin: 'anlian-admin-demo',
  operator: 'anlian-operator-demo',
  manager: 'anlian-manager-demo',
});
const DEMO_KIOSK_NAME = 'demo-wall';

export interface DemoUsers {
  admin: { username: string; password: string };
  operator: { username: string; password: string };
  /** One manager per institution; the username is the institution id. */
  managers: { username: string; password: string; institution: string }[];
  /** A fresh kiosk token for the wall screen (the previous demo token is revoked). */
  kioskToken: string;
  created: number;
}

/**
 * Demo users for `anlian up --demo`: admin, operator, one manager per institution of the county,
 * and a kiosk token. Idempotent: existing users are kept (their passwords too); the demo kiosk
 * token is re-issued on every call because only its digest is stored.
 */
export async function seedDemoUsers(database: Kysely<Database>, county: string): Promise<DemoUsers> {
  const db = database as unknown as Kysely<DashboardDatabase>;
  const users = new UserStore(db);
  let created = 0;
  const ensure = async (
    username: string,
    displayName: string,
    password: string,
    role: 'county_admin' | 'county_operator' | 'institution_manager',
    institution?: string,
  ) => {
    if (await users.userByName(username)) return;
    await users.createUser({ username, displayName, password, role, county, institution: institution ?? null });
    created++;
  };
  await ensure('admin', '县级管理员', DEMO_PASSWORDS.admin, 'county_admin');
  await ensure('operator', '监管中心值班员', DEMO_PASSWORDS.operator, 'county_operator');
  const institutions = await db
    .selectFrom('institutions')
    .select(['id', 'name'])
    .where('county_id', '=', county)
    .orderBy('id')
    .execute();
  const managers: DemoUsers['managers'] = [];
  for (const i of institutions) {
    await ensure(i.id, `${i.name}负责人`, DEMO_PASSWORDS.manager, 'institution_manager', i.id);
    managers.push({ username: i.id, password: DEMO_PASSWORDS.manager, institution: i.id });
  }
  for (const k of await users.listKioskTokens()) {
    if (k.name === DEMO_KIOSK_NAME && k.county === county && k.revokedAt === null) await users.revokeKioskToken(k.id);
  }
  const { token } = await users.createKioskToken({ name: DEMO_KIOSK_NAME, county, createdBy: 'anlian up --demo' });
  return {
    admin: { username: 'admin', password: DEMO_PASSWORDS.admin },
    operator: { username: 'operator', password: DEMO_PASSWORDS.operator },
    managers,
    kioskToken: token,
    created,
  };
}
