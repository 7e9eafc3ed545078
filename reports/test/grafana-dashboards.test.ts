import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CountyConfig } from '@anlian/protocol';
import { Ajv, type ValidateFunction } from 'ajv';
import { describe, expect, it } from 'vitest';
import { GENERATED_NOTE } from '../src/grafana/anlian-dashboards.js';
import { DEMO_COUNTY_FILE, GRAFANA_DIR, REPO_ROOT } from '../src/grafana/generate-grafana.js';
import { grafanaCountyFromFile, grafanaFiles } from '../src/grafana/grafana-files.js';

const SCHEMAS = join(GRAFANA_DIR, 'schemas');
const county = grafanaCountyFromFile(CountyConfig.parse(JSON.parse(readFileSync(DEMO_COUNTY_FILE, 'utf8'))));
const files = grafanaFiles(county);

interface Panel {
  type: string;
  title?: string;
  options?: unknown;
  fieldConfig?: { defaults?: { custom?: unknown } };
  targets?: { datasource?: { uid?: string }; query?: string; expr?: string }[];
}

function schema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(join(SCHEMAS, `${name}.jsonschema.json`), 'utf8')) as Record<string, unknown>;
}

/** Draft-07 validators: the dashboard, and per panel type its options and field config. */
function validators(): {
  dashboard: ValidateFunction;
  panel: Map<string, { options?: ValidateFunction; custom?: ValidateFunction }>;
} {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  const dashboard = ajv.compile(schema('dashboard'));
  const panel = new Map<string, { options?: ValidateFunction; custom?: ValidateFunction }>();
  for (const f of readdirSync(SCHEMAS).filter(
    (x) => x.endsWith('.jsonschema.json') && x !== 'dashboard.jsonschema.json',
  )) {
    const type = f.replace('.jsonschema.json', '');
    const s = schema(type) as { definitions: Record<string, unknown> };
    const ref = (def: string) => (s.definitions[def] ? ajv.compile({ ...s, $ref: `#/definitions/${def}` }) : undefined);
    panel.set(type, { options: ref('Options'), custom: ref('FieldConfig') });
  }
  return { dashboard, panel };
}

describe('Grafana dashboards as code', () => {
  it('are checked in as generated from the demo county (regenerate: npm run grafana:generate)', () => {
    for (const [rel, content] of files) {
      const onDisk = readFileSync(join(GRAFANA_DIR, rel), 'utf8');
      expect(onDisk, `${rel} is stale`).toBe(content);
    }
    const dashboards = readdirSync(join(GRAFANA_DIR, 'dashboards', county.id));
    expect(dashboards.sort()).toEqual(
      [...files.keys()]
        .filter((k) => k.startsWith('dashboards/'))
        .map((k) => k.split('/').at(-1))
        .sort(),
    );
  });

  it('validate against the Grafana JSON Schemas, panels included', () => {
    const v = validators();
    let checkedPanels = 0;
    for (const [rel, content] of files) {
      if (!rel.endsWith('.json')) continue;
      const d = JSON.parse(content) as {
        panels: Panel[];
        description: string;
        templating: unknown;
        annotations: unknown;
      };
      expect(v.dashboard(d), `${rel}: ${JSON.stringify(v.dashboard.errors?.slice(0, 3))}`).toBe(true);
      expect(d.description).toBe(GENERATED_NOTE);
      for (const p of d.panels) {
        const pv = v.panel.get(p.type);
        expect(pv, `no schema for panel type ${p.type}`).toBeDefined();
        if (pv?.options && p.options !== undefined) {
          expect(
            pv.options(p.options),
            `${rel} ${p.title} options: ${JSON.stringify(pv.options.errors?.slice(0, 3))}`,
          ).toBe(true);
        }
        const custom = p.fieldConfig?.defaults?.custom;
        if (pv?.custom && custom !== undefined) {
          expect(
            pv.custom(custom),
            `${rel} ${p.title} fieldConfig: ${JSON.stringify(pv.custom.errors?.slice(0, 3))}`,
          ).toBe(true);
        }
        checkedPanels++;
      }
    }
    expect(checkedPanels).toBeGreaterThan(30);
    // The validators can fail: a panel with a misspelt property, a time series with a bad legend.
    const d = JSON.parse(files.get('dashboards/youyang/county-overview.json') ?? '{}') as {
      panels: Record<string, unknown>[];
    };
    expect(v.dashboard({ ...d, panels: [{ ...d.panels[0], titel: 'x' }] })).toBe(false);
    expect(v.panel.get('timeseries')?.options?.({ legend: { displayMode: 'sideways' }, tooltip: {} })).toBe(false);
  });

  it('read live data only, from the provisioned data sources, and metrics the services export', () => {
    const datasources = files.get('provisioning/datasources/anlian.yaml') ?? '';
    const metricSources = ['ingest/src', 'alerting/src', 'timeseries/src', 'runtime/src', 'bus/src']
      .flatMap((dir) =>
        readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' }).map((f) => join(REPO_ROOT, dir, f)),
      )
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const [rel, content] of files) {
      if (!rel.endsWith('.json')) continue;
      const d = JSON.parse(content) as { panels: Panel[]; annotations: { list?: { target?: { query?: string } }[] } };
      for (const p of d.panels) {
        for (const t of p.targets ?? []) {
          expect(datasources).toContain(`uid: ${t.datasource?.uid}`);
          if (t.query !== undefined && /FROM/.test(t.query))
            expect(t.query, `${rel} ${p.title}`).toContain(`"sim_run" = ''`);
          for (const m of t.expr?.match(/anlian_[a-z_]+/g) ?? []) {
            const base = m.replace(/_bucket$/, '');
            expect(metricSources, `${rel}: metric ${m}`).toContain(`'${base}'`);
          }
        }
      }
      for (const a of d.annotations.list ?? []) if (a.target?.query) expect(a.target.query).toContain(`"sim_run" = ''`);
    }
    // The institution variable lists the registry's institutions.
    const inst = JSON.parse(files.get('dashboards/youyang/institution.json') ?? '{}') as {
      templating: { list: { name: string; query: string }[] };
    };
    expect(inst.templating.list.find((v) => v.name === 'institution')?.query.split(',')).toHaveLength(26);
  });
});
