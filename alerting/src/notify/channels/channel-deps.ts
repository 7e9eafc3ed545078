import type { Logger } from 'pino';
import type { NotificationStream } from './notification-stream.js';

/** What channels need from outside; all injectable so tests can point them at loopback servers. */
export interface ChannelDeps {
  /** Default: Node's global fetch (undici, keep-alive). */
  fetch?: typeof fetch;
  /** ms since epoch; signatures carry it and escalation wording counts from it. Default `Date.now`. */
  clock?: () => number;
  /** Required by `stream` channels: the fan-out the dashboard subscribes to. */
  stream?: NotificationStream;
  logger?: Logger;
  /** Nonces for signatures. Default `crypto.randomUUID`. */
  nonce?: () => string;
}
