import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CountyConfig } from '@anlian/protocol';
import type { Database } from '@anlian/store';
import type { Kysely } from 'kysely';
import { anlianDashboards, dashboardJson, type GrafanaCounty } from './anlian-dashboards.js';
import { dashboardsYaml, datasourcesYaml } from './datasources.js';

const KIND_ORDER = ['fire', 'extinguisher', 'kitchen', 'camera', 'electrical'];
const byKindOrder = (kinds: Iterable<string>) =>
  [...new Set(kinds)].sort(
    (a, b) => ((KIND_ORDER.indexOf(a) + 99) % 99) - ((KIND_ORDER.indexOf(b) + 99) % 99) || a.localeCompare(b),
  );

/** The county's shape for its dashboards, from a county file. */
export function grafanaCountyFromFile(c: CountyConfig): GrafanaCounty {
  return {
    id: c.county.id,
    name: c.county.name,
    institutions: c.institutions.map((i) => ({ id: i.id, name: i.name })),
    kinds: byKindOrder(c.institutions.flatMap((i) => i.gateways.flatMap((g) => g.devices.map((d) => d.kind)))),
  };
}

/** The county's shape for its dashboards, from the store's registry. */
export async function grafanaCountyFromStore(db: Kysely<Database>, countyId?: string): Promise<GrafanaCounty> {
  let q = db.selectFrom('counties').select(['id', 'name']);
  if (countyId !== undefined) q = q.where('id', '=', countyId);
  const county = await q.orderBy('id').executeTakeFirst();
  if (!county) throw new Error(countyId ? `no county ${countyId} in the store` : 'the store holds no county');
  const institutions = await db
    .selectFrom('institutions')
    .select(['id', 'name'])
    .where('county_id', '=', county.id)
    .orderBy('id')
    .execute();
  const kinds = await db
    .selectFrom('devices')
    .innerJoin('institutions', 'institutions.id', 'devices.institution_id')
    .select('devices.kind as kind')
    .distinct()
    .where('institutions.county_id', '=', county.id)
    .execute();
  return { id: county.id, name: county.name, institutions, kinds: byKindOrder(kinds.map((k) => k.kind)) };
}

/** Every generated file under `deploy/grafana/` (relative path → content). */
export function grafanaFiles(c: GrafanaCounty): Map<string, string> {
  const files = new Map<string, string>();
  files.set('provisioning/datasources/anlian.yaml', datasourcesYaml());
  files.set('provisioning/dashboards/anlian.yaml', dashboardsYaml());
  for (const d of anlianDashboards(c)) files.set(`dashboards/${c.id}/${d.file}`, dashboardJson(d.dashboard));
  return files;
}

export async function writeGrafanaFiles(outDir: string, c: GrafanaCounty): Promise<string[]> {
  const written: string[] = [];
  for (const [rel, content] of grafanaFiles(c)) {
    const path = join(outDir, rel);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, content);
    written.push(rel);
  }
  return written;
}
