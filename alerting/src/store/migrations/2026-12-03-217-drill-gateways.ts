import type { Kysely } from 'kysely';

/**
 * Issue 13: the county starts and stops a drill at the gateways it covers (`cmd/drill-start`,
 * `cmd/drill-stop`) and records what each gateway answered; a real alarm raised while a drill
 * runs for its institution records that drill (`during_drill_id`) — it is pushed as not a drill.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('drill_gateways')
    .addColumn('drill_id', 'text', (c) => c.notNull().references('drills.id').onDelete('cascade'))
    .addColumn('gateway_id', 'text', (c) => c.notNull())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    /** `drill-start` | `drill-stop`. */
    .addColumn('command', 'text', (c) => c.notNull())
    /** `sent` | `confirmed` | `refused` | `no_reply`. */
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('drill_gateways_pk', ['drill_id', 'gateway_id', 'command'])
    .execute();
  await db.schema.alterTable('alerts').addColumn('during_drill_id', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('alerts').dropColumn('during_drill_id').execute();
  await db.schema.dropTable('drill_gateways').ifExists().execute();
}
