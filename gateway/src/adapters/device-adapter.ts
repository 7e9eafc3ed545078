import type { AdapterHealth } from '@anlian/protocol';
import type { z } from 'zod';
import type { Clock } from '../clock.js';
import type { DeviceEntry } from '../config/gateway-config.js';
import type { Logger } from '../logger.js';
import type { ReadingSink } from './device-reading.js';

/**
 * A unit that talks to local devices in their own protocol and hands normalized readings to
 * the gateway. The constructor only assigns; `start` opens listeners, sockets and timers and
 * `stop` releases every one of them (CONVENTIONS.md §3).
 */
export interface DeviceAdapter {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Reported in every heartbeat. */
  health(): z.infer<typeof AdapterHealth>;
  /**
   * A fire alarm was just queued for the county (the camera adapter takes video-review snapshots).
   * Called after the alarm is in the queue; must return at once and never throw.
   */
  onFireAlarm?(alarm: FireAlarmNotice): void;
}

export interface FireAlarmNotice {
  device: string;
  zone: string | undefined;
  ts: number;
  seq: number;
  /**
   * Resolves once the county has acknowledged the alarm (its PUBACK); never rejects, and may never
   * resolve while the uplink is down. What documents the alarm waits for it (or a while), so
   * nothing travels the uplink ahead of — or beside — the alarm itself.
   */
  acknowledged?: Promise<void>;
}

/** What every adapter gets from the gateway. */
export interface AdapterDeps {
  sink: ReadingSink;
  clock: Clock;
  logger: Logger;
  /** The configured devices by id. */
  devices: ReadonlyMap<string, DeviceEntry>;
  /**
   * A directory in the gateway's data directory where an adapter may keep what it learnt across
   * restarts (`{dataDir}/adapter-state`; a file per adapter, named after it). Left out: nothing is kept.
   */
  stateDir?: string;
}
