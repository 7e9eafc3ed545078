import { describe, expect, it } from 'vitest';
import { parseAlarmBenchOptions } from '../src/alarm-latency/alarm-options.js';

describe('bench:alarm-latency options', () => {
  it('runs on SQLite unless --store postgres is given, and refuses any other store', () => {
    expect(parseAlarmBenchOptions([])).toMatchObject({ store: 'sqlite', form: 'all-in-one' });
    expect(parseAlarmBenchOptions(['--form', 'services', '--store', 'postgres'])).toMatchObject({
      store: 'postgres',
      form: 'services',
    });
    expect(() => parseAlarmBenchOptions(['--store', 'mysql'])).toThrow('--store must be sqlite or postgres');
  });
});
