import type {
  CommandReplyPayload,
  EventPayload,
  GatewayAddress,
  HeartbeatPayload,
  StatusPayload,
  TelemetryPayload,
} from '@anlian/protocol';

/**
 * What the engine consumes: structurally the ingest's `IngestEvent` (ingest/src/pipeline/
 * ingest-event.ts), restated here so that alerting does not depend on the ingest package. An
 * `IngestEvent` is assignable to `AlertInput`; keep the two in step.
 */
interface Received extends GatewayAddress {
  /** County time of arrival, ms since epoch: the engine's clock for everything it raises. */
  receivedAt: number;
}

interface FromDevice extends Received {
  device: string;
  /** False while the device is not in the registry; such devices are not watched for absence. */
  confirmed?: boolean;
}

export type AlertInput =
  | ({ type: 'telemetry'; payload: TelemetryPayload } & FromDevice)
  | ({ type: 'event'; payload: EventPayload } & FromDevice)
  | ({ type: 'status'; payload: StatusPayload } & Received)
  | ({ type: 'heartbeat'; payload: HeartbeatPayload } & Received)
  | ({ type: 'command-reply'; name: string; payload: CommandReplyPayload } & Received);

export type DeviceInput = Extract<AlertInput, { type: 'telemetry' | 'event' }>;
