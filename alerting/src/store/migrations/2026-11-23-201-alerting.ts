import type { Kysely } from 'kysely';

/**
 * Alerts and their workflow, notification deliveries, escalation policies, silences, drills and
 * the rule engine's persisted state. Portable between SQLite and PostgreSQL like the registry
 * migration: epoch-ms `bigint`s, 0/1 integers, JSON documents in `text`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('alerts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key', 'text', (c) => c.notNull())
    // The key while the alert is not closed, null once closed: a unique index on it is the
    // store's guarantee of one open alert per (rule, subject), whatever a replica does.
    .addColumn('open_key', 'text', (c) => c.unique())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('name_zh', 'text', (c) => c.notNull())
    .addColumn('name_en', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('resolve', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('verdict', 'text')
    .addColumn('drill_id', 'text')
    .addColumn('silence_id', 'text')
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('gateway_id', 'text', (c) => c.notNull())
    .addColumn('device_id', 'text')
    .addColumn('device_kind', 'text')
    .addColumn('value', 'double precision')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('occurrences', 'integer', (c) => c.notNull())
    .addColumn('opened_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('cleared_at', 'bigint')
    .addColumn('acknowledged_at', 'bigint')
    .addColumn('acknowledged_by', 'text')
    .addColumn('verified_at', 'bigint')
    .addColumn('verified_by', 'text')
    .addColumn('closed_at', 'bigint')
    .addColumn('closed_by', 'text')
    .addColumn('escalation_level', 'integer', (c) => c.notNull())
    .addColumn('escalation_round', 'integer', (c) => c.notNull())
    .addColumn('escalation_state', 'text', (c) => c.notNull())
    .addColumn('escalation_next_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('alerts_institution_opened')
    .on('alerts')
    .columns(['institution_id', 'opened_at'])
    .execute();
  await db.schema.createIndex('alerts_status_opened').on('alerts').columns(['status', 'opened_at']).execute();
  await db.schema.createIndex('alerts_opened').on('alerts').column('opened_at').execute();
  await db.schema.createIndex('alerts_drill').on('alerts').column('drill_id').execute();

  await db.schema
    .createTable('alert_transitions')
    .addColumn('alert_id', 'text', (c) => c.notNull().references('alerts.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('verdict', 'text')
    .addPrimaryKeyConstraint('alert_transitions_pk', ['alert_id', 'seq'])
    .execute();

  await db.schema
    .createTable('alert_deliveries')
    .addColumn('delivery_id', 'text', (c) => c.notNull())
    .addColumn('attempt', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('notification_id', 'text', (c) => c.notNull())
    .addColumn('alert_id', 'text', (c) => c.notNull())
    .addColumn('channel_id', 'text', (c) => c.notNull())
    .addColumn('channel_type', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('receipt', 'text')
    .addColumn('latency_ms', 'double precision')
    .addPrimaryKeyConstraint('alert_deliveries_pk', ['delivery_id', 'attempt', 'status'])
    .execute();
  await db.schema.createIndex('alert_deliveries_alert').on('alert_deliveries').columns(['alert_id', 'at']).execute();

  await db.schema
    .createTable('escalation_policies')
    // `*` is the county-wide default; otherwise an institution id.
    .addColumn('institution_id', 'text', (c) => c.primaryKey())
    .addColumn('policy_json', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('silences')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('institution_id', 'text')
    .addColumn('gateway_id', 'text')
    .addColumn('device_id', 'text')
    .addColumn('rule', 'text')
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expired_at', 'bigint')
    .addColumn('expired_by', 'text')
    .execute();
  await db.schema.createIndex('silences_ends').on('silences').column('ends_at').execute();

  await db.schema
    .createTable('drills')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('institutions_json', 'text', (c) => c.notNull())
    .addColumn('starts_at', 'bigint', (c) => c.notNull())
    .addColumn('ends_at', 'bigint', (c) => c.notNull())
    .addColumn('recipients', 'text', (c) => c.notNull())
    .addColumn('author', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addColumn('ended_by', 'text')
    .execute();

  await db.schema
    .createTable('alerting_state')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('state_json', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'alerting_state',
    'drills',
    'silences',
    'escalation_policies',
    'alert_deliveries',
    'alert_transitions',
    'alerts',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
