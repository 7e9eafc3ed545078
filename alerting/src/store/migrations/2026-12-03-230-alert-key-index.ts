import type { Kysely } from 'kysely';

/**
 * An alert's history by key: a node taking over an institution asks, for each condition it saw
 * as a standby, whether that condition's latest alert is open or was closed after it (issue 12).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('alerts_key_opened').on('alerts').columns(['key', 'opened_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('alerts_key_opened').execute();
}
