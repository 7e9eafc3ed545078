import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CountyConfig } from '@anlian/protocol';
import { openDatabase } from '@anlian/store';
import { grafanaCountyFromFile, grafanaCountyFromStore, writeGrafanaFiles } from './grafana-files.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const DEMO_COUNTY_FILE = `${REPO_ROOT}deploy/counties/youyang-demo.json`;
export const GRAFANA_DIR = `${REPO_ROOT}deploy/grafana`;

/**
 * `npm run grafana:generate [-- --county FILE | --db PATH_OR_URL] [--out DIR]`: the dashboards
 * and provisioning files of a county, from a county file (default: the demo county, whose output
 * is checked in under deploy/grafana) or from a store's registry.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { county: { type: 'string' }, db: { type: 'string' }, out: { type: 'string' } },
  });
  let county: Awaited<ReturnType<typeof grafanaCountyFromStore>>;
  if (values.db) {
    const store = openDatabase(values.db.startsWith('postgres') ? { url: values.db } : { sqlitePath: values.db });
    try {
      county = await grafanaCountyFromStore(store.db);
    } finally {
      await store.close();
    }
  } else {
    county = grafanaCountyFromFile(
      CountyConfig.parse(JSON.parse(await readFile(values.county ?? DEMO_COUNTY_FILE, 'utf8'))),
    );
  }
  const written = await writeGrafanaFiles(values.out ?? GRAFANA_DIR, county);
  process.stdout.write(`${written.map((f) => `wrote ${f}`).join('\n')}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
