import type { MediaStore, Registry } from '@anlian/store';
import type { Supervision } from '@anlian/supervision';
import type { queryV1 } from '@anlian/timeseries';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AlertsPort } from '../alerts/alerts-port.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { UserStore } from '../auth/user-store.js';
import type { CountyLiveModel } from '../live/county-live-model.js';
import type { RegistryView } from '../registry/registry-view.js';
import type { DashboardDatabase } from '../store/dashboard-schema.js';

/** Runs one InfluxQL statement set against the county's InfluxDB (ingest's `queryV1`, bound to a target). */
export type InfluxQuery = (q: string) => ReturnType<typeof queryV1>;

/** What the HTTP routes share; built once by `buildDashboard`. */
export interface DashboardContext {
  db: Kysely<DashboardDatabase>;
  registry: Registry;
  registryView: RegistryView;
  users: UserStore;
  audit: AuditLog;
  alerts: AlertsPort;
  model: CountyLiveModel;
  queryInflux: InfluxQuery;
  logger: Logger;
  clock: () => number;
  /** Session cookies carry `Secure` (behind HTTPS). */
  secureCookies: boolean;
  /** Video-review snapshots (视频复核); none when left out. */
  media?: MediaStore;
  /** The hazard ledger, grades and inspections; absent: those routes are not served. */
  supervision: Supervision | undefined;
}
