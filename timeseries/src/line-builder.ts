/*
 * Line protocol by hand rather than with `Point` from @influxdata/influxdb-client (which
 * ARCHITECTURE.md names for its well-kept escaping): at 10,000 msg/s `Point` — a fields object,
 * `Object.keys().sort().forEach`, an escaper per key and value — cost ~7 % of ingest's CPU
 * (bench:ingest --profile). This writer reproduces `Point`'s output byte for byte, its escaping
 * included (the measurement escapes `,` space \n \r \t; tag keys, tag values and field keys also
 * `=`; string field values `"` and `\`), tags and fields sorted by key, tags with an empty value
 * left out, a field written twice keeping its last value. ingest/test/pipeline/line-protocol.test.ts
 * pins the escaping, including the edge cases.
 */
const MEASUREMENT_SPECIAL = /[, \n\r\t]/;
const MEASUREMENT_SPECIAL_G = /[, \n\r\t]/g;
const TAG_SPECIAL = /[, =\n\r\t]/;
const TAG_SPECIAL_G = /[, =\n\r\t]/g;
const QUOTED_SPECIAL = /["\\]/;
const QUOTED_SPECIAL_G = /["\\]/g;
const REPLACEMENTS: Record<string, string> = {
  ',': '\\,',
  ' ': '\\ ',
  '=': '\\=',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '"': '\\"',
  '\\': '\\\\',
};
const replace = (c: string): string => REPLACEMENTS[c] as string;

function escapeMeasurement(s: string): string {
  return MEASUREMENT_SPECIAL.test(s) ? s.replace(MEASUREMENT_SPECIAL_G, replace) : s;
}
function escapeTag(s: string): string {
  return TAG_SPECIAL.test(s) ? s.replace(TAG_SPECIAL_G, replace) : s;
}
function quote(s: string): string {
  return QUOTED_SPECIAL.test(s) ? `"${s.replace(QUOTED_SPECIAL_G, replace)}"` : `"${s}"`;
}

/**
 * One line being written. Tags are appended in key order by the callers (they are a fixed set);
 * fields are kept sorted by key as they are added, a repeated key replacing the earlier value.
 */
export class LineBuilder {
  #head = '';
  readonly #keys: string[] = [];
  readonly #values: string[] = [];
  #time = 0;

  start(measurement: string, ts: number): this {
    this.#head = escapeMeasurement(measurement);
    this.#keys.length = 0;
    this.#values.length = 0;
    this.#time = ts;
    return this;
  }

  /** Tags must come in key order; an empty value is left out, as `Point` does. */
  tag(key: string, value: string): this {
    if (value) this.#head += `,${escapeTag(key)}=${escapeTag(value)}`;
    return this;
  }

  #field(key: string, value: string): this {
    const keys = this.#keys;
    let i = keys.length;
    while (i > 0 && (keys[i - 1] as string) > key) i--;
    if (i > 0 && keys[i - 1] === key) {
      this.#values[i - 1] = value;
      return this;
    }
    if (i === keys.length) {
      keys.push(key);
      this.#values.push(value);
    } else {
      keys.splice(i, 0, key);
      this.#values.splice(i, 0, value);
    }
    return this;
  }

  intField(key: string, value: number): this {
    if (Number.isNaN(value) || value <= -9223372036854776e3 || value >= 9223372036854776e3) {
      throw new Error(`invalid integer value for field '${key}': '${value}'!`);
    }
    return this.#field(key, `${Math.floor(value)}i`);
  }

  floatField(key: string, value: number): this {
    if (!Number.isFinite(value)) throw new Error(`invalid float value for field '${key}': ${value}`);
    return this.#field(key, String(value));
  }

  booleanField(key: string, value: boolean): this {
    return this.#field(key, value ? 'T' : 'F');
  }

  stringField(key: string, value: string): this {
    return this.#field(key, quote(value));
  }

  timestamp(ts: number): this {
    this.#time = ts;
    return this;
  }

  line(): string {
    const keys = this.#keys;
    const values = this.#values;
    let fields = '';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      if (!key) continue;
      fields += `${fields.length > 0 ? ',' : ''}${escapeTag(key)}=${values[i] as string}`;
    }
    if (fields.length === 0) throw new Error('a point without fields cannot be written');
    return `${this.#head} ${fields} ${this.#time}`;
  }
}

/** One builder for the module: a line is built synchronously, start to finish. */
