import type { Kysely } from 'kysely';

/**
 * Duty checks (查岗, GB/T 26875.3 type 91): every check the county put to an institution's fire
 * control room and what became of it — the record the supervision reports count (GB 25506: the
 * room is staffed around the clock).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('duty_checks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('gateway_id', 'text', (c) => c.notNull())
    .addColumn('requested_at', 'bigint', (c) => c.notNull())
    .addColumn('requested_by', 'text', (c) => c.notNull())
    // operator | schedule
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('answer_window_s', 'integer', (c) => c.notNull())
    // pending | answered | unanswered | unreachable | not_applicable
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('answered_at', 'bigint')
    .addColumn('operator', 'integer')
    .addColumn('completed_at', 'bigint')
    .addColumn('detail', 'text')
    .execute();
  await db.schema
    .createIndex('duty_checks_institution_time')
    .on('duty_checks')
    .columns(['institution_id', 'requested_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('duty_checks').execute();
}
