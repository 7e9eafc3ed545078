export { type RegistryTable, registryChangeProbe } from './change-probe.js';
export {
  type EntityChanges,
  type ImportResult,
  type ImportSummary,
  importCountyConfig,
} from './county-import.js';
export {
  isPostgresUrl,
  type OpenDatabaseOptions,
  type OpenedDatabase,
  openDatabase,
  type StoreDialect,
} from './database.js';
export { buildDemoCounty, DEMO_COUNTY_COMMENT } from './demo-county.js';
export { readDevicePages } from './device-pages.js';
export { StoreError, StoreErrorCode } from './errors.js';
export { type AttemptOutcome, FailureLimiter, type FailureLimiterOptions } from './failure-limiter.js';
export type { GatewayDirectory, GatewayIdentity, VerifyGatewayOptions } from './gateway-directory.js';
export { type JsonErrorPosition, jsonErrorPosition } from './json-error-position.js';
export { stringifyInSlices } from './json-in-slices.js';
export { DatabaseMediaStore } from './media/database-media-store.js';
export { FilesystemMediaStore } from './media/filesystem-media-store.js';
export {
  DEFAULT_MEDIA_RETENTION_DAYS,
  isMediaKey,
  type MediaRecord,
  type MediaStore,
  mediaKey,
  type NewMedia,
} from './media/media-store.js';
export { openMediaStore } from './media/open-media-store.js';
export { migrateToLatest, type NamedMigration, STORE_MIGRATIONS, StaticMigrationProvider } from './migrate.js';
export {
  type LeaseChange,
  type PartitionLeases,
  PgAdvisoryLeases,
  type PgAdvisoryLeasesOptions,
  partitionOf,
  SoleLeases,
} from './partition-leases.js';
export {
  type CountySummary,
  type DeviceLocationRecord,
  type DeviceRecord,
  type GatewayRecord,
  type MosquittoCredential,
  Registry,
  type RegistryOptions,
  type UnconfirmedDeviceRecord,
  type UnconfirmedDeviceSighting,
} from './registry.js';
export type * from './schema.js';
export {
  hashSecret,
  MOSQUITTO_PBKDF2,
  mosquittoHash,
  parseSecretHash,
  SCRYPT_PARAMS,
  verifyMosquittoHash,
  verifySecret,
} from './secret-hash.js';
export { CountyFileError, readCountyFile, type SeedOptions, seedCounty } from './seed-command.js';
export { neutraliseFormula, restoreNeutralised } from './spreadsheet-cell.js';
export { describeStore, openStore, StoreEnv, type StoreLocation, storeLocation } from './store-env.js';
export { VerificationGate, type VerificationGateOptions } from './verification-gate.js';
