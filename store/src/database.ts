import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, type LogEvent, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import { StoreError, StoreErrorCode } from './errors.js';
import type { Database } from './schema.js';

export type StoreDialect = 'sqlite' | 'postgres';

export interface OpenDatabaseOptions {
  /** `postgres://…` or `postgresql://…`: PostgreSQL through a pg Pool. */
  url?: string;
  /** SQLite file (parent folders are created) or `:memory:`; used when no PostgreSQL URL is given. */
  sqlitePath?: string;
  logger?: Logger;
  /** PostgreSQL pool size. */
  poolMax?: number;
  /** SQLite: how long a writer waits for another connection's lock, in ms. */
  busyTimeoutMs?: number;
}

export interface OpenedDatabase {
  db: Kysely<Database>;
  dialect: StoreDialect;
  /** Closes the pool or the SQLite file. */
  close(): Promise<void>;
}

const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;
/** PostgreSQL's int8 (bigint, count(*)) type oid. */
const INT8_OID = 20;

/**
 * Opens the operational store: PostgreSQL when a postgres URL is given, else SQLite. Does not
 * connect or migrate: the pool connects on first use; call `migrateToLatest` before use.
 */
export function openDatabase(opts: OpenDatabaseOptions): OpenedDatabase {
  const log = opts.logger?.child({ module: 'store' });
  const onLog = log
    ? (event: LogEvent) => {
        // Parameters stay out of the log: they can hold credentials' hashes and phone numbers.
        if (event.level === 'error') log.debug({ err: event.error, sql: event.query.sql }, 'query failed');
      }
    : undefined;

  if (opts.url !== undefined && opts.url !== '') {
    if (!POSTGRES_URL.test(opts.url)) {
      throw new StoreError(
        StoreErrorCode.DATABASE_CONFIG,
        'the database URL must start with postgres:// or postgresql://; for SQLite give a file path instead',
      );
    }
    const pool = new pg.Pool({
      connectionString: opts.url,
      max: opts.poolMax ?? 10,
      // Epoch-ms timestamps and counts are int8; pg returns them as strings unless told otherwise.
      // They stay far below 2^53, so a JS number is exact. Per pool, not pg's global type table.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID && format !== 'binary'
            ? (value: string) => Number(value)
            : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client losing its connection emits on the pool; without a listener that kills the process.
    pool.on('error', (err) => log?.warn({ err }, 'idle PostgreSQL connection failed'));
    // A client checked out of the pool (between the statements of a transaction, say) has no
    // pool listener: PostgreSQL shutting down (57P01) then emitted an unhandled 'error' and killed
    // an alerting node with alert writes still queued (bin/test/production-faults.int.test.ts).
    // The statement in flight fails on its own and the pool drops the broken client on release.
    pool.on('connect', (client) => {
      client.on('error', (err) => log?.warn({ err }, 'PostgreSQL connection in use failed'));
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(onLog ? { log: onLog } : {}) });
    log?.info({ dialect: 'postgres', url: redactUrl(opts.url) }, 'operational store opened');
    return { db, dialect: 'postgres', close: () => db.destroy() };
  }

  const path = opts.sqlitePath;
  if (path === undefined || path === '') {
    throw new StoreError(
      StoreErrorCode.DATABASE_CONFIG,
      'give a PostgreSQL URL or a SQLite path for the operational store',
    );
  }
  const inMemory = path === ':memory:';
  if (!inMemory) mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new SqliteDatabase(path, { timeout: opts.busyTimeoutMs ?? 5000 });
  // WAL lets the dashboard read while ingest writes; NORMAL is durable across process crashes in WAL mode.
  if (!inMemory) sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${Math.trunc(opts.busyTimeoutMs ?? 5000)}`);
  const db = new Kysely<Database>({
    dialect: new SqliteDialect({ database: sqlite }),
    ...(onLog ? { log: onLog } : {}),
  });
  log?.info({ dialect: 'sqlite', path: inMemory ? path : resolve(path) }, 'operational store opened');
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

export function isPostgresUrl(url: string): boolean {
  return POSTGRES_URL.test(url);
}

/** A database URL without its password, for logs and banners. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    // An unparsable URL may still carry a password: log none of it.
    return 'postgres://(unparsable URL)';
  }
}
