import type { Kysely } from 'kysely';
import type { z } from 'zod';
import { SupervisionError, SupervisionErrorCode } from '../errors.js';
import { GradingPolicy } from '../grading/grading-policy.js';
import { LedgerPolicy } from '../hazards/ledger-policy.js';
import { DEFAULT_SOURCES_INPUT, SourcesConfig } from '../sources/source-config.js';
import type { SupervisionDatabase } from '../store/supervision-schema.js';

/** A county's supervision settings: each a document the county admin edits, with a shipped default. */
const SETTINGS = {
  ledger: { schema: LedgerPolicy, defaults: () => LedgerPolicy.parse({}) },
  sources: { schema: SourcesConfig, defaults: () => SourcesConfig.parse(DEFAULT_SOURCES_INPUT) },
  grading: { schema: GradingPolicy, defaults: () => GradingPolicy.parse({}) },
} as const;
export type SettingName = keyof typeof SETTINGS;
export type SettingValue<N extends SettingName> = z.infer<(typeof SETTINGS)[N]['schema']>;

export interface SettingRecord<N extends SettingName> {
  value: SettingValue<N>;
  /** True while the county has kept the shipped default. */
  isDefault: boolean;
  updatedAt: number | null;
  updatedBy: string | null;
}

/**
 * Reads and writes the settings documents (`supervision_settings`). Reads go to the store each
 * time: a county admin's change on one dashboard node applies on the node that runs the scheduler.
 */
export class SupervisionSettings {
  readonly #db: Kysely<SupervisionDatabase>;
  readonly #clock: () => number;

  constructor(db: Kysely<SupervisionDatabase>, clock: () => number = Date.now) {
    this.#db = db;
    this.#clock = clock;
  }

  async get<N extends SettingName>(county: string, name: N): Promise<SettingValue<N>> {
    return (await this.record(county, name)).value;
  }

  async record<N extends SettingName>(county: string, name: N): Promise<SettingRecord<N>> {
    const row = await this.#db
      .selectFrom('supervision_settings')
      .selectAll()
      .where('county_id', '=', county)
      .where('name', '=', name)
      .executeTakeFirst();
    const def = SETTINGS[name];
    if (!row) return { value: def.defaults() as SettingValue<N>, isDefault: true, updatedAt: null, updatedBy: null };
    // A document stored by an older version is read with today's defaults filled in.
    const parsed = def.schema.safeParse(JSON.parse(row.value_json));
    if (!parsed.success) {
      throw new SupervisionError(
        SupervisionErrorCode.CONFIG_INVALID,
        `stored ${name} settings of ${county} no longer parse: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
      );
    }
    return {
      value: parsed.data as SettingValue<N>,
      isDefault: false,
      updatedAt: row.updated_at,
      updatedBy: row.updated_by,
    };
  }

  /** Validates and stores; returns the stored value (defaults filled in). */
  async set<N extends SettingName>(county: string, name: N, input: unknown, by: string): Promise<SettingValue<N>> {
    const parsed = SETTINGS[name].schema.safeParse(input);
    if (!parsed.success) {
      throw new SupervisionError(
        SupervisionErrorCode.CONFIG_INVALID,
        `${name} settings: ${parsed.error.issues.map((i) => `${i.path.join('.') || '/'} ${i.message}`).join('; ')}`,
      );
    }
    const now = this.#clock();
    const value_json = JSON.stringify(parsed.data);
    await this.#db
      .insertInto('supervision_settings')
      .values({ county_id: county, name, value_json, updated_at: now, updated_by: by })
      .onConflict((oc) =>
        oc.columns(['county_id', 'name']).doUpdateSet({ value_json, updated_at: now, updated_by: by }),
      )
      .execute();
    return parsed.data as SettingValue<N>;
  }

  /** Back to the shipped default. */
  async reset(county: string, name: SettingName): Promise<void> {
    await this.#db
      .deleteFrom('supervision_settings')
      .where('county_id', '=', county)
      .where('name', '=', name)
      .execute();
  }
}
