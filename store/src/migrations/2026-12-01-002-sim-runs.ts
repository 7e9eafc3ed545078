import type { Kysely } from 'kysely';

/**
 * Simulation runs (design.md, Simulated time): a simulation that does not run in real time tags
 * its InfluxDB points with `sim_run` = the run's id and its store records with the same id, so
 * that everything that shows live data leaves it out. This table says what each run was — the
 * county, the simulated period, the seed — so that a report over a run can say which data it was
 * computed from.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('sim_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('county_id', 'text', (c) => c.notNull())
    // `history`: a generated month of history (device-simulators/src/history); `live`: an accelerated simulator run.
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('seed', 'integer', (c) => c.notNull())
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    // Null while it is being written; a reader trusts only a completed run.
    .addColumn('completed_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sim_runs_county').on('sim_runs').columns(['county_id', 'starts_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sim_runs').ifExists().execute();
}
