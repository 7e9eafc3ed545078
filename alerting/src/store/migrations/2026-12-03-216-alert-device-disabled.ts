import type { Kysely } from 'kysely';

/**
 * Issue 13: a fire alarm from a device under maintenance (its last state event `disabled`, 屏蔽)
 * is still raised and pushed, and the alert records that the device was disabled (1), for the
 * record and the screens.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('alerts').addColumn('device_disabled', 'integer').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('alerts').dropColumn('device_disabled').execute();
}
