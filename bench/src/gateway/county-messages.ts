/** Parent → the camera phase's county process. */
export type CountyCommand = { type: 'exit' };

/** The camera phase's county process → parent. Times are `Date.now()` on the same machine. */
export type CountyReport =
  | { type: 'ready'; brokerUrl: string; base: string; cookie: string }
  /** Ingest had a fire alarm (its receive time). */
  | { type: 'fire'; detector: string; at: number }
  /** Alerting raised an alert for a detector. */
  | { type: 'raised'; detector: string; at: number }
  /** A camera's telemetry showed a newly decoded frame: a diagnosis read its stream. */
  | { type: 'diagnosed'; camera: string; at: number }
  /** A camera reported a problem (none is expected of healthy simulated cameras). */
  | { type: 'camera-event'; camera: string; event: string }
  | { type: 'error'; message: string };
