/**
 * One InfluxQL builder for the reports' queries and the Grafana panels' targets (the Grafana
 * SDK has no InfluxDB query builder). InfluxQL runs on InfluxDB 1.x and, through the v1 API, on
 * 2.x and 3.x (ARCHITECTURE.md, Dependency decisions). Identifiers are double-quoted and string
 * literals single-quoted with their quotes and backslashes escaped, so no value — a tag from the
 * registry, a simulation run id — can end a literal and add to the statement.
 */

/** `"name"`, with `"` and `\` escaped. */
export function ident(name: string): string {
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `'value'`, with `'` and `\` escaped. */
export function str(value: string): string {
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** `/^(a|b)$/` matching exactly one of the values (regex metacharacters and `/` escaped). */
export function oneOf(values: readonly string[]): string {
  const alternatives = values.map((v) => v.replace(/[.*+?^${}()|[\]\\/]/g, (c) => `\\${c}`));
  return `/^(${alternatives.join('|')})$/`;
}

/** A condition of a WHERE clause, already rendered. */
export class Condition {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export const where = {
  eq: (key: string, value: string) => new Condition(`${ident(key)} = ${str(value)}`),
  ne: (key: string, value: string) => new Condition(`${ident(key)} != ${str(value)}`),
  in: (key: string, values: readonly string[]) => new Condition(`${ident(key)} =~ ${oneOf(values)}`),
  /** Grafana's template variable, e.g. `"institution" =~ /^$institution$/`. */
  matchesVariable: (key: string, variable: string) => new Condition(`${ident(key)} =~ /^$${variable}$/`),
  /** `time >= from AND time < to`, epoch ms. */
  timeRange: (fromMs: number, toMs: number) =>
    new Condition(`time >= ${Math.trunc(fromMs)}ms AND time < ${Math.trunc(toMs)}ms`),
  before: (toMs: number) => new Condition(`time < ${Math.trunc(toMs)}ms`),
  /** Grafana's `$timeFilter` macro. */
  grafanaTime: () => new Condition('$timeFilter'),
  and: (...conds: Condition[]) => new Condition(conds.map((c) => (conds.length > 1 ? `(${c})` : `${c}`)).join(' AND ')),
};

/**
 * Which data a query reads (design.md, Simulated time): live data is the series without a
 * `sim_run` tag (`"sim_run" = ''` matches a missing tag); a simulation run's are those tagged
 * with its id.
 */
export function simRunCondition(simRun: string | undefined): Condition {
  return where.eq('sim_run', simRun ?? '');
}

export interface FromTarget {
  measurement: string;
  /** Retention policy; omitted: the database's default. */
  rp?: string;
  db?: string;
}

interface SelectParts {
  fields: readonly string[];
  from?: FromTarget | undefined;
  where?: readonly Condition[];
  groupBy?: readonly string[];
  fill?: string | undefined;
  tz?: string | undefined;
  orderDesc?: boolean;
  limit?: number | undefined;
}

/** A SELECT statement, built up and rendered with `toString()`. Immutable: each call returns a copy. */
export class Select {
  readonly #fields: readonly string[];
  readonly #from: FromTarget | undefined;
  readonly #where: readonly Condition[];
  readonly #groupBy: readonly string[];
  readonly #fill: string | undefined;
  readonly #tz: string | undefined;
  readonly #orderDesc: boolean;
  readonly #limit: number | undefined;

  private constructor(init: SelectParts) {
    this.#fields = init.fields;
    this.#from = init.from;
    this.#where = init.where ?? [];
    this.#groupBy = init.groupBy ?? [];
    this.#fill = init.fill;
    this.#tz = init.tz;
    this.#orderDesc = init.orderDesc ?? false;
    this.#limit = init.limit;
  }

  /** Fields or calls: `field('state')`, `call('count', 'seq')`, `call('mean', 'temperature', 'v')`. */
  static fields(...fields: string[]): Select {
    return new Select({ fields });
  }

  #with(patch: Partial<SelectParts>): Select {
    return new Select({
      fields: this.#fields,
      from: this.#from,
      where: this.#where,
      groupBy: this.#groupBy,
      fill: this.#fill,
      tz: this.#tz,
      orderDesc: this.#orderDesc,
      limit: this.#limit,
      ...patch,
    });
  }

  from(measurement: string, rp?: string, db?: string): Select {
    return this.#with({
      from: { measurement, ...(rp !== undefined ? { rp } : {}), ...(db !== undefined ? { db } : {}) },
    });
  }

  where(...conds: Condition[]): Select {
    return this.#with({ where: [...this.#where, ...conds] });
  }

  /** Tags (quoted) or `time(…)` (as given: `time(1d)`, `time($__interval)`). */
  groupBy(...keys: string[]): Select {
    return this.#with({ groupBy: [...this.#groupBy, ...keys.map((k) => (k.startsWith('time(') ? k : ident(k)))] });
  }

  fill(value: 'none' | 'null' | 'previous' | 'linear' | number): Select {
    return this.#with({ fill: String(value) });
  }

  /** `tz('Asia/Shanghai')`: GROUP BY time() buckets start at local midnight. */
  tz(zone: string): Select {
    return this.#with({ tz: zone });
  }

  orderByTimeDesc(): Select {
    return this.#with({ orderDesc: true });
  }

  limit(n: number): Select {
    return this.#with({ limit: Math.trunc(n) });
  }

  toString(): string {
    if (!this.#from) throw new Error('an InfluxQL SELECT needs FROM');
    const f = this.#from;
    // measurement | rp.measurement | db.rp.measurement | db..measurement (the default policy)
    const target =
      f.db !== undefined
        ? `${ident(f.db)}.${f.rp !== undefined ? ident(f.rp) : ''}.${ident(f.measurement)}`
        : f.rp !== undefined
          ? `${ident(f.rp)}.${ident(f.measurement)}`
          : ident(f.measurement);
    let q = `SELECT ${this.#fields.join(', ')} FROM ${target}`;
    if (this.#where.length > 0) q += ` WHERE ${where.and(...this.#where)}`;
    if (this.#groupBy.length > 0) q += ` GROUP BY ${this.#groupBy.join(', ')}`;
    if (this.#fill !== undefined) q += ` fill(${this.#fill})`;
    if (this.#orderDesc) q += ' ORDER BY time DESC';
    if (this.#limit !== undefined) q += ` LIMIT ${this.#limit}`;
    if (this.#tz !== undefined) q += ` tz(${str(this.#tz)})`;
    return q;
  }
}

/** A field reference: `"name"`. */
export function field(name: string): string {
  return ident(name);
}

/** `fn("field")`, optionally `AS "alias"`; `fn` is an InfluxQL function name. */
export function call(fn: string, fieldName: string, alias?: string): string {
  if (!/^[a-z_]+$/.test(fn)) throw new Error(`not an InfluxQL function: ${fn}`);
  return `${fn}(${ident(fieldName)})${alias !== undefined ? ` AS ${ident(alias)}` : ''}`;
}
