import type { LoopDelay, ProbeGateway } from './alarm-messages.js';

/** Parent → the gateway prober (`--via-gateway`). */
export type HopProberCommand =
  | {
      type: 'init';
      /** The gateway's LAN broker (its lan-mqtt adapter), where the simulated sensors publish. */
      lanUrl: string;
      /** The county broker, for the plain subscriber on the gateway's forwarded topics. */
      countyUrl: string;
      gateway: ProbeGateway;
      /** How long to wait for the gateway: its LAN broker listening and its `online` at the county. */
      startTimeoutMs: number;
    }
  | { type: 'run'; durationMs: number; minIntervalMs: number; maxIntervalMs: number; settleMs: number }
  | { type: 'exit' };

/**
 * One fire alarm a simulated detector published on the gateway's LAN broker. Times are
 * `Date.now()` in ms on one machine; 0 = never seen.
 */
export interface HopProbeRecord {
  gateway: string;
  device: string;
  /** Stamped just before `publish()` on the LAN broker; also the reading's `ts`. */
  publishedAt: number;
  /** The LAN broker's PUBACK: the gateway has the alarm in its queue, fsync'd (lan-mqtt adapter). */
  lanAckedAt: number;
  /** A plain subscriber on the LAN broker (`sensors/+/event`) received it. */
  lanDeliveredAt: number;
  /** A plain subscriber on the county broker received the gateway's forward of it. */
  countyDeliveredAt: number;
}

/** The gateway prober → parent. */
export type HopProberReport =
  | { type: 'ready'; connectMs: number; gatewayOnlineMs: number }
  | { type: 'progress'; published: number; countyDelivered: number }
  | { type: 'done'; probes: HopProbeRecord[]; loopDelay: LoopDelay }
  | { type: 'error'; message: string };
