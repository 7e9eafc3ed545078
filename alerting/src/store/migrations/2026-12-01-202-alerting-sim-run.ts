import type { Kysely } from 'kysely';

/**
 * `sim_run` on alerts and drills (design.md, Simulated time): the records of a simulation run
 * (a generated month of history, device-simulators/src/history) carry the run's id, as its
 * InfluxDB points carry the `sim_run` tag; live records have null. Everything that shows live
 * alerts leaves them out; a report can be asked for one run. Transitions and deliveries belong
 * to their alert and follow it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('alerts').addColumn('sim_run', 'text').execute();
  await db.schema.alterTable('drills').addColumn('sim_run', 'text').execute();
  await db.schema.createIndex('alerts_sim_run_opened').on('alerts').columns(['sim_run', 'opened_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('alerts_sim_run_opened').ifExists().execute();
  await db.schema.alterTable('drills').dropColumn('sim_run').execute();
  await db.schema.alterTable('alerts').dropColumn('sim_run').execute();
}
