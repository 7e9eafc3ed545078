import type { BrokerOptions } from '@anlian/bus';
import type { IngestEvent } from '@anlian/protocol';
import type { AlertSignal } from '../engine/alert-signal.js';
import type { RuleSet } from '../rules/rule-schema.js';

/**
 * What the alarm thread and the bulk lane's thread tell each other (`bulk-lane.ts` explains the
 * split). Plain data only: everything crosses `postMessage` by structured clone.
 */

/** The bulk lane's thread's configuration (`workerData`): everything it needs to run on its own. */
export interface BulkLaneInit {
  /** The node's name: the bulk lane's broker session is `{broker.clientId}-bulk`, as before the split. */
  nodeId: string;
  broker: BrokerOptions;
  sessionExpirySeconds?: number;
  /** The operational store (already migrated by the node): the registry and the lane's saved state. */
  store: { dbUrl?: string | undefined; sqlitePath: string };
  /** The node's validated rules; the thread evaluates its lane's half (`laneOf`). */
  rules: RuleSet;
  tickMs: number;
  /** How often its engine state is saved when it changed. */
  snapshotMs: number;
  /** How often it reloads the device registry (a changed registry only). */
  directoryRefreshMs: number;
  /** Its engine state's name in `alerting_state`. */
  stateName: string;
  /** The one-engine state saved before the split: read once when `stateName` has none. */
  legacyStateName?: string;
  logLevel: string;
  /** How much lower its thread's CPU priority is than the alarm thread's (a nice increment; default 0). */
  nice?: number;
}

/** Alarm thread → bulk lane. */
export type ToBulkLane =
  /** Restore the saved state, forget alerts the store no longer shows open, subscribe. */
  | { type: 'start'; openKeys: string[] }
  /** An alarm-lane message (event, status, command reply): presence for absence rules, gateway wills. */
  | { type: 'input'; input: IngestEvent }
  /** A person closed the alert with this key. */
  | { type: 'closed'; key: string }
  /** Unsubscribe, save the state, close the store; answer `stopped`. */
  | { type: 'stop' };

/** Bulk lane → alarm thread. */
export type FromBulkLane =
  | { type: 'ready' }
  /** Start failed (broker or store unreachable): the thread ends after this. */
  | { type: 'failed'; error: string }
  /** Alert signals of the bulk rules, in order: they take the same path as the alarm lane's. */
  | { type: 'signals'; signals: AlertSignal[] }
  /** Every second: the thread's loop turns; how its session is, what it has taken so far. */
  | { type: 'alive'; connected: boolean; feed: string; messages: number; rejected: number }
  | { type: 'stopped' };
