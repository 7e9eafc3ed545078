/** One reading from a local device, as an adapter hands it to the gateway. */
export interface DeviceReading {
  device: string;
  /** `snapshot`: a camera's picture for the video review of a fire alarm (cameras only). */
  message: 'telemetry' | 'event' | 'snapshot';
  /** Device time, ms since the epoch, when the device says; otherwise the gateway's clock. */
  ts?: number;
  /**
   * The contract's fields without the envelope (`v`, `ts`, `seq`) and without `kind` (the
   * configured device's): `{ temperature: 36.5 }`, `{ event: 'fire', zone: '3F 东走廊' }`.
   */
  fields: Record<string, unknown>;
}

/** Why the gateway refused a reading; also a label of the rejection counts. */
export type ReadingRejectReason =
  | 'unmapped_topic'
  | 'bad_json'
  | 'unknown_device'
  | 'kind_mismatch'
  | 'bad_reading'
  | 'queue_error';

export type SubmitOutcome =
  /**
   * Accepted: `durable` resolves when the reading may be acknowledged to the device (events:
   * fsync'd; telemetry: in the queue file). `queued` is false when the full-queue policy thinned
   * it (still acknowledged: the device did nothing wrong).
   */
  { ok: true; queued: boolean; durable: Promise<void> } | { ok: false; reason: ReadingRejectReason; detail: string };

/** Where adapters deliver readings: the gateway's normalizer and queue. */
export interface ReadingSink {
  submit(reading: DeviceReading): SubmitOutcome;
}
