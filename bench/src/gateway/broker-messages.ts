/** Parent → counting broker. */
export type BrokerCommand =
  | { type: 'listen'; port: number }
  /** Report once `count` device messages (telemetry and events) have been routed since the last `expect`. */
  | { type: 'expect'; count: number }
  | { type: 'exit' };

/** Counting broker → parent. */
export type BrokerReport =
  | { type: 'listening'; port: number }
  | { type: 'counted'; count: number; firstAt: number; lastAt: number }
  | { type: 'error'; message: string };
