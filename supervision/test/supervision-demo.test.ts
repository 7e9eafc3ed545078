import { CountyConfig } from '@anlian/protocol';
import { buildDemoCounty, importCountyConfig, migrateToLatest, openDatabase } from '@anlian/store';
import type { Kysely } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { seedSupervisionDemo } from '../src/demo/supervision-demo.js';
import { migrateSupervision } from '../src/store/supervision-migrations.js';
import type { SupervisionDatabase } from '../src/store/supervision-schema.js';

const NOW = Date.UTC(2026, 5, 1, 4, 0, 0);

async function demoStore() {
  const store = openDatabase({ sqlitePath: ':memory:' });
  await migrateToLatest(store.db);
  await migrateSupervision(store.db);
  await importCountyConfig(store.db, CountyConfig.parse(buildDemoCounty(1)), { now: NOW - 1000 });
  return store;
}

/** `anlian up --demo`'s generated supervision history: a realistic spread, from the seed alone. */
describe('the demo county’s supervision history', () => {
  const stores: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const s of stores) await s.close();
  });

  it('gives a spread of grades and hazards in every state, marked as generated, the same for the same seed', async () => {
    const a = await demoStore();
    const b = await demoStore();
    stores.push(a, b);
    const ra = await seedSupervisionDemo(a.db, { county: 'youyang', seed: 1, now: NOW });
    const rb = await seedSupervisionDemo(b.db, { county: 'youyang', seed: 1, now: NOW });
    expect(ra).toMatchObject({ seeded: true, marker: 'demo-seed-1', days: 60 });
    expect(rb).toEqual(ra);
    expect(ra.hazards).toBeGreaterThan(40);
    expect(ra.inspections).toBeGreaterThanOrEqual(26);

    const db = a.db as unknown as Kysely<SupervisionDatabase>;
    const hazards = await db.selectFrom('hazards').selectAll().execute();
    expect(hazards.every((h) => h.generated === 'demo-seed-1')).toBe(true);
    const statuses = new Set(hazards.map((h) => h.status));
    for (const s of ['assigned', 'rectifying', 'submitted', 'closed']) expect(statuses).toContain(s);
    expect(
      hazards.some(
        (h) => h.deadline_at !== null && h.deadline_at < NOW && ['assigned', 'rectifying'].includes(h.status),
      ),
    ).toBe(true);
    expect(new Set(hazards.map((h) => h.source))).toEqual(new Set(['auto', 'inspection', 'manual']));
    const escalations = await db
      .selectFrom('hazard_transitions')
      .select('hazard_id')
      .where('event', '=', 'escalated')
      .execute();
    expect(escalations.length).toBeGreaterThan(0);
    expect(
      (await db.selectFrom('hazard_transitions').select('event').where('event', '=', 'rejected').execute()).length,
    ).toBeGreaterThan(0);

    const grades = await db.selectFrom('institution_grades').select(['institution_id', 'grade']).execute();
    expect(grades).toHaveLength(26);
    const spread = new Map<string, number>();
    for (const g of grades) spread.set(g.grade, (spread.get(g.grade) ?? 0) + 1);
    expect(spread.get('red')).toBeGreaterThanOrEqual(1);
    expect(spread.size).toBeGreaterThanOrEqual(3);
    expect(spread.get('blue')).toBeGreaterThan(spread.get('red') ?? 0);
    // A history point a day for the 60 days.
    const history = await db
      .selectFrom('institution_grade_history')
      .select('at')
      .where('institution_id', '=', 'yy-taohuayuan')
      .execute();
    expect(history.length).toBeGreaterThanOrEqual(55);

    // Same seed, same history: the same hazards in the same states.
    const key = (rows: typeof hazards) =>
      rows.map((h) => `${h.institution_id}|${h.title}|${h.status}|${h.found_at}`).sort();
    expect(
      key(await (b.db as unknown as Kysely<SupervisionDatabase>).selectFrom('hazards').selectAll().execute()),
    ).toEqual(key(hazards));
    // Not twice.
    expect((await seedSupervisionDemo(a.db, { county: 'youyang', seed: 1, now: NOW + 1000 })).seeded).toBe(false);
  });
});
