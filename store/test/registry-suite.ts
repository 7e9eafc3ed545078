import { readFile } from 'node:fs/promises';
import { type CountyConfig, type CountyConfigInput, CountyConfig as CountyConfigSchema } from '@anlian/protocol';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OpenedDatabase } from '../src/database.js';
import { migrateToLatest, STORE_MIGRATIONS } from '../src/migrate.js';
import { Registry } from '../src/registry.js';
import { hashSecret, verifyMosquittoHash } from '../src/secret-hash.js';

/** Opens a fresh, empty database and says how to dispose of it. */
export interface DialectFactory {
  name: string;
  open(): Promise<{ store: OpenedDatabase; dispose(): Promise<void> }>;
}

const SECRET_A = 'gateway-a-secret-0001';
const SECRET_B = 'gateway-b-secret-0002';

export function smallCounty(): CountyConfigInput {
  return {
    county: { id: 'testcounty', name: '测试县', adcode: '500242', center: { lng: 108.77, lat: 28.84 } },
    institutions: [
      {
        id: 'inst-a',
        name: '甲敬老院',
        address: '重庆市测试县甲镇1号',
        location: { lng: 108.7, lat: 28.8 },
        beds: 40,
        gateways: [
          {
            id: 'gw-a-1',
            name: '甲网关',
            secret: SECRET_A,
            devices: [
              {
                id: 'smk-101',
                kind: 'fire',
                name: '101室 感烟',
                location: { building: '主楼', floor: '1F', room: '101室' },
              },
              {
                id: 'ext-1f',
                kind: 'extinguisher',
                medium: 'dry_powder',
                name: '1F 灭火器',
                location: { building: '主楼', floor: '1F', room: '走廊' },
              },
              {
                id: 'kit-1',
                kind: 'kitchen',
                name: '厨房温度',
                location: { building: '主楼', floor: '1F', room: '厨房' },
                reportIntervalS: 30,
              },
              {
                id: 'cam-gate',
                kind: 'camera',
                name: '出入口',
                location: { building: '主楼', floor: '1F', room: '出入口' },
              },
            ],
          },
        ],
        contacts: [
          { id: 'manager', name: '张三', role: 'manager', phone: '13800138000' },
          { id: 'duty', name: '李四', role: 'duty_officer', phone: '+8613800138001', wecomUserId: 'lisi' },
        ],
      },
      {
        id: 'inst-b',
        name: '乙敬老院',
        address: '重庆市测试县乙镇2号',
        location: { lng: 108.8, lat: 28.9 },
        beds: 20,
        gateways: [
          {
            id: 'gw-b-1',
            secret: SECRET_B,
            devices: [
              {
                id: 'smk-201',
                kind: 'fire',
                name: '201室 感烟',
                location: { building: '主楼', floor: '2F', room: '201室' },
              },
            ],
          },
        ],
      },
    ],
  };
}

function parse(input: CountyConfigInput): CountyConfig {
  return CountyConfigSchema.parse(input);
}

/** The registry's behaviour, identical on every dialect. */
export function registrySuite(factory: DialectFactory): void {
  let store: OpenedDatabase;
  let dispose: (() => Promise<void>) | undefined;
  let now = Date.UTC(2026, 10, 23, 8);
  const clock = () => now;

  beforeAll(async () => {
    const opened = await factory.open();
    store = opened.store;
    dispose = opened.dispose;
  });
  afterAll(async () => {
    await dispose?.();
  });

  describe('migrations', () => {
    it('apply from empty, then are a no-op', async () => {
      expect(await migrateToLatest(store.db)).toEqual(STORE_MIGRATIONS.map((m) => m.name));
      expect(await migrateToLatest(store.db)).toEqual([]);
      const tables = (await store.db.introspection.getTables()).map((t) => t.name);
      for (const t of ['counties', 'institutions', 'gateways', 'devices', 'unconfirmed_devices', 'contacts']) {
        expect(tables).toContain(t);
      }
    });

    it('enforce foreign keys', async () => {
      await expect(
        store.db
          .insertInto('gateways')
          .values({
            id: 'orphan',
            institution_id: 'nowhere',
            name: null,
            secret_hash: null,
            mosquitto_hash: null,
            enabled: 1,
            created_at: 0,
            updated_at: 0,
            credentials_rotated_at: null,
          })
          .execute(),
      ).rejects.toThrow();
    });
  });

  describe('importCounty', () => {
    let registry: Registry;
    beforeAll(() => {
      registry = new Registry(store.db, { clock });
    });

    it('creates everything on first import', async () => {
      const s = await registry.importCounty(parse(smallCounty()));
      expect(s.county.status).toBe('created');
      expect(s.institutions).toMatchObject({ created: 2, updated: 0, unchanged: 0 });
      expect(s.gateways).toMatchObject({ created: 2, updated: 0, unchanged: 0 });
      expect(s.devices).toMatchObject({ created: 5, updated: 0, unchanged: 0 });
      expect(s.contacts).toMatchObject({ created: 2, updated: 0, unchanged: 0 });
      expect(s.changes).toBe(1 + 2 + 2 + 5 + 2);
    });

    it('reports no changes and writes nothing when the same file is imported again', async () => {
      const before = await store.db
        .selectFrom('gateways')
        .select(['id', 'secret_hash', 'mosquitto_hash', 'updated_at'])
        .orderBy('id')
        .execute();
      now += 60_000;
      const s = await registry.importCounty(parse(smallCounty()));
      expect(s.changes).toBe(0);
      expect(s.county.status).toBe('unchanged');
      expect(s.institutions).toMatchObject({ created: 0, updated: 0, unchanged: 2, notInFile: [] });
      expect(s.gateways).toMatchObject({ created: 0, updated: 0, unchanged: 2, credentialsChanged: 0 });
      expect(s.devices).toMatchObject({ created: 0, updated: 0, unchanged: 5 });
      expect(s.contacts).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
      const after = await store.db
        .selectFrom('gateways')
        .select(['id', 'secret_hash', 'mosquitto_hash', 'updated_at'])
        .orderBy('id')
        .execute();
      expect(after).toEqual(before);
    });

    it('counts a renamed device as one update', async () => {
      const county = smallCounty();
      const device = county.institutions[0]?.gateways[0]?.devices?.[0];
      if (!device) throw new Error('fixture changed');
      device.name = '101室 感烟探测器（新）';
      now += 60_000;
      const s = await registry.importCounty(parse(county));
      expect(s.devices).toMatchObject({ created: 0, updated: 1, unchanged: 4 });
      expect(s.changes).toBe(1);
      const row = await store.db
        .selectFrom('devices')
        .selectAll()
        .where('gateway_id', '=', 'gw-a-1')
        .where('id', '=', 'smk-101')
        .executeTakeFirstOrThrow();
      expect(row.name).toBe('101室 感烟探测器（新）');
      expect(row.updated_at).toBe(now);
      // Back to the original file: one update again.
      expect((await registry.importCounty(parse(smallCounty()))).changes).toBe(1);
    });

    it('keeps entities missing from the file and reports them', async () => {
      const county = smallCounty();
      county.institutions[0]?.gateways[0]?.devices?.splice(3, 1); // cam-gate
      county.institutions[0]?.contacts?.splice(1, 1); // duty
      county.institutions.splice(1, 1); // inst-b and its gateway and device
      const s = await registry.importCounty(parse(county));
      expect(s.changes).toBe(0);
      expect(s.institutions.notInFile).toEqual(['inst-b']);
      expect(s.gateways.notInFile).toEqual(['gw-b-1']);
      expect(s.devices.notInFile).toEqual(['gw-a-1/cam-gate', 'gw-b-1/smk-201']);
      expect(s.contacts.notInFile).toEqual(['inst-a/duty']);
      expect(await registry.getGateway('gw-b-1')).toMatchObject({ id: 'gw-b-1', enabled: true });
      expect((await registry.deviceIndex()).has('gw-a-1/cam-gate')).toBe(true);
    });

    it('hashes gateway secrets and never stores them in clear', async () => {
      const rows = await store.db.selectFrom('gateways').selectAll().execute();
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        const dump = JSON.stringify(row);
        expect(dump).not.toContain(SECRET_A);
        expect(dump).not.toContain(SECRET_B);
        expect(row.secret_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
        expect(row.mosquitto_hash).toMatch(/^\$7\$101\$/);
      }
      // Nowhere else either.
      for (const table of ['counties', 'institutions', 'devices', 'contacts', 'unconfirmed_devices'] as const) {
        const dump = JSON.stringify(await store.db.selectFrom(table).selectAll().execute());
        expect(dump).not.toContain(SECRET_A);
      }
      const a = rows.find((r) => r.id === 'gw-a-1');
      expect(verifyMosquittoHash(SECRET_A, a?.mosquitto_hash ?? '')).toBe(true);
    });

    it('stores a given secretHash as is, with no mosquitto hash', async () => {
      const hash = await hashSecret('temporary-secret-xyz');
      const county = smallCounty();
      const gw = county.institutions[1]?.gateways[0];
      if (!gw) throw new Error('fixture changed');
      delete gw.secret;
      gw.secretHash = hash;
      const s = await registry.importCounty(parse(county));
      expect(s.gateways).toMatchObject({ updated: 1, credentialsChanged: 1 });
      const row = await store.db
        .selectFrom('gateways')
        .selectAll()
        .where('id', '=', 'gw-b-1')
        .executeTakeFirstOrThrow();
      expect(row.secret_hash).toBe(hash);
      expect(row.mosquitto_hash).toBeNull();
      expect((await registry.importCounty(parse(county))).changes).toBe(0);
      expect(await registry.verifyGateway('gw-b-1', 'temporary-secret-xyz')).toMatchObject({ id: 'gw-b-1' });
      // Back to the clear secret: both hashes are replaced.
      const back = await registry.importCounty(parse(smallCounty()));
      expect(back.gateways).toMatchObject({ updated: 1, credentialsChanged: 1 });
      expect(await registry.verifyGateway('gw-b-1', SECRET_B)).toMatchObject({ id: 'gw-b-1' });
    });
  });

  describe('gateway verification', () => {
    it('accepts the right secret and refuses a wrong one, an unknown gateway and a disabled one', async () => {
      const registry = new Registry(store.db, { clock });
      expect(await registry.verifyGateway('gw-a-1', SECRET_A)).toEqual({
        id: 'gw-a-1',
        county: 'testcounty',
        institution: 'inst-a',
        enabled: true,
      });
      expect(await registry.verifyGateway('gw-a-1', SECRET_B)).toBeNull();
      expect(await registry.verifyGateway('gw-a-1', '')).toBeNull();
      expect(await registry.verifyGateway('gw-nope', SECRET_A)).toBeNull();
      await registry.setGatewayEnabled('gw-b-1', false);
      expect(await registry.verifyGateway('gw-b-1', SECRET_B)).toBeNull();
      expect(await registry.getGateway('gw-b-1')).toMatchObject({ enabled: false });
      expect((await registry.mosquittoCredentials()).map((c) => c.gatewayId)).toEqual(['gw-a-1']);
      await registry.setGatewayEnabled('gw-b-1', true);
      expect(await registry.verifyGateway('gw-b-1', SECRET_B)).toMatchObject({ id: 'gw-b-1' });
    });

    it('caches verifications, but a credential changed by another process takes effect at once', async () => {
      const registry = new Registry(store.db, { clock });
      expect(await registry.verifyGateway('gw-a-1', SECRET_A)).not.toBeNull();
      expect(await registry.verifyGateway('gw-a-1', SECRET_A)).not.toBeNull();
      // Another process (the dashboard's admin page, another replica) replaces the stored hash:
      // this registry's cached verification no longer counts.
      const original = await store.db
        .selectFrom('gateways')
        .select(['secret_hash'])
        .where('id', '=', 'gw-a-1')
        .executeTakeFirstOrThrow();
      await store.db
        .updateTable('gateways')
        .set({ secret_hash: 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' })
        .where('id', '=', 'gw-a-1')
        .execute();
      expect(await registry.verifyGateway('gw-a-1', SECRET_A)).toBeNull();
      expect(await new Registry(store.db, { clock }).verifyGateway('gw-a-1', SECRET_A)).toBeNull();
      // Disabled elsewhere: refused at once, even with the right secret.
      await store.db
        .updateTable('gateways')
        .set({ secret_hash: original.secret_hash })
        .where('id', '=', 'gw-a-1')
        .execute();
      expect(await registry.verifyGateway('gw-a-1', SECRET_A)).not.toBeNull();
      await store.db.updateTable('gateways').set({ enabled: 0 }).where('id', '=', 'gw-a-1').execute();
      expect(await registry.verifyGateway('gw-a-1', SECRET_A)).toBeNull();
      await store.db.updateTable('gateways').set({ enabled: 1 }).where('id', '=', 'gw-a-1').execute();
      // The cache entry expires.
      now += 10 * 60_000;
      await store.db
        .updateTable('gateways')
        .set({ secret_hash: original.secret_hash })
        .where('id', '=', 'gw-a-1')
        .execute();
      expect(await registry.verifyGateway('gw-a-1', SECRET_A)).not.toBeNull();

      // Rotation through this registry: the old secret stops working at once.
      const rotated = 'rotated-secret-for-gw-a-1';
      await registry.setGatewaySecret('gw-a-1', rotated);
      expect(await registry.verifyGateway('gw-a-1', SECRET_A)).toBeNull();
      expect(await registry.verifyGateway('gw-a-1', rotated)).not.toBeNull();
      const row = await store.db
        .selectFrom('gateways')
        .selectAll()
        .where('id', '=', 'gw-a-1')
        .executeTakeFirstOrThrow();
      expect(row.credentials_rotated_at).toBe(now);
      expect(JSON.stringify(row)).not.toContain(rotated);
      expect(verifyMosquittoHash(rotated, row.mosquitto_hash ?? '')).toBe(true);

      // Re-importing the file restores the file's secret, and that invalidates the cache too.
      const s = await registry.importCounty(parse(smallCounty()));
      expect(s.gateways.credentialsChanged).toBe(1);
      expect(await registry.verifyGateway('gw-a-1', rotated)).toBeNull();
      expect(await registry.verifyGateway('gw-a-1', SECRET_A)).not.toBeNull();
    });

    it('refuses rotation of an unknown gateway and of a too-short secret', async () => {
      const registry = new Registry(store.db, { clock });
      await expect(registry.setGatewaySecret('gw-nope', 'long-enough-secret')).rejects.toMatchObject({
        code: 'ANL_ERR_GATEWAY_UNKNOWN',
      });
      await expect(registry.setGatewaySecret('gw-a-1', 'short')).rejects.toMatchObject({
        code: 'ANL_ERR_SECRET_INVALID',
      });
    });

    it('lists gateways', async () => {
      const registry = new Registry(store.db, { clock });
      const list = await registry.listGateways();
      expect(list.map((g) => [g.id, g.county, g.institution, g.enabled, g.hasCredentials])).toEqual([
        ['gw-a-1', 'testcounty', 'inst-a', true, true],
        ['gw-b-1', 'testcounty', 'inst-b', true, true],
      ]);
      expect(list[0]?.name).toBe('甲网关');
      expect(list[1]?.name).toBeNull();
    });

    it('changes its change probe when the registry changes, and only then', async () => {
      const registry = new Registry(store.db, { clock });
      const before = await registry.changeProbe();
      expect(await registry.changeProbe()).toBe(before);
      now += 1_000;
      await registry.setGatewayEnabled('gw-b-1', false);
      const disabled = await registry.changeProbe();
      expect(disabled).not.toBe(before);
      now += 1_000;
      await registry.setGatewayEnabled('gw-b-1', true);
      expect(await registry.changeProbe()).not.toBe(disabled);
      // A device deleted behind the registry's back still changes the count.
      const probe = await registry.changeProbe();
      const row = await store.db
        .selectFrom('devices')
        .selectAll()
        .where('id', '=', 'smk-201')
        .executeTakeFirstOrThrow();
      await store.db.deleteFrom('devices').where('id', '=', 'smk-201').execute();
      expect(await registry.changeProbe()).not.toBe(probe);
      await store.db.insertInto('devices').values(row).execute();
      expect(await registry.changeProbe()).toBe(probe);
    });
  });

  describe('devices', () => {
    it('reads the index page by page in key order, with every device once', async () => {
      const registry = new Registry(store.db, { clock });
      const whole = await registry.deviceIndex();
      for (const pageSize of [1, 2, 4, 5]) {
        const paged = await registry.deviceIndex(pageSize);
        expect([...paged.entries()].sort()).toEqual([...whole.entries()].sort());
      }
    });

    it('indexes confirmed devices with per-kind default report intervals', async () => {
      const index = await new Registry(store.db, { clock }).deviceIndex();
      expect(index.size).toBe(5);
      expect(index.get('gw-a-1/smk-101')).toEqual({
        countyId: 'testcounty',
        institutionId: 'inst-a',
        gatewayId: 'gw-a-1',
        deviceId: 'smk-101',
        kind: 'fire',
        name: '101室 感烟',
        reportIntervalS: 300,
        location: { building: '主楼', floor: '1F', room: '101室' },
      });
      expect(index.get('gw-a-1/ext-1f')).toMatchObject({ medium: 'dry_powder', reportIntervalS: 300 });
      expect(index.get('gw-a-1/kit-1')?.reportIntervalS).toBe(30);
      expect(index.get('gw-a-1/cam-gate')?.reportIntervalS).toBe(60);
    });

    it('records unconfirmed devices in batches and counts their messages', async () => {
      const registry = new Registry(store.db, { clock });
      const t0 = Date.UTC(2026, 10, 23, 9);
      await registry.recordUnconfirmedDevices([
        { gatewayId: 'gw-a-1', deviceId: 'smk-999', kind: 'fire', seenAt: t0 + 2000 },
        { gatewayId: 'gw-a-1', deviceId: 'smk-999', seenAt: t0 },
        { gatewayId: 'gw-a-1', deviceId: 'smk-999', seenAt: t0 + 1000 },
        { gatewayId: 'gw-b-1', deviceId: 'mystery', seenAt: t0 },
        { gatewayId: 'gw-unknown', deviceId: 'x', seenAt: t0 },
      ]);
      await registry.recordUnconfirmedDevices([
        { gatewayId: 'gw-a-1', deviceId: 'smk-999', seenAt: t0 + 5000 },
        { gatewayId: 'gw-a-1', deviceId: 'smk-999', seenAt: t0 - 5000 },
      ]);
      await registry.recordUnconfirmedDevices([]);
      const list = await registry.listUnconfirmedDevices();
      expect(list).toEqual([
        {
          countyId: 'testcounty',
          institutionId: 'inst-a',
          gatewayId: 'gw-a-1',
          deviceId: 'smk-999',
          kind: 'fire',
          firstSeenAt: t0 - 5000,
          lastSeenAt: t0 + 5000,
          messageCount: 5,
        },
        {
          countyId: 'testcounty',
          institutionId: 'inst-b',
          gatewayId: 'gw-b-1',
          deviceId: 'mystery',
          kind: null,
          firstSeenAt: t0,
          lastSeenAt: t0,
          messageCount: 1,
        },
      ]);
      expect((await registry.countySummary('testcounty')).unconfirmedDevices).toBe(2);
    });

    it('adopts an unconfirmed device when a county file registers it', async () => {
      const registry = new Registry(store.db, { clock });
      const county = smallCounty();
      county.institutions[0]?.gateways[0]?.devices?.push({
        id: 'smk-999',
        kind: 'fire',
        name: '999室 感烟',
        location: { building: '主楼', floor: '9F', room: '999室' },
      });
      const s = await registry.importCounty(parse(county));
      expect(s.devices).toMatchObject({ created: 1, adoptedFromUnconfirmed: 1 });
      expect((await registry.listUnconfirmedDevices()).map((u) => u.deviceId)).toEqual(['mystery']);
      const row = await store.db
        .selectFrom('devices')
        .selectAll()
        .where('id', '=', 'smk-999')
        .executeTakeFirstOrThrow();
      expect(row.first_seen_at).toBe(Date.UTC(2026, 10, 23, 9) - 5000);
      expect(row.last_seen_at).toBe(Date.UTC(2026, 10, 23, 9) + 5000);
    });

    it('summarises the county', async () => {
      const summary = await new Registry(store.db, { clock }).countySummary('testcounty');
      expect(summary).toEqual({
        institutions: 2,
        gateways: 2,
        devices: { total: 6, byKind: { fire: 3, extinguisher: 1, kitchen: 1, camera: 1, electrical: 0 } },
        unconfirmedDevices: 1,
      });
      expect((await new Registry(store.db).countySummary('elsewhere')).devices.total).toBe(0);
      expect((await new Registry(store.db).countySummary()).institutions).toBe(2);
    });

    it('answers ping', async () => {
      await expect(new Registry(store.db).ping()).resolves.toBeUndefined();
      const one = await sql<{ one: number }>`select 1 as one`.execute(store.db);
      expect(Number(one.rows[0]?.one)).toBe(1);
    });
  });

  describe('the demo county', () => {
    it('imports, and re-imports with no changes', async () => {
      const file = new URL('../../deploy/counties/youyang-demo.json', import.meta.url);
      const county = CountyConfigSchema.parse(JSON.parse(await readFile(file, 'utf8')));
      const registry = new Registry(store.db, { clock });
      const first = await registry.importCounty(county);
      const devices = county.institutions.reduce((n, i) => n + i.gateways.reduce((m, g) => m + g.devices.length, 0), 0);
      expect(first.devices.created).toBe(devices);
      expect(first.gateways.created).toBe(30);
      const second = await registry.importCounty(county);
      expect(second.changes).toBe(0);
      expect((await registry.countySummary('youyang')).devices.total).toBe(devices);
      const gw = county.institutions[0]?.gateways[0];
      expect(await registry.verifyGateway(gw?.id ?? '', gw?.secret ?? '')).toMatchObject({ county: 'youyang' });
    });
  });
}
