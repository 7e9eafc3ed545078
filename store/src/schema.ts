/**
 * The operational store's tables, as kysely sees them. Portable between SQLite and PostgreSQL:
 * timestamps are epoch milliseconds in `bigint` columns (`*_at`), booleans are integers 0/1,
 * coordinates are `double precision`. PostgreSQL's int8 is parsed to a JS number by
 * `openDatabase` (epoch ms and counters stay far below 2^53).
 */
export interface Database {
  counties: CountiesTable;
  institutions: InstitutionsTable;
  gateways: GatewaysTable;
  devices: DevicesTable;
  unconfirmed_devices: UnconfirmedDevicesTable;
  contacts: ContactsTable;
  sim_runs: SimRunsTable;
  media: MediaTable;
}

/** Epoch milliseconds. */
export type EpochMs = number;
/** 0 or 1: portable boolean. */
export type IntBool = 0 | 1;

export interface CountiesTable {
  id: string;
  name: string;
  /** GB/T 2260 code, six digits, kept as text so leading digits survive. */
  adcode: string;
  timezone: string;
  center_lng: number | null;
  center_lat: number | null;
  created_at: EpochMs;
  updated_at: EpochMs;
}

export interface InstitutionsTable {
  id: string;
  county_id: string;
  name: string;
  address: string;
  lng: number;
  lat: number;
  beds: number;
  created_at: EpochMs;
  updated_at: EpochMs;
}

export interface GatewaysTable {
  id: string;
  institution_id: string;
  name: string | null;
  /** `scrypt$N$r$p$salt$hash`; null for a gateway registered without credentials (cannot connect). */
  secret_hash: string | null;
  /** mosquitto 2 password-file hash (`$7$…`); null when only a `secretHash` was supplied. */
  mosquitto_hash: string | null;
  enabled: IntBool;
  created_at: EpochMs;
  updated_at: EpochMs;
  credentials_rotated_at: EpochMs | null;
}

export interface DevicesTable {
  gateway_id: string;
  id: string;
  /** Denormalised from the gateway so per-institution queries need no join. */
  institution_id: string;
  kind: string;
  name: string;
  medium: string | null;
  building: string;
  floor: string;
  room: string;
  /** Null: the protocol's per-kind default applies. */
  report_interval_s: number | null;
  /** 1 for devices from a county file; 0 reserved for devices adopted without an admin's confirmation. */
  confirmed: IntBool;
  first_seen_at: EpochMs | null;
  last_seen_at: EpochMs | null;
  created_at: EpochMs;
  updated_at: EpochMs;
}

export interface UnconfirmedDevicesTable {
  gateway_id: string;
  device_id: string;
  kind: string | null;
  first_seen_at: EpochMs;
  last_seen_at: EpochMs;
  message_count: number;
}

export interface ContactsTable {
  institution_id: string;
  id: string;
  name: string;
  role: string;
  phone: string;
  wecom_user_id: string | null;
  dingtalk_user_id: string | null;
  created_at: EpochMs;
  updated_at: EpochMs;
}

/** A simulation run whose points carry the InfluxDB tag `sim_run` = `id` (design.md, Simulated time). */
export interface SimRunsTable {
  id: string;
  county_id: string;
  /** `history`: a generated stretch of history; `live`: an accelerated simulator run. */
  kind: string;
  seed: number;
  starts_at: EpochMs;
  ends_at: EpochMs;
  description: string;
  /** Null while the run is being written. */
  completed_at: EpochMs | null;
  created_at: EpochMs;
}

/** A video-review picture and what is known about it (`media/database-media-store.ts`). */
export interface MediaTable {
  /** `{institution}/{yyyymmdd}/{id}.jpg`. */
  key: string;
  county_id: string;
  institution_id: string;
  gateway_id: string;
  /** The camera. */
  device_id: string;
  content_type: 'image/jpeg';
  bytes: number;
  width: number | null;
  height: number | null;
  /** The fire alarm it documents: detector, its device time and zone. */
  cause_device: string;
  cause_ts: EpochMs;
  cause_zone: string | null;
  shot: number;
  /** Device time of the picture. */
  ts: EpochMs;
  received_at: EpochMs;
  /** The JPEG: bytea on PostgreSQL, blob on SQLite; a Buffer either way. */
  data: Buffer;
}
