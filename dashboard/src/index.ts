/**
 * @anlian/dashboard — the county wall screen, the institution and manager views.
 *
 * - `buildDashboard(deps)`: fastify REST (zod, OpenAPI at /api/openapi.json) + socket.io live feed
 *   + the web app, wired from ingest's store, cache and events, InfluxDB and the alert port; not started.
 * - `DASHBOARD_MIGRATIONS`: run after ingest's (and alerting's) migrations.
 * - `seedDemoUsers`: demo users and a kiosk token for `anlian up --demo`.
 * - `AlertsPort`: what the dashboard needs from alerting — alerting's own API
 *   (`@anlian/alerting/client`): in process in `anlian up`, over HTTP in the production form.
 */

export { type AlertLevel, alertLevel } from './alerts/alert-level.js';
export {
  type AlertSnapshot,
  mediaUrl,
  type SnapshotNotice,
  snapshotBelongsTo,
  snapshotWindow,
} from './alerts/alert-snapshot.js';
export * from './alerts/alerts-port.js';
export type { Principal } from './auth/principal.js';
export { type KioskTokenRecord, type NewUser, type UserRecord, UserStore } from './auth/user-store.js';
export { type DashboardConfig, DashboardConfigSchema, loadDashboardConfig } from './config.js';
export {
  buildDashboard,
  type Dashboard,
  type DashboardDeps,
  DEFAULT_WEB_ROOT,
  DEMO_COUNTY_OUTLINE,
} from './dashboard.js';
export { DEMO_PASSWORDS, type DemoUsers, seedDemoUsers } from './demo/demo-users.js';
export { DashboardError, DashboardErrorCode } from './errors.js';
export type { InfluxQuery } from './http/dashboard-context.js';
export { SESSION_COOKIE } from './http/request-principal.js';
export { DEFAULT_THRESHOLDS, type DeviceThresholds } from './live/device-thresholds.js';
export type * from './live/live-wire.js';
export { DASHBOARD_MIGRATIONS, migrateDashboard } from './store/dashboard-migrations.js';
export { type DashboardDatabase, ROLES, type Role } from './store/dashboard-schema.js';
export { hazardAuditFrom } from './supervision/hazard-audit.js';
export { type HazardNotifierOptions, hazardNotifierFrom } from './supervision/hazard-notifier.js';
