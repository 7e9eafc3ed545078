import type { FaultFired, SimTopicType } from '../generator/sim-step.js';

/** A live snapshot of a running simulation. */
export interface SimStats {
  /** Simulated start and now, ms since the epoch. */
  simStartMs: number;
  simNowMs: number;
  /** Real milliseconds since `start()`. */
  realElapsedMs: number;
  speed: number;
  gateways: number;
  devices: number;
  /** Gateways with an open MQTT connection right now. */
  connected: number;
  /** Publishes handed to the MQTT clients (duplicates included). */
  sent: number;
  /** Of those, acknowledged by the broker (PUBACK). */
  acked: number;
  failed: number;
  byType: Record<SimTopicType, number>;
  duplicates: number;
  /** Scenario faults that have started, of how many. */
  faultsFired: number;
  faultsTotal: number;
  /** Scheduled connection drops executed (scenario `gateway-drop`). */
  drops: number;
  connectErrors: number;
  /** Telemetry the simulated gateways discarded (power loss, full store-and-forward queue). */
  lost: number;
}

export type EndReason = 'duration' | 'scenario-end' | 'stopped';

/** What a run did, for the summary and for tests. */
export interface SimSummary extends SimStats {
  reason: EndReason;
  /** Every fault start and end, in order. */
  faults: FaultFired[];
  /** Distinct error messages with their counts and the gateways they hit, most frequent first (at most 20). */
  errors: { message: string; count: number; gateways: string[] }[];
}

export function emptyByType(): Record<SimTopicType, number> {
  return { status: 0, heartbeat: 0, telemetry: 0, event: 0 };
}
