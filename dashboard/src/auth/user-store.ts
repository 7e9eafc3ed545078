import { randomUUID } from 'node:crypto';
import { hashSecret, VerificationGate, verifySecret } from '@anlian/store';
import type { Kysely } from 'kysely';
import { DashboardError, DashboardErrorCode } from '../errors.js';
import type { DashboardDatabase, Role, UsersTable } from '../store/dashboard-schema.js';
import type { Principal } from './principal.js';
import { newToken, tokenDigest } from './token-digest.js';

export interface UserRecord {
  id: string;
  username: string;
  displayName: string;
  role: Role;
  county: string;
  institution: string | null;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface NewUser {
  username: string;
  displayName: string;
  password: string;
  role: Role;
  county: string;
  institution?: string | null;
}

export interface KioskTokenRecord {
  id: string;
  name: string;
  county: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
}

export interface UserStoreOptions {
  clock?: () => number;
  /** A session ends after this long without use. */
  idleTimeoutMs?: number;
  /** `last_seen_at` is written at most this often per session: reads stay reads. */
  touchEveryMs?: number;
  /** Bounds concurrent password checks (scrypt); default 2 at once, 64 waiting. */
  verificationGate?: VerificationGate;
}

/** A scrypt hash to compare against when the user does not exist, so timing does not tell. */
let dummyHash: Promise<string> | undefined;

/** Users, sessions and kiosk tokens in the operational store. */
export class UserStore {
  readonly #db: Kysely<DashboardDatabase>;
  readonly #clock: () => number;
  readonly #idleMs: number;
  readonly #touchMs: number;
  readonly #gate: VerificationGate;

  constructor(db: Kysely<DashboardDatabase>, opts: UserStoreOptions = {}) {
    this.#db = db;
    this.#clock = opts.clock ?? Date.now;
    this.#idleMs = opts.idleTimeoutMs ?? 12 * 3600_000;
    this.#touchMs = opts.touchEveryMs ?? 60_000;
    this.#gate = opts.verificationGate ?? new VerificationGate();
  }

  get idleTimeoutMs(): number {
    return this.#idleMs;
  }

  async createUser(u: NewUser): Promise<UserRecord> {
    if (u.role === 'institution_manager' && !u.institution) {
      throw new DashboardError(DashboardErrorCode.BAD_REQUEST, 'an institution manager needs an institution');
    }
    const taken = await this.#db.selectFrom('users').select('id').where('username', '=', u.username).executeTakeFirst();
    if (taken) throw new DashboardError(DashboardErrorCode.CONFLICT, `username "${u.username}" is taken`);
    const now = this.#clock();
    const row: UsersTable = {
      id: randomUUID(),
      username: u.username,
      display_name: u.displayName,
      password_hash: await hashSecret(u.password),
      role: u.role,
      county_id: u.county,
      institution_id: u.role === 'institution_manager' ? (u.institution ?? null) : null,
      disabled: 0,
      created_at: now,
      updated_at: now,
    };
    await this.#db.insertInto('users').values(row).execute();
    return toUser(row);
  }

  async updateUser(
    id: string,
    patch: { displayName?: string; password?: string; role?: Role; institution?: string | null; disabled?: boolean },
  ): Promise<UserRecord> {
    const current = await this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    if (!current) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `user ${id} not found`);
    const role = patch.role ?? current.role;
    const institution = patch.institution !== undefined ? patch.institution : current.institution_id;
    if (role === 'institution_manager' && !institution) {
      throw new DashboardError(DashboardErrorCode.BAD_REQUEST, 'an institution manager needs an institution');
    }
    const next: UsersTable = {
      ...current,
      display_name: patch.displayName ?? current.display_name,
      password_hash: patch.password !== undefined ? await hashSecret(patch.password) : current.password_hash,
      role,
      institution_id: role === 'institution_manager' ? institution : null,
      disabled: patch.disabled === undefined ? current.disabled : patch.disabled ? 1 : 0,
      updated_at: this.#clock(),
    };
    await this.#db.updateTable('users').set(next).where('id', '=', id).execute();
    if (endsSessions(patch)) {
      await this.#db.deleteFrom('sessions').where('user_id', '=', id).execute();
    }
    return toUser(next);
  }

  async listUsers(): Promise<UserRecord[]> {
    const rows = await this.#db.selectFrom('users').selectAll().orderBy('username').execute();
    return rows.map(toUser);
  }

  async userByName(username: string): Promise<UserRecord | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    return row && toUser(row);
  }

  /**
   * The user when the password matches and the account is enabled; undefined otherwise. The hash
   * waits for a turn at the verification gate: rejects with `ANL_ERR_VERIFY_BUSY` when too many
   * wait, and with the signal's reason when the requester leaves first.
   */
  async checkPassword(
    username: string,
    password: string,
    opts: { signal?: AbortSignal } = {},
  ): Promise<UserRecord | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
    if (!row) {
      dummyHash ??= hashSecret('not-a-password-of-anyone');
      const dummy = await dummyHash;
      await this.#gate.run(() => verifySecret(password, dummy), opts.signal);
      return undefined;
    }
    const ok = await this.#gate.run(() => verifySecret(password, row.password_hash), opts.signal);
    return ok && row.disabled === 0 ? toUser(row) : undefined;
  }

  /** Starts a session; returns the cookie token (only its digest is stored). */
  async createSession(
    who: { userId: string } | { kioskTokenId: string },
    meta: { userAgent?: string | undefined; ip?: string | undefined },
  ): Promise<string> {
    const token = newToken();
    const now = this.#clock();
    await this.#db
      .insertInto('sessions')
      .values({
        id: tokenDigest(token),
        user_id: 'userId' in who ? who.userId : null,
        kiosk_token_id: 'kioskTokenId' in who ? who.kioskTokenId : null,
        created_at: now,
        last_seen_at: now,
        expires_at: now + this.#idleMs,
        user_agent: meta.userAgent?.slice(0, 256) ?? null,
        ip: meta.ip ?? null,
      })
      .execute();
    // Expired sessions go when new ones come: no timer needed.
    await this.#db.deleteFrom('sessions').where('expires_at', '<', now).execute();
    return token;
  }

  /** The principal behind a session cookie, sliding its expiry; undefined when it is not valid. */
  async resolveSession(token: string): Promise<Principal | undefined> {
    const id = tokenDigest(token);
    const now = this.#clock();
    const s = await this.#db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!s || s.expires_at <= now) return undefined;
    let principal: Principal | undefined;
    if (s.user_id) {
      const u = await this.#db.selectFrom('users').selectAll().where('id', '=', s.user_id).executeTakeFirst();
      if (u && u.disabled === 0) {
        principal = {
          id: u.id,
          name: u.username,
          displayName: u.display_name,
          role: u.role,
          county: u.county_id,
          institution: u.institution_id,
          sessionId: id,
        };
      }
    } else if (s.kiosk_token_id) {
      const k = await this.#db
        .selectFrom('kiosk_tokens')
        .selectAll()
        .where('id', '=', s.kiosk_token_id)
        .executeTakeFirst();
      if (k && k.revoked_at === null && (k.expires_at === null || k.expires_at > now)) {
        principal = {
          id: `kiosk:${k.id}`,
          name: `kiosk:${k.name}`,
          displayName: k.name,
          role: 'viewer',
          county: k.county_id,
          institution: null,
          sessionId: id,
        };
      }
    }
    if (!principal) return undefined;
    if (now - s.last_seen_at >= this.#touchMs) {
      await this.#db
        .updateTable('sessions')
        .set({ last_seen_at: now, expires_at: now + this.#idleMs })
        .where('id', '=', id)
        .execute();
    }
    return principal;
  }

  async endSession(sessionId: string): Promise<void> {
    await this.#db.deleteFrom('sessions').where('id', '=', sessionId).execute();
  }

  /** Issues a kiosk token for a wall screen; the token is returned once and stored as a digest. */
  async createKioskToken(k: { name: string; county: string; createdBy: string; expiresAt?: number | null }): Promise<{
    token: string;
    record: KioskTokenRecord;
  }> {
    const token = newToken();
    const now = this.#clock();
    const row = {
      id: randomUUID(),
      name: k.name,
      county_id: k.county,
      token_hash: tokenDigest(token),
      created_by: k.createdBy,
      created_at: now,
      expires_at: k.expiresAt ?? null,
      revoked_at: null,
    };
    await this.#db.insertInto('kiosk_tokens').values(row).execute();
    return { token, record: toKiosk(row) };
  }

  /** A kiosk token that is known, not revoked and not expired. */
  async checkKioskToken(token: string): Promise<KioskTokenRecord | undefined> {
    const row = await this.#db
      .selectFrom('kiosk_tokens')
      .selectAll()
      .where('token_hash', '=', tokenDigest(token))
      .executeTakeFirst();
    const now = this.#clock();
    if (!row || row.revoked_at !== null || (row.expires_at !== null && row.expires_at <= now)) return undefined;
    return toKiosk(row);
  }

  async listKioskTokens(): Promise<KioskTokenRecord[]> {
    const rows = await this.#db.selectFrom('kiosk_tokens').selectAll().orderBy('created_at', 'desc').execute();
    return rows.map(toKiosk);
  }

  async revokeKioskToken(id: string): Promise<KioskTokenRecord> {
    const now = this.#clock();
    await this.#db.updateTable('kiosk_tokens').set({ revoked_at: now }).where('id', '=', id).execute();
    await this.#db.deleteFrom('sessions').where('kiosk_token_id', '=', id).execute();
    const row = await this.#db.selectFrom('kiosk_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw new DashboardError(DashboardErrorCode.NOT_FOUND, `kiosk token ${id} not found`);
    return toKiosk(row);
  }
}

/** A new password, role or institution, or a disabled account, ends the sessions the user had. */
export function endsSessions(patch: {
  password?: string;
  role?: Role;
  institution?: string | null;
  disabled?: boolean;
}): boolean {
  return (
    patch.password !== undefined ||
    patch.role !== undefined ||
    patch.disabled === true ||
    patch.institution !== undefined
  );
}

function toUser(r: UsersTable): UserRecord {
  return {
    id: r.id,
    username: r.username,
    displayName: r.display_name,
    role: r.role,
    county: r.county_id,
    institution: r.institution_id,
    disabled: r.disabled === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toKiosk(r: {
  id: string;
  name: string;
  county_id: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}): KioskTokenRecord {
  return {
    id: r.id,
    name: r.name,
    county: r.county_id,
    createdBy: r.created_by,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}
