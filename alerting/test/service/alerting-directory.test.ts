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

it('maps a county of more devices than one turn takes (issue 12: slices), skipping kinds it does not know', async () => {
  store = await openTestStore();
  // 12,000 more fire detectors behind gw-1, and a device of a kind alerting does not know (a
  // newer registry): rows copied from the imported ones.
  const row = await store.db.selectFrom('devices').selectAll().where('id', '=', 'smoke-1').executeTakeFirstOrThrow();
  for (let batch = 0; batch < 12; batch++) {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ ...row, id: `smoke-x${batch * 1000 + i}` }));
    await store.db.insertInto('devices').values(rows).execute();
  }
  await store.db
    .insertInto('devices')
    .values({ ...row, id: 'lift-1', kind: 'lift' })
    .execute();
  const dir = new AlertingDirectory(store.db);
  expect(await dir.refresh()).toBe(true);
  expect([...dir.devices()]).toHaveLength(12_000 + 5);
  expect(dir.device('gw-1', 'lift-1')).toBeUndefined();
  expect(dir.device('gw-1', 'ext-1')).toMatchObject({
    kind: 'extinguisher',
    medium: 'dry_powder',
    institution: 'yy-a',
  });
  expect(dir.device('gw-1', 'k-1')).not.toHaveProperty('medium');
  expect(dir.device('gw-1', 'smoke-x11999')).toMatchObject({ kind: 'fire', gateway: 'gw-1' });
  expect(dir.device('gw-2', 'smoke-1')).toMatchObject({ kind: 'fire', institution: 'yy-b' });
});
