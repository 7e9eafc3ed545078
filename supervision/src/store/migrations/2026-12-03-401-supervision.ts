import type { Kysely } from 'kysely';

/**
 * The hazard ledger (隐患台账) with its transitions and rectifications, photos, checklists,
 * inspections, the county's own inputs (complaints, violations), risk grades and their history,
 * random-inspection draws, settings and the scheduler's lease. Portable between SQLite and
 * PostgreSQL like the registry's migration: epoch-ms `bigint`s, JSON documents in `text`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('hazards')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('source_rule', 'text')
    .addColumn('cause_key', 'text')
    // The cause while the hazard is not closed, null once closed: a unique index on it is the
    // store's guarantee of one hazard per cause, whichever node's scheduler saw the cause first.
    .addColumn('open_cause', 'text', (c) => c.unique())
    .addColumn('item_ref', 'text')
    .addColumn('inspection_id', 'text')
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('evidence_json', 'text', (c) => c.notNull())
    .addColumn('location', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('owner_contact_id', 'text')
    .addColumn('owner_name', 'text')
    .addColumn('supervisor', 'text')
    .addColumn('deadline_at', 'bigint')
    .addColumn('found_at', 'bigint', (c) => c.notNull())
    .addColumn('found_by', 'text', (c) => c.notNull())
    .addColumn('assigned_at', 'bigint')
    .addColumn('rectifying_at', 'bigint')
    .addColumn('submitted_at', 'bigint')
    .addColumn('reviewed_at', 'bigint')
    .addColumn('closed_at', 'bigint')
    .addColumn('cause_cleared_at', 'bigint')
    .addColumn('overdue_at', 'bigint')
    .addColumn('escalation_count', 'integer', (c) => c.notNull())
    .addColumn('next_escalation_at', 'bigint')
    .addColumn('reminded_at', 'bigint')
    .addColumn('generated', 'text')
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // The county's list, newest first (its first page is the benchmark's query).
  await db.schema.createIndex('hazards_county_found').on('hazards').columns(['county_id', 'found_at', 'id']).execute();
  await db.schema
    .createIndex('hazards_institution_found')
    .on('hazards')
    .columns(['institution_id', 'found_at'])
    .execute();
  await db.schema.createIndex('hazards_status').on('hazards').columns(['county_id', 'status']).execute();
  await db.schema.createIndex('hazards_next_escalation').on('hazards').column('next_escalation_at').execute();
  await db.schema.createIndex('hazards_deadline').on('hazards').column('deadline_at').execute();
  await db.schema.createIndex('hazards_updated').on('hazards').columns(['county_id', 'updated_at']).execute();

  await db.schema
    .createTable('hazard_transitions')
    .addColumn('hazard_id', 'text', (c) => c.notNull().references('hazards.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('from_status', 'text')
    .addColumn('to_status', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('detail_json', 'text')
    .addPrimaryKeyConstraint('hazard_transitions_pk', ['hazard_id', 'seq'])
    .execute();

  await db.schema
    .createTable('hazard_rectifications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('hazard_id', 'text', (c) => c.notNull().references('hazards.id').onDelete('cascade'))
    .addColumn('submitted_at', 'bigint', (c) => c.notNull())
    .addColumn('submitted_by', 'text', (c) => c.notNull())
    .addColumn('measures', 'text', (c) => c.notNull())
    .addColumn('photos_json', 'text', (c) => c.notNull())
    .addColumn('review', 'text')
    .addColumn('reviewed_at', 'bigint')
    .addColumn('reviewed_by', 'text')
    .addColumn('review_note', 'text')
    .execute();
  await db.schema
    .createIndex('hazard_rectifications_hazard')
    .on('hazard_rectifications')
    .columns(['hazard_id', 'submitted_at'])
    .execute();

  await db.schema
    .createTable('supervision_photos')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('data_b64', 'text', (c) => c.notNull())
    .addColumn('size', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('checklists')
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('checklist_json', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('checklists_pk', ['county_id', 'id'])
    .execute();

  await db.schema
    .createTable('inspections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('checklist_id', 'text', (c) => c.notNull())
    .addColumn('checklist_version', 'integer', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('draw_id', 'text')
    .addColumn('inspector', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('results_json', 'text', (c) => c.notNull())
    .addColumn('findings', 'integer', (c) => c.notNull())
    .addColumn('summary', 'text')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('submitted_at', 'bigint')
    .addColumn('generated', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('inspections_institution')
    .on('inspections')
    .columns(['institution_id', 'started_at'])
    .execute();
  await db.schema.createIndex('inspections_county').on('inspections').columns(['county_id', 'started_at']).execute();

  await db.schema
    .createTable('county_inputs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('recorded_by', 'text', (c) => c.notNull())
    .addColumn('recorded_at', 'bigint', (c) => c.notNull())
    .addColumn('generated', 'text')
    .execute();
  await db.schema
    .createIndex('county_inputs_institution')
    .on('county_inputs')
    .columns(['institution_id', 'at'])
    .execute();
  await db.schema
    .createIndex('county_inputs_recorded')
    .on('county_inputs')
    .columns(['county_id', 'recorded_at'])
    .execute();

  await db.schema
    .createTable('institution_grades')
    .addColumn('institution_id', 'text', (c) => c.primaryKey())
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('grade', 'text', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('computed_at', 'bigint', (c) => c.notNull())
    .addColumn('explanation_json', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('institution_grade_history')
    .addColumn('institution_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('grade', 'text', (c) => c.notNull())
    .addColumn('score', 'double precision', (c) => c.notNull())
    .addColumn('explanation_json', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('institution_grade_history_pk', ['institution_id', 'at'])
    .execute();
  await db.schema
    .createIndex('institution_grade_history_county')
    .on('institution_grade_history')
    .columns(['county_id', 'at'])
    .execute();

  await db.schema
    .createTable('inspection_draws')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('drawn_by', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addColumn('seed', 'text', (c) => c.notNull())
    .addColumn('weights_json', 'text', (c) => c.notNull())
    .addColumn('drawn_json', 'text', (c) => c.notNull())
    .addColumn('pool_json', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .execute();
  await db.schema.createIndex('inspection_draws_county').on('inspection_draws').columns(['county_id', 'at']).execute();

  await db.schema
    .createTable('supervision_settings')
    .addColumn('county_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value_json', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('supervision_settings_pk', ['county_id', 'name'])
    .execute();

  await db.schema
    .createTable('supervision_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('acquired_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'supervision_leases',
    'supervision_settings',
    'inspection_draws',
    'institution_grade_history',
    'institution_grades',
    'county_inputs',
    'inspections',
    'checklists',
    'supervision_photos',
    'hazard_rectifications',
    'hazard_transitions',
    'hazards',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
