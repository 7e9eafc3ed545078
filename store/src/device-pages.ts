import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ExpressionBuilder, Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from './schema.js';

type DeviceQuery<Row> = SelectQueryBuilder<
  Database & { devices: Database['devices'] },
  'devices' | 'institutions',
  Row
>;

/**
 * Every row of a query over `devices` (joined with `institutions`), read in pages of `pageSize`
 * in key order (gateway, device) with the event loop let go between pages. With SQLite a query
 * runs on the event loop that reads ingest's sockets: a county's 50,000 devices in one query held
 * it for ~0.5 s, and ingest and alerting reload them after every registry change — a fire alarm
 * arriving then waited that long.
 */
export async function readDevicePages<Row extends { gateway_id: string; id: string }, DB extends Database = Database>(
  store: Kysely<DB>,
  query: (q: DeviceQuery<object>) => DeviceQuery<Row>,
  pageSize = 2000,
): Promise<Row[]> {
  // Only the registry's tables are read: a store with more tables (alerting's) is one of these.
  const db = store as unknown as Kysely<Database>;
  const rows: Row[] = [];
  let after: Row | undefined;
  for (;;) {
    let q = query(db.selectFrom('devices').innerJoin('institutions', 'institutions.id', 'devices.institution_id'));
    if (after) {
      const { gateway_id: gateway, id: device } = after;
      q = q.where((eb: ExpressionBuilder<Database, 'devices' | 'institutions'>) =>
        eb.or([
          eb('devices.gateway_id', '>', gateway),
          eb.and([eb('devices.gateway_id', '=', gateway), eb('devices.id', '>', device)]),
        ]),
      );
    }
    const page = await q.orderBy('devices.gateway_id').orderBy('devices.id').limit(pageSize).execute();
    for (const r of page) rows.push(r);
    after = page.at(-1);
    if (!after || page.length < pageSize) return rows;
    await nextTurn();
  }
}
