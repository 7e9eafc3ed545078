import { afterEach, expect, it } from 'vitest';
import { AlertingDirectory } from '../../src/service/alerting-directory.js';
import { T0 } from '../support.js';
import { openTestStore, type StoreFixture } from './service-support.js';

let store: StoreFixture;
afterEach(async () => {
  await store?.close();
});

it('reloads the registry only when it changed', async () => {
  store = await openTestStore();
  const dir = new AlertingDirectory(store.db);
  expect(await dir.refresh()).toBe(true);
  expect(
    dir
      .contacts('yy-a')
      .map((c) => c.id)
      .sort(),
  ).toEqual(['dep', 'duty', 'mgr']);
  expect(await dir.refresh()).toBe(false);

  await store.db
    .updateTable('contacts')
    .set({ phone: '13900000000', updated_at: T0 + 1000 })
    .where('institution_id', '=', 'yy-a')
    .where('id', '=', 'mgr')
    .execute();
  expect(await dir.refresh()).toBe(true);
  expect(dir.contacts('yy-a').find((c) => c.id === 'mgr')?.phone).toBe('13900000000');

  await store.db.deleteFrom('contacts').where('institution_id', '=', 'yy-b').execute();
  expect(await dir.refresh()).toBe(true);
  expect(dir.contacts('yy-b')).toEqual([]);
});
