import type { IngestEvent } from '@anlian/protocol';

/** What the engine consumes: the normalized event ingest emits (protocol's `IngestEvent`). */
export type AlertInput = IngestEvent;

export type DeviceInput = Extract<AlertInput, { type: 'telemetry' | 'event' }>;
