import { type Kysely, PostgresAdapter, sql } from 'kysely';

/**
 * Video-review pictures (视频复核) in the operational store, for the production form: on
 * PostgreSQL every ingest replica writes here and every dashboard node, on any server, reads the
 * same pictures (a data directory of one's own would hide them from every other process). The
 * JPEG is held in the row (bytea on PostgreSQL, blob on SQLite): at most 90 KiB
 * (protocol's MAX_SNAPSHOT_IMAGE_BYTES), a few per fire alarm, kept 30 days.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const bytes = db.getExecutor().adapter instanceof PostgresAdapter ? sql`bytea` : sql`blob`;
  await db.schema
    .createTable('media')
    // `{institution}/{yyyymmdd}/{id}.jpg`, id a hash of (gateway, camera, cause, shot): a
    // redelivered snapshot has the key it had.
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('gateway_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('bytes', 'integer', (c) => c.notNull())
    .addColumn('width', 'integer')
    .addColumn('height', 'integer')
    .addColumn('cause_device', 'text', (c) => c.notNull())
    .addColumn('cause_ts', 'bigint', (c) => c.notNull())
    .addColumn('cause_zone', 'text')
    .addColumn('shot', 'integer', (c) => c.notNull())
    .addColumn('ts', 'bigint', (c) => c.notNull())
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('data', bytes, (c) => c.notNull())
    .execute();
  // An alert's pictures: its institution's detector, alarm times in the alert's window.
  await db.schema
    .createIndex('media_by_cause')
    .on('media')
    .columns(['institution_id', 'cause_device', 'cause_ts'])
    .execute();
  // Retention deletes by the time a picture was stored.
  await db.schema.createIndex('media_by_received_at').on('media').column('received_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('media').ifExists().execute();
}
