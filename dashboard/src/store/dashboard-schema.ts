import type { Database, EpochMs, IntBool } from '@anlian/store';

/**
 * The dashboard's tables, added to the operational store by its own migrations. Same portable
 * conventions as ingest's schema: epoch-ms `bigint` timestamps, 0/1 booleans.
 */
export interface DashboardTables {
  users: UsersTable;
  sessions: SessionsTable;
  kiosk_tokens: KioskTokensTable;
  audit_log: AuditLogTable;
}

/** What the dashboard reads and writes: the registry plus its own tables. */
export type DashboardDatabase = Database & DashboardTables;

export const ROLES = ['county_admin', 'county_operator', 'institution_manager', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export interface UsersTable {
  id: string;
  username: string;
  display_name: string;
  /** scrypt, ingest's `hashSecret` format. */
  password_hash: string;
  role: Role;
  county_id: string;
  /** Only for `institution_manager`: the one institution they see and act on. */
  institution_id: string | null;
  disabled: IntBool;
  created_at: EpochMs;
  updated_at: EpochMs;
}

export interface SessionsTable {
  /** SHA-256 of the cookie's token, base64url: a database leak yields no usable session. */
  id: string;
  user_id: string | null;
  kiosk_token_id: string | null;
  created_at: EpochMs;
  last_seen_at: EpochMs;
  expires_at: EpochMs;
  user_agent: string | null;
  ip: string | null;
}

export interface KioskTokensTable {
  id: string;
  name: string;
  county_id: string;
  /** SHA-256 of the token, base64url. A kiosk token is long and random: no scrypt needed. */
  token_hash: string;
  created_by: string;
  created_at: EpochMs;
  expires_at: EpochMs | null;
  revoked_at: EpochMs | null;
}

export interface AuditLogTable {
  id: string;
  at: EpochMs;
  actor: string;
  role: string;
  action: string;
  target: string | null;
  institution_id: string | null;
  /** JSON text. */
  detail: string | null;
  ip: string | null;
}
