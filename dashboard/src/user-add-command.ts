import { parseEnv } from '@anlian/runtime';
import { StoreEnv, storeLocation } from '@anlian/store';
import type { Kysely } from 'kysely';
import { pino } from 'pino';
import { UserStore } from './auth/user-store.js';
import { DashboardError, DashboardErrorCode } from './errors.js';
import type { DashboardDatabase, Role } from './store/dashboard-schema.js';
import { openDashboardStore } from './store/open-dashboard-store.js';

/** `anlian user-add`: a user in the operational store, for the first admin of a county. */
export async function runUserAdd(opts: {
  username: string;
  county: string;
  role: Role;
  institution?: string;
  displayName?: string;
  password: string;
}): Promise<void> {
  if (opts.password.length < 10) {
    throw new DashboardError(DashboardErrorCode.BAD_REQUEST, 'a password has at least 10 characters');
  }
  const where = storeLocation(parseEnv(StoreEnv, process.env));
  const logger = pino({ level: 'warn' });
  const store = await openDashboardStore(where, logger);
  try {
    const users = new UserStore(store.db as unknown as Kysely<DashboardDatabase>);
    const u = await users.createUser({
      username: opts.username,
      displayName: opts.displayName ?? opts.username,
      password: opts.password,
      role: opts.role,
      county: opts.county,
      institution: opts.institution ?? null,
    });
    process.stdout.write(`user ${u.username} (${u.role}) added\n`);
  } finally {
    await store.close();
  }
}
