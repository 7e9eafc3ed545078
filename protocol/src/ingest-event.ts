import type {
  CommandReplyPayload,
  EventPayload,
  HeartbeatPayload,
  SnapshotPayload,
  StatusPayload,
  TelemetryPayload,
} from './payloads.js';
import type { GatewayAddress } from './topics.js';

interface Received extends GatewayAddress {
  /** County time of arrival, ms since epoch. */
  receivedAt: number;
}

interface FromDevice extends Received {
  device: string;
  /** False while the device is not in the registry (recorded as unconfirmed). */
  confirmed: boolean;
}

/**
 * The normalized event ingest emits to the rest of the county (alerting, dashboard): the contract
 * between them, so it lives here.
 *
 * A validated, deduplicated message as the rest of the county sees it (alerting, dashboard).
 * Emitted before the message is stored: the alarm path never waits on the storage path.
 */
export type IngestEvent =
  | ({ type: 'telemetry'; payload: TelemetryPayload } & FromDevice)
  | ({ type: 'event'; payload: EventPayload } & FromDevice)
  /**
   * A video-review snapshot, emitted once the county's media store holds it (`media` is its key
   * there); the payload's image data is left out.
   */
  | ({ type: 'snapshot'; payload: Omit<SnapshotPayload, 'data'>; media: string; bytes: number } & FromDevice)
  | ({ type: 'status'; payload: StatusPayload } & Received)
  | ({ type: 'heartbeat'; payload: HeartbeatPayload } & Received)
  | ({ type: 'command-reply'; name: string; payload: CommandReplyPayload } & Received);
