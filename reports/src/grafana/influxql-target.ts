import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from './datasources.js';

/** A Grafana InfluxDB (InfluxQL) query, as the data source plugin stores it: a raw query. */
export interface InfluxQLQuery extends cog.Dataquery {
  refId: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  alias?: string;
}

/**
 * A target for Grafana's InfluxDB data source in InfluxQL mode. The foundation SDK has query
 * builders for Prometheus, Loki and others but none for InfluxDB, so this is ours; the InfluxQL
 * itself comes from the same `Select` builder the reports use.
 */
export class InfluxQLTargetBuilder implements cog.Builder<cog.Dataquery> {
  readonly #q: Omit<InfluxQLQuery, '_implementsDataqueryVariant'>;

  constructor(datasource: DataSourceRef, query: string, refId = 'A') {
    this.#q = { refId, datasource, query, rawQuery: true, resultFormat: 'time_series' };
  }

  refId(refId: string): this {
    this.#q.refId = refId;
    return this;
  }

  table(): this {
    this.#q.resultFormat = 'table';
    return this;
  }

  /** Series names: `$tag_institution`, `$col`. */
  alias(alias: string): this {
    this.#q.alias = alias;
    return this;
  }

  build(): InfluxQLQuery {
    return { ...this.#q, _implementsDataqueryVariant() {} };
  }
}
